"""Latency of the nnviz tab's /projection route on a 5,000-point probe.

Trains a small MLP on scikit-learn's digits, tiled and jittered to 5,000
probe points, with ActivationLogger; serves the run through the plugin's
WSGI app (werkzeug's test client, TensorBoard's Python data provider);
computes the PCA and t-SNE projections of one layer once; then times 20
cached requests of each (the full HTTP handling: routing, JSON encoding).

    python benchmarks/projection_route_latency.py [--points 5000] [--repeats 20]
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from tensorboard.backend import application  # noqa: E402
from tensorboard.backend.event_processing import data_provider  # noqa: E402
from tensorboard.backend.event_processing import plugin_event_multiplexer  # noqa: E402
from tensorboard.plugins import base_plugin  # noqa: E402
from werkzeug import test as werkzeug_test  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import at_most, report, row  # noqa: E402
from nnviz_tb import datasets  # noqa: E402

QUICK_ARGS = ["--points", "1000", "--repeats", "5"]
CACHED_LIMIT_MS = 100
ROUTE = "/data/plugin/nnviz/projection?run=mlp&layer=dense_32&epoch=%d&method=%s"


def write_run(log_dir, points, epochs):
    """Trains on the digits; the probe is the digits tiled and jittered to `points`."""
    keras.utils.set_random_seed(0)
    x, y = datasets.load_digits_dataset()
    rng = np.random.default_rng(0)
    index = np.arange(points) % len(x)
    probe_x = np.clip(x[index] + rng.normal(0, 0.05, (points, x.shape[1])), 0, 1).astype(np.float32)
    model = keras.Sequential(
        [keras.Input((64,))]
        + [keras.layers.Dense(n, activation="relu", name="dense_%d" % n) for n in (64, 32, 16)]
        + [keras.layers.Dense(10, activation="softmax", name="output")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.ActivationLogger(log_dir, probe=(probe_x, y[index]))
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[logger])


def make_client(logdir):
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    from nnviz_tb.plugin import nnviz_plugin

    plugin = nnviz_plugin.NnvizPlugin(base_plugin.TBContext(data_provider=provider, logdir=logdir))
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin], data_provider=provider))


def get_ready(client, path):
    """GETs `path` until it answers 200; returns the seconds it took and the body."""
    start = time.perf_counter()
    while True:
        response = client.get(path)
        if response.status_code == 200:
            return time.perf_counter() - start, json.loads(response.get_data())
        if response.status_code != 202:
            raise RuntimeError("%s: %s %s" % (path, response.status_code, response.get_data()[:500]))
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        os.environ["NNVIZ_TB_CACHE_DIR"] = os.path.join(root, "cache")
        start = time.perf_counter()
        write_run(os.path.join(root, "logs", "mlp"), args.points, args.epochs)
        print("wrote a run with %d probe points in %.1f s" % (args.points, time.perf_counter() - start))
        client = make_client(os.path.join(root, "logs"))
        epoch = args.epochs
        rows = []
        for method in ("pca", "tsne"):
            seconds, body = get_ready(client, ROUTE % (epoch, method))
            assert len(body["points"]) == args.points
            print("%-4s first request until ready (computes): %8.1f ms" % (method, seconds * 1e3))
            times = [get_ready(client, ROUTE % (epoch, method))[0] for _ in range(args.repeats)]
            print("%-4s cached request: median of %d %6.1f ms (min %.1f, max %.1f) -- target < 100 ms"
                  % (method, args.repeats, np.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3))
            name = "%s, %d points" % (method, args.points)
            rows += [row(name + ", first request until ready", seconds, "s"),
                     at_most(name + ", cached request (median)", np.median(times) * 1e3, "ms", CACHED_LIMIT_MS)]
        # A restarted TensorBoard: empty memory cache, projections found on disk.
        client = make_client(os.path.join(root, "logs"))
        for method in ("pca", "tsne"):
            seconds, _ = get_ready(client, ROUTE % (epoch, method))
            print("%-4s after a restart (disk cache): %6.1f ms" % (method, seconds * 1e3))
            rows.append(row("%s, %d points, after a restart (disk cache)" % (method, args.points), seconds * 1e3, "ms"))
    report(rows)


if __name__ == "__main__":
    main()
