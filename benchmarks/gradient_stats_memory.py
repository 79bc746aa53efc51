"""Peak extra memory of GradientStatsLogger: a Dense(100000) layer, and ResNet50.

Each fit runs in its own subprocess under an address-space cap (`--cap-gb`),
without and with the logger (defaults), in turns. A thread samples the
process's resident memory (RSS) every 2 ms; the peak RSS during `fit` minus
the RSS just before it is the fit's memory, and the difference between the
two configurations is the logger's. Models (Adam, batch 64, 2 epochs of 4
steps, random data, so both measured steps and the steps kept before them
occur):

* `dense`: 784 -> Dense(100000, relu) -> Dense(10): 79.5 M weights, most in
  one variable;
* `resnet50`: keras.applications.ResNet50, weights=None, 32x32x3 inputs,
  10 classes: 23.6 M weights in 214 variables.

The logger documents 10 bytes per weight, and as much again for a moment
at a measured step; the printed "expected" is the 10 bytes.

    python benchmarks/gradient_stats_memory.py [--repeats 1] [--cap-gb 12] [--models dense,resnet50]
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

MB = 2 ** 20
QUICK_ARGS = ["--models", "dense"]
MEMORY_CAP_GB = None  # Each fit runs under its own cap (--cap-gb).


def build(name):
    import keras

    if name == "dense":
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(100000, activation="relu"),
                                  keras.layers.Dense(10)])
        shape = (784,)
    else:
        model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
        shape = (32, 32, 3)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=name == "dense"))
    return model, shape


def child(name, with_logger):
    """One fit; prints JSON with its RSS figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import nnviz_tb

    keras.utils.set_random_seed(0)
    model, shape = build(name)
    rng = np.random.default_rng(0)
    x = rng.random((256,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    with tempfile.TemporaryDirectory() as log_dir:
        callbacks = [nnviz_tb.GradientStatsLogger(log_dir)] if with_logger else []
        before = rss_bytes()
        with PeakRss() as peak:
            model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=callbacks)
    print(json.dumps({"before": before, "peak": peak.peak, "weights": model.count_params()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cap-gb", type=float, default=12)
    parser.add_argument("--models", default="dense,resnet50")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1] == "1")
    cap = int(args.cap_gb * 2 ** 30)
    rows = []
    for name in args.models.split(","):
        runs = {False: [], True: []}
        errors = []
        for _ in range(args.repeats):
            for with_logger in (False, True):
                result, error = run_capped([sys.executable, __file__, "--child", name, str(int(with_logger))], cap)
                runs[with_logger].append(result)
                errors += [error] if error else []
        measurement, target = "%s, extra peak RSS" % name, "bounded: fits under %g GB" % args.cap_gb
        if errors:
            print("\n== %s: failed under a %.0f GB cap: %s" % (name, args.cap_gb, errors))
            rows.append(failed(measurement, "MB", target))
            continue
        fit = {k: min((r["peak"] - r["before"]) / MB for r in rs) for k, rs in runs.items()}
        peak = {k: min(r["peak"] / MB for r in rs) for k, rs in runs.items()}
        weights = runs[False][0]["weights"]
        print("\n== %s (%.1f M weights), cap %.0f GB, lowest of %d" % (name, weights / 1e6, args.cap_gb, args.repeats))
        print("%-22s%16s%16s" % ("config", "peak RSS MB", "fit extra MB"))
        for with_logger, label in ((False, "baseline"), (True, "GradientStatsLogger")):
            print("%-22s%16.0f%16.0f" % (label, peak[with_logger], fit[with_logger]))
        extra = fit[True] - fit[False]
        print("logger's extra: %.0f MB = %.1f bytes per weight (documented: 10, expected %.0f MB)"
              % (extra, extra * MB / weights, 10 * weights / MB), flush=True)
        rows += [row(measurement, extra, "MB", target, True),
                 row("%s, extra bytes per weight (documented: 10)" % name, extra * MB / weights, "B")]
    report(rows)


if __name__ == "__main__":
    main()
