"""Training-time cost of CorrelationLogger on the MNIST MLP (784-256-128-64-32-10), as a user feels it.

Each fit trains 8,000 images for `--epochs` epochs (batch 64) with a
2,000-image probe; the logger records every epoch (all 5 layers, all layer
pairs under both measures, feature and sample matrices of every layer, 300
augmentations of one probe image). The time counted runs from the start of
the second epoch (tracing is over) to the return of `fit`, so it includes
everything the logger's writer thread takes from training on a shared CPU
and the wait for its last record in `on_train_end`; it is divided by the
epochs in it. Wall and process CPU time (all threads) are both printed:
other programs on the machine disturb CPU time much less. Fits with and
without the logger alternate, round after round (round 0 warms up), and the
ratios compare the medians and the minima of the rounds.

Also prints the time of one record's two parts: the forward passes
(training thread) and the correlations (writer thread, CPU time).

    python benchmarks/correlation_logger_overhead.py [--rounds 4] [--epochs 6]
"""

import os
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import at_most, report, row  # noqa: E402
from activation_logger_overhead import mlp, mnist_mlp_data, parse_args  # noqa: E402

QUICK_ARGS = ["--rounds", "2", "--epochs", "4"]


class _TimedWriter:
    """Stands in for the logger's writer: runs each write at once on a thread of its own
    (as the writer does: the write lowers its thread's priority), without an event file.

    Records the CPU time of each (that of this thread alone, which other
    programs on the machine disturb little).
    """

    def __init__(self):
        self.seconds, self.cpu_seconds = [], []

    def submit(self, write):
        thread = threading.Thread(target=self._timed, args=(write,))
        thread.start()
        thread.join()

    def _timed(self, write):
        start, start_cpu = time.perf_counter(), time.thread_time()
        with tf.summary.record_if(False):
            write()
        self.seconds.append(time.perf_counter() - start)
        self.cpu_seconds.append(time.thread_time() - start_cpu)


def record_cost(probe, repeats=5):
    """Median seconds of one record's forward passes, and CPU seconds of its correlations."""
    with tempfile.TemporaryDirectory() as log_dir:
        logger = nnviz_tb.CorrelationLogger(log_dir, probe=probe)
        logger.set_model(mlp())
        logger.on_train_begin()
        logger._writer.close()  # Before anything is written: no event file.
    logger._writer = writer = _TimedWriter()
    total = []
    for epoch in range(repeats):
        start = time.perf_counter()
        logger.on_epoch_end(epoch)
        total.append(time.perf_counter() - start)
    return np.median(np.subtract(total, writer.seconds)), np.median(writer.cpu_seconds)


class _SecondEpochStart(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self.start = (time.perf_counter(), time.process_time())


def fit_time(callbacks, train, epochs):
    """Wall and CPU seconds per epoch from the start of epoch 1 to the return of `fit`."""
    keras.utils.set_random_seed(0)
    model = mlp()
    timer = _SecondEpochStart()
    model.fit(*train, batch_size=64, epochs=epochs, verbose=0, callbacks=[timer] + callbacks)
    end = (time.perf_counter(), time.process_time())
    return np.subtract(end, timer.start) / (epochs - 1)


def main():
    args = parse_args(__doc__.split("\n")[0])
    epochs = max(args.epochs, 2)
    train, probe = mnist_mlp_data(args.data_dir)
    forward, analysis = record_cost(probe)
    print("one record: forward passes %.1f ms (training thread), correlations %.1f ms CPU (writer thread)"
          % (forward * 1e3, analysis * 1e3), flush=True)
    configs = {"baseline": lambda d: [], "CorrelationLogger": lambda d: [nnviz_tb.CorrelationLogger(d, probe=probe)]}
    times = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds + 1):  # Round 0 warms up and is not counted.
            order = list(configs) if r % 2 else list(configs)[::-1]
            for name in order:
                measured = fit_time(configs[name](os.path.join(root, "%s_%d" % (name, r))), train, epochs)
                if r > 0:
                    times[name].append(measured)
            if r > 0:
                print("round %d: " % r + ", ".join("%s %.3f s wall, %.3f s CPU per epoch" % (n, *t[-1])
                                                  for n, t in times.items()), flush=True)
    base, logged = np.array(times["baseline"]), np.array(times["CorrelationLogger"])
    rows = [row("one record, forward passes (training thread)", forward * 1e3, "ms"),
            row("one record, correlations (writer thread CPU)", analysis * 1e3, "ms"),
            row("MNIST MLP, baseline, median epoch", np.median(base[:, 0]), "s")]
    for column, kind in enumerate(("wall", "CPU")):
        median = np.median(logged[:, column]) / np.median(base[:, column])
        fastest = logged[:, column].min() / base[:, column].min()
        print("%s time per epoch, %d rounds: baseline median %.3f s, with the logger %.3f s: %.2fx median, %.2fx min"
              % (kind, len(base), np.median(base[:, column]), np.median(logged[:, column]), median, fastest))
        name = "MNIST MLP, CorrelationLogger, %s x %%s epoch" % kind
        rows += [at_most(name % "median", median, "x", 1.10 if kind == "wall" else None),
                 row(name % "fastest", fastest, "x")]
    report(rows)


if __name__ == "__main__":
    main()
