"""Peak memory of CorrelationLogger on a Dense(100000) layer and on ResNet50 (32 x 32, weights=None).

ResNet50 with the default layers, and with all its layers (`resnet50_all`).

Each fit runs in its own subprocess under a memory cap (`--cap-gb` of
address space, as `prlimit --as` sets it), with and without the logger:
2,000 probe points (random inputs, 10 classes), 300 augmentations, records
at epoch 0 and after each of `--epochs` epochs of 512 training samples.
The peak resident memory of the process (VmHWM) is printed for both, and
the difference: the logger's extra memory. A fit that dies under the cap
prints its error instead.

    python benchmarks/correlation_logger_memory.py [--cap-gb 12] [--epochs 2] [--probe-size 2000]
"""

import argparse
import json
import os
import sys
import tempfile
import time

from _common import run_capped
from _report import failed, report, row

MODELS = ("dense100000", "resnet50", "resnet50_all")
QUICK_ARGS = ["--models", "dense100000", "resnet50", "--epochs", "1", "--probe-size", "500"]
MEMORY_CAP_GB = None  # Each fit runs under its own cap (--cap-gb).


def peak_rss_mb():
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def child(model_name, with_logger, probe_size, epochs):
    """One fit; prints JSON with its peak RSS and wall time."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    import nnviz_tb

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if model_name == "dense100000":
        shape = (784,)
        model = keras.Sequential([keras.Input(shape), keras.layers.Dense(100000, activation="relu", name="wide"),
                                  keras.layers.Dense(10, activation="softmax", name="output")])
    else:
        shape = (32, 32, 3)
        model = keras.applications.ResNet50(weights=None, input_shape=shape, classes=10)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.uniform(size=(512,) + shape).astype("float32")
    y = np.arange(512) % 10
    probe = (rng.uniform(size=(probe_size,) + shape).astype("float32"), np.arange(probe_size) % 10)
    layers = [layer.name for layer in model.layers[1:]] if model_name.endswith("_all") else None
    with tempfile.TemporaryDirectory() as log_dir:
        callbacks = [nnviz_tb.CorrelationLogger(log_dir, probe=probe, layers=layers)] if with_logger else []
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks)
        seconds = time.perf_counter() - start
    print(json.dumps({"peak_mb": peak_rss_mb(), "seconds": seconds}))


def run_child(model_name, with_logger, args):
    command = [sys.executable, os.path.abspath(__file__), "--child", model_name, str(int(with_logger)),
               "--probe-size", str(args.probe_size), "--epochs", str(args.epochs)]
    return run_capped(command, int(args.cap_gb * 1e9))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cap-gb", type=float, default=12.0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--probe-size", type=int, default=2000)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], bool(int(args.child[1])), args.probe_size, args.epochs)
        return
    rows = []
    for model_name in args.models:
        results = {}
        for with_logger in (False, True):
            results[with_logger], error = run_child(model_name, with_logger, args)
            if error:
                print("%s %s the logger: failed under a %.0f GB cap: %s"
                      % (model_name, "with" if with_logger else "without", args.cap_gb, error), flush=True)
        measurement = "%s, %d probe points, extra peak RSS" % (model_name, args.probe_size)
        target = "bounded: fits under %g GB" % args.cap_gb
        if results[False] and results[True]:
            base, logged = results[False], results[True]
            rows += [row(measurement, logged["peak_mb"] - base["peak_mb"], "MB", target, True),
                     row("%s, fit time with the logger" % model_name, logged["seconds"] / base["seconds"], "x")]
            print("%s, %d probe points, cap %.0f GB: peak RSS %.0f MB without the logger, %.0f MB with it "
                  "(+%.0f MB); fit %.0f s / %.0f s" % (
                      model_name, args.probe_size, args.cap_gb, base["peak_mb"], logged["peak_mb"],
                      logged["peak_mb"] - base["peak_mb"], base["seconds"], logged["seconds"]), flush=True)
        else:
            rows.append(failed(measurement, "MB", target))
    report(rows)


if __name__ == "__main__":
    main()
