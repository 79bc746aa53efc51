"""Peak memory of ActivationLogger on a Dense(100000) layer and on ResNet50 (32x32, weights=None).

Each fit (one epoch on a few hundred random samples, probe of 2,000 points)
runs in its own subprocess under an address-space cap, with and without the
callback, in turns. Peak RSS is sampled as in `activation_logger_memory.py`;
the extra is the median growth with the logger minus the median without.

    python benchmarks/activation_logger_wide_layers.py [--repeats 1] [--probe-size 2000] [--cap-gb 16]
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np

from _common import run_capped
from _report import failed, report, row
from activation_logger_memory import PeakRss, rss_bytes

MODELS = ("dense100k", "resnet50")
QUICK_ARGS = ["--probe-size", "1000"]
MEMORY_CAP_GB = None  # Each fit runs under its own cap (--cap-gb).


def build(name):
    import keras

    if name == "resnet50":
        model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
        shape = (32, 32, 3)
    else:
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(100_000, activation="relu", name="wide"),
                                  keras.layers.Dense(10, activation="softmax", name="out")])
        shape = (64,)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model, shape


def child(name, with_logger, probe_size, train_size):
    """One fit; prints JSON with its RSS figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import nnviz_tb

    keras.utils.set_random_seed(0)
    model, shape = build(name)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(train_size,) + shape).astype("float32")
    y = rng.integers(0, 10, train_size)
    probe = (rng.normal(size=(probe_size,) + shape).astype("float32"), rng.integers(0, 10, probe_size))
    model.fit(x[:32], y[:32], epochs=1, verbose=0)  # Warm up (traced once).
    with tempfile.TemporaryDirectory() as log_dir:
        before = rss_bytes()
        with PeakRss() as peak:
            callbacks = [nnviz_tb.ActivationLogger(log_dir, probe=probe)] if with_logger else []
            model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=callbacks)
        layers = len(callbacks[0]._outputs.names) if with_logger else 0
        size = sum(os.path.getsize(os.path.join(log_dir, f)) for f in os.listdir(log_dir))
    print(json.dumps({"before": before, "peak": peak.peak, "layers": layers, "bytes": size}))


def run_child(name, config, args):
    command = [sys.executable, __file__, "--child", config, "--model", name,
               "--probe-size=%d" % args.probe_size, "--train-size=%d" % args.train_size]
    return run_capped(command, int(args.cap_gb * 2**30))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--probe-size", type=int, default=2000)
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--cap-gb", type=float, default=16.0, help="address-space cap of each fit")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["with", "without"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.model, args.child == "with", args.probe_size, args.train_size)

    rows = []
    for name in args.models:
        growth = {"without": [], "with": []}
        for r in range(args.repeats):
            for config in ("without", "with"):
                result, error = run_child(name, config, args)
                if error:
                    print("%-9s repeat %d, %-7s logger: failed under a %.0f GB cap: %s"
                          % (name, r + 1, config, args.cap_gb, error), flush=True)
                    continue
                growth[config].append((result["peak"] - result["before"]) / 2**20)
                print("%-9s repeat %d, %-7s logger: peak RSS %6.0f MB (+%5.0f MB during fit)%s"
                      % (name, r + 1, config, result["peak"] / 2**20, growth[config][-1],
                         ", %d layers, %.1f MB of event files" % (result["layers"], result["bytes"] / 1e6)
                         if config == "with" else ""), flush=True)
                if config == "with":
                    event_mb = result["bytes"] / 1e6
        measurement = "%s, %d probe points, extra peak RSS" % (name, args.probe_size)
        target = "bounded: fits under %g GB" % args.cap_gb
        if growth["with"] and growth["without"]:
            extra = np.median(growth["with"]) - np.median(growth["without"])
            print("%-9s extra peak memory of ActivationLogger at %d probe points: %.0f MB (median)\n"
                  % (name, args.probe_size, extra))
            rows += [row(measurement, extra, "MB", target, True), row("%s, event files" % name, event_mb, "MB")]
        else:
            rows.append(failed(measurement, "MB", target))
    report(rows)


if __name__ == "__main__":
    main()
