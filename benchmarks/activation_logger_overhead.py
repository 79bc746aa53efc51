"""Training-time overhead of ActivationLogger on an MNIST MLP (784-256-128-64-32-10).

Steady-state epoch time = time from one epoch's start to the next epoch's
start (so end-of-epoch work, and the writer thread's work during the next
epoch, both count), first epoch excluded. The configurations run
interleaved, round after round (round 0 only warms up), and the fastest
epochs of each are compared, because the machine is noisy. Process CPU time
per epoch (all threads) is printed too: other programs on the machine
disturb it much less than wall time.

    python benchmarks/activation_logger_overhead.py [--rounds 4] [--epochs 9]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import at_most, report, row  # noqa: E402
from nnviz_tb import datasets  # noqa: E402

QUICK_ARGS = ["--rounds", "2", "--epochs", "4"]

_STATS = {"min": np.min, "q25": lambda t: np.percentile(t, 25), "median": np.median}


class EpochStarts(keras.callbacks.Callback):
    """Records the wall and process CPU time at which each epoch starts."""

    def on_train_begin(self, logs=None):
        self.starts = []

    def on_epoch_begin(self, epoch, logs=None):
        self.starts.append((time.perf_counter(), time.process_time()))


def mlp():
    model = keras.Sequential(
        [keras.Input((784,))]
        + [keras.layers.Dense(n, activation="relu") for n in (256, 128, 64, 32)]
        + [keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def epoch_times(callbacks, train, epochs, model_fn=mlp, validation_data=None):
    """`[epochs - 2, 2]` wall and CPU seconds from each epoch start to the next, first dropped."""
    keras.utils.set_random_seed(0)
    model = model_fn()
    timer = EpochStarts()
    model.fit(*train, batch_size=64, epochs=epochs, verbose=0, validation_data=validation_data,
              callbacks=[timer] + callbacks)
    return np.diff(np.array(timer.starts), axis=0)[1:]


def print_table(title, times):
    print("\n%s" % title)
    print("%-30s" % "config" + "".join("%9s s" % s for s in _STATS)
          + "".join("%9s" % ("x " + s) for s in _STATS))
    for name, t in times.items():
        values = [f(t) for f in _STATS.values()]
        ratios = [v / f(times["baseline"]) for v, f in zip(values, _STATS.values())]
        print("%-30s" % name + "".join("%11.3f" % v for v in values)
              + "".join("%8.3fx" % r for r in ratios))


def parse_args(description, **extra):
    """`--rounds`, `--epochs` and `--data-dir`, the arguments of the overhead benchmarks, and
    an integer option per `extra` default (`cnn_epochs=5`: `--cnn-epochs`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--data-dir", default=None)
    for name, default in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=default)
    return parser.parse_args()


def mnist_mlp_data(data_dir):
    """`(train, probe)`: 8,000 and 2,000 flat MNIST images with their labels."""
    (x, y), (xp, yp) = datasets.mnist_split(data_dir, 8000, 2000)
    return (x.reshape(-1, 784), y), (xp.reshape(-1, 784), yp)


def compare(configs, train, rounds, epochs, model_fn=mlp, validation_data=None, rotate=False):
    """Runs `{name: log_dir -> callbacks}` interleaved on `model_fn()` (compiled), prints the wall
    and CPU time tables, and returns `{name: [epochs, 2]}` wall and CPU seconds. With `rotate`,
    each configuration goes first in turn."""
    times = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as root:
        for r in range(rounds + 1):  # Round 0 warms up and is not counted.
            order = list(enumerate(configs.items()))
            if rotate:
                order = order[r % len(order):] + order[:r % len(order)]
            for i, (name, make) in order:
                measured = epoch_times(make(os.path.join(root, "%d_%d" % (i, r))), train, epochs, model_fn,
                                       validation_data)
                if r > 0:
                    times[name].extend(measured)
            if r > 0:
                print("round %d, fastest epoch: " % r + ", ".join(
                    "%s %.3fs" % (n, np.min(np.array(t)[:, 0])) for n, t in times.items()), flush=True)

    times = {k: np.array(v) for k, v in times.items()}
    n = len(times["baseline"])
    print_table("Wall time per epoch (start to next start), %d epochs per config:" % n,
                {k: v[:, 0] for k, v in times.items()})
    print_table("Process CPU time per epoch, %d epochs per config:" % n,
                {k: v[:, 1] for k, v in times.items()})
    return times


def overhead_rows(times, model, limits=None):
    """The rows of `compare`'s `times` on `model`: the baseline's fastest epoch, then per
    configuration its ratios to the baseline; `limits` (`{name: x}`) are the goals of the
    fastest-epoch ratios."""
    base = times["baseline"]
    rows = [row("%s, baseline, fastest epoch" % model, base[:, 0].min(), "s")]
    for name, t in times.items():
        if name == "baseline":
            continue
        rows += [
            at_most("%s, %s, x fastest epoch" % (model, name), t[:, 0].min() / base[:, 0].min(), "x",
                    (limits or {}).get(name)),
            row("%s, %s, x median epoch" % (model, name), np.median(t[:, 0]) / np.median(base[:, 0]), "x"),
            row("%s, %s, CPU x fastest epoch" % (model, name), t[:, 1].min() / base[:, 1].min(), "x"),
        ]
    return rows


def main():
    args = parse_args(__doc__.split("\n")[0])
    train, probe = mnist_mlp_data(args.data_dir)
    configs = {
        "baseline": lambda d: [],
        "ActivationLogger": lambda d: [nnviz_tb.ActivationLogger(d, probe=probe)],
        "TensorBoard()": lambda d: [keras.callbacks.TensorBoard(d)],
        "TensorBoard(histogram_freq=1)": lambda d: [
            keras.callbacks.TensorBoard(d, histogram_freq=1)
        ],
    }
    times = compare(configs, train, args.rounds, args.epochs)
    report(overhead_rows(times, "MNIST MLP", {"ActivationLogger": 1.05}))


if __name__ == "__main__":
    main()
