"""EmbeddingLogger on the MNIST MLP (784-256-128-64-32-10): training-time cost, and the Projector's first load.

1. Epoch time: 8,000 training images (batch 64), a 5,000-image probe (the
   last 5,000 MNIST test images, 3,000 of them also trained on), 3 layers
   (dense_256, dense_128, dense_64) recorded every epoch, next to the same
   fits without the logger, interleaved round after round (round 0 warms
   up); steady-state epochs (start to next start, first dropped) compared
   as in `activation_logger_overhead.py`. The machine's other programs
   disturb these ratios, so the parts of one record are also timed
   alone (median of 5): the copy of the weights (training thread), the
   forward pass and the files (writer thread, CPU time, while training goes
   on), and compared with the fastest baseline epoch.
2. The Projector's first load: a run of `--epochs` recorded epochs served
   by a fresh `tensorboard` process; the routes the Projector tab calls to
   show one embedding (runs, info, tensor, metadata, sprite_image) timed
   once each, in that order, over HTTP. The first `runs` call includes
   TensorBoard reading the config (which reads every tensor file listed).

    python benchmarks/embedding_overhead.py [--rounds 4] [--epochs 9]
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import at_most, report, row  # noqa: E402
from activation_logger_overhead import compare, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402
from nnviz_tb import datasets, projector  # noqa: E402

QUICK_ARGS = ["--rounds", "2", "--epochs", "4"]
LAYERS = ["dense_256", "dense_128", "dense_64"]
PROBE_SIZE = 5000
ROUTES = ("runs", "info", "tensor", "metadata", "sprite_image")


def named_mlp():
    """The MNIST MLP of examples/mnist_mlp.py (its layers named by their widths), compiled."""
    model = keras.Sequential(
        [keras.Input((784,))]
        + [keras.layers.Dense(n, activation="relu", name="dense_%d" % n) for n in (256, 128, 64, 32)]
        + [keras.layers.Dense(10, activation="softmax", name="output")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def record_cost(probe, repeats=5):
    """Median seconds of one record's parts: the copy of the weights (training thread), the forward
    pass and the CPU seconds of writing its files (writer thread)."""
    with tempfile.TemporaryDirectory() as log_dir:
        logger = nnviz_tb.EmbeddingLogger(log_dir, probe=probe, layers=LAYERS)
        logger.set_model(named_mlp())
        writer = projector.ProjectorWriter(log_dir, logger.class_names, resume=False)
        copy, forward, files = [], [], []
        for step in range(repeats + 1):  # The first traces the forward pass.
            start = time.perf_counter()
            weights = logger._outputs.snapshot()
            copied = time.perf_counter()
            activations, predictions = logger._outputs(logger.probe_x, logger._columns, weights)
            middle, cpu = time.perf_counter(), time.thread_time()
            writer.write_epoch(step, LAYERS, activations, logger.probe_labels, predictions)
            if step:
                copy.append(copied - start)
                forward.append(middle - copied)
                files.append(time.thread_time() - cpu)
    return np.median(copy), np.median(forward), np.median(files)


def _get(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def first_load(logdir, tensor_name):
    """Seconds of each Projector route's first call on a fresh `tensorboard` serving `logdir`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = "http://127.0.0.1:%d" % port
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                _get(base + "/data/environment")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("tensorboard did not start")
                time.sleep(0.2)
        query = "?" + urllib.parse.urlencode({"run": "mlp", "name": tensor_name})
        seconds = {}
        for route in ROUTES:
            start = time.perf_counter()
            body = _get(base + "/data/plugin/projector/" + route + ("" if route == "runs" else query))
            seconds[route] = time.perf_counter() - start
            print("  %-13s %7.1f ms, %9d bytes" % (route, seconds[route] * 1e3, len(body)), flush=True)
        return seconds
    finally:
        server.terminate()
        server.wait(30)


def main():
    args = parse_args(__doc__.split("\n")[0])
    train, _ = mnist_mlp_data(args.data_dir)
    _, (probe_x, probe_y) = datasets.mnist_split(args.data_dir, 8000, PROBE_SIZE)
    probe = (probe_x.reshape(-1, 784), probe_y)
    copy, forward, files = record_cost(probe)
    print("one record: copy of the weights %.1f ms (training thread); forward pass %.1f ms, files %.1f ms CPU "
          "(writer thread)" % (copy * 1e3, forward * 1e3, files * 1e3), flush=True)
    configs = {
        "baseline": lambda d: [],
        "EmbeddingLogger": lambda d: [nnviz_tb.EmbeddingLogger(d, probe=probe, layers=LAYERS)],
    }
    times = compare(configs, train, args.rounds, args.epochs, model_fn=named_mlp)
    rows = overhead_rows(times, "MNIST MLP, 5,000 probe points, 3 layers", {"EmbeddingLogger": 1.05})
    fastest = times["baseline"][:, 0].min()
    rows += [row("one record, copy of the weights (training thread)", copy * 1e3, "ms"),
             row("one record, forward pass (writer thread)", forward * 1e3, "ms"),
             row("one record, files (writer thread CPU)", files * 1e3, "ms"),
             row("one record (all parts) / fastest baseline epoch", 1 + (copy + forward + files) / fastest, "x")]

    with tempfile.TemporaryDirectory() as root:
        keras.utils.set_random_seed(0)
        model = named_mlp()
        logger = nnviz_tb.EmbeddingLogger(os.path.join(root, "mlp"), probe=probe, layers=LAYERS)
        model.fit(*train, batch_size=64, epochs=args.epochs, verbose=0, callbacks=[logger])
        tensor_name = "dense_256 @ epoch %03d" % args.epochs
        print("Projector's first load of %r (%d recorded epochs x %d layers):"
              % (tensor_name, args.epochs + 1, len(LAYERS)), flush=True)
        seconds = first_load(root, tensor_name)
    rows += [row("Projector first load, %s route" % route, seconds[route] * 1e3, "ms") for route in ROUTES]
    rows.append(at_most("Projector first load of one embedding, all routes", sum(seconds.values()), "s", 1.0))
    report(rows)


if __name__ == "__main__":
    main()
