"""Set-up time of GradientStatsLogger on keras.applications CNNs (MobileNetV2, ResNet50).

The logger adds its ops to the training step, so `fit` traces and compiles
a bigger graph. Each fit runs in its own fresh subprocess (no trace or XLA
cache shared), with and without the logger in turns (`--rounds` of each):
`weights=None`, 32x32x3 random images, 10 classes, batch 32, Adam, two
epochs of `--steps` steps. Printed per configuration: the time from the
call of `fit` to the end of the first epoch (tracing, compiling and the
first epoch's steps), the process CPU time of the same, and the steady
per-step time of the second epoch.

    python benchmarks/gradient_stats_setup_time.py [--rounds 2] [--steps 20] [--models MobileNetV2,ResNet50]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from _report import at_most, report, row

CONFIGS = ("baseline", "GradientStatsLogger")
QUICK_ARGS = ["--rounds", "1", "--steps", "5", "--models", "MobileNetV2"]
SETUP_LIMIT_S = 60  # Seconds, not minutes.


def child(model_name, with_logger, steps):
    """One fit; prints JSON `{"first_epoch", "first_epoch_cpu", "step"}` in seconds."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import nnviz_tb

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.second = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.first = (time.perf_counter(), time.process_time())
            else:
                self.step = (time.perf_counter() - self.second) / steps

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((32 * steps, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    model = getattr(keras.applications, model_name)(weights=None, input_shape=(32, 32, 3), classes=10)
    model.compile("adam", "sparse_categorical_crossentropy")
    timer = Timer()
    with tempfile.TemporaryDirectory() as log_dir:
        callbacks = [timer] + ([nnviz_tb.GradientStatsLogger(log_dir)] if with_logger else [])
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=callbacks)
    print(json.dumps({
        "first_epoch": timer.first[0] - start,
        "first_epoch_cpu": timer.first[1] - start_cpu,
        "step": timer.step,
        "weights": model.count_params(),
        "variables": len(model.trainable_variables),
    }))


def run_child(model_name, config, steps):
    result = subprocess.run(
        [sys.executable, __file__, "--child", model_name, config, str(steps)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default="MobileNetV2,ResNet50")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, config, steps = args.child
        return child(name, config == CONFIGS[1], int(steps))
    rows = []
    for name in args.models.split(","):
        runs = {config: [] for config in CONFIGS}
        for _ in range(args.rounds):
            for config in CONFIGS:
                runs[config].append(run_child(name, config, args.steps))
        info = runs[CONFIGS[0]][0]
        print("\n== %s (%d weights, %d trainable variables), %d rounds, fastest of each"
              % (name, info["weights"], info["variables"], args.rounds))
        print("%-22s%18s%18s%14s" % ("config", "fit->epoch 1 s", "CPU s", "step ms"))
        best = {c: {k: min(r[k] for r in runs[c]) for k in ("first_epoch", "first_epoch_cpu", "step")}
                for c in CONFIGS}
        for config in CONFIGS:
            b = best[config]
            print("%-22s%18.1f%18.1f%14.1f" % (config, b["first_epoch"], b["first_epoch_cpu"], 1000 * b["step"]))
        base, logged = best[CONFIGS[0]], best[CONFIGS[1]]
        print("%-22s%17.2fx%17.2fx%13.2fx" % (
            "ratio", logged["first_epoch"] / base["first_epoch"],
            logged["first_epoch_cpu"] / base["first_epoch_cpu"], logged["step"] / base["step"]))
        print("%-22s%18.1f%18.1f" % ("extra s", logged["first_epoch"] - base["first_epoch"],
                                     logged["first_epoch_cpu"] - base["first_epoch_cpu"]), flush=True)
        extra = logged["first_epoch"] - base["first_epoch"]
        extra_cpu = logged["first_epoch_cpu"] - base["first_epoch_cpu"]
        rows += [at_most("%s, extra time from fit to the end of epoch 1" % name, extra, "s", SETUP_LIMIT_S),
                 row("%s, extra CPU time to the end of epoch 1" % name, extra_cpu, "s"),
                 row("%s, fit to the end of epoch 1" % name, logged["first_epoch"] / base["first_epoch"], "x"),
                 row("%s, step time" % name, logged["step"] / base["step"], "x")]
    report(rows)


if __name__ == "__main__":
    main()
