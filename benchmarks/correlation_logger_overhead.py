"""Training-time overhead of CorrelationLogger on the MNIST MLP (784-256-128-64-32-10).

The method of `activation_logger_overhead.py` (whose helpers it uses):
steady-state epoch time from one epoch's start to the next (so the writer
thread's work during the next epoch counts), first epoch dropped,
configurations interleaved round after round (round 0 only warms up),
fastest epochs compared. The logger records every epoch: all 5 layers, all
layer pairs under both measures, feature and sample matrices of every layer
(at most 256 x 256) and 300 augmentations of one probe image. Also prints
the time of one record's two parts: the forward passes (training thread)
and the correlations (writer thread).

    python benchmarks/correlation_logger_overhead.py [--rounds 4] [--epochs 9]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nnviz_tb  # noqa: E402
from activation_logger_overhead import epoch_times, mlp, report  # noqa: E402
from nnviz_tb import datasets  # noqa: E402


class _TimedWriter:
    """Stands in for the logger's writer: runs each write at once, without an event file, timed."""

    def __init__(self):
        self.seconds = []

    def submit(self, write):
        start = time.perf_counter()
        with tf.summary.record_if(False):
            write()
        self.seconds.append(time.perf_counter() - start)


def record_cost(probe, repeats=5):
    """Median seconds of one record's forward passes and of its correlations."""
    logger = nnviz_tb.CorrelationLogger(tempfile.mkdtemp(), probe=probe)
    logger.set_model(mlp())
    logger.on_train_begin()
    logger._writer.close()
    logger._writer = writer = _TimedWriter()
    total = []
    for epoch in range(repeats):
        start = time.perf_counter()
        logger.on_epoch_end(epoch)
        total.append(time.perf_counter() - start)
    return np.median(np.subtract(total, writer.seconds)), np.median(writer.seconds)


def _column(times, k):
    return {name: np.array(t)[:, k] for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    (x, y), (xp, yp) = datasets.mnist_split(args.data_dir, 8000, 2000)
    train, probe = (x.reshape(-1, 784), y), (xp.reshape(-1, 784), yp)
    forward, analysis = record_cost(probe)
    print("one record: forward passes %.1f ms (training thread), correlations %.1f ms (writer thread)"
          % (forward * 1e3, analysis * 1e3), flush=True)
    configs = {
        "baseline": lambda d: [],
        "CorrelationLogger": lambda d: [nnviz_tb.CorrelationLogger(d, probe=probe)],
        "ActivationLogger": lambda d: [nnviz_tb.ActivationLogger(d, probe=probe)],
    }
    times = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds + 1):  # Round 0 warms up and is not counted.
            for i, (name, make) in enumerate(configs.items()):
                log_dir = os.path.join(root, "%d_%d" % (i, r))
                measured = epoch_times(make(log_dir), train, args.epochs)
                if r > 0:
                    times[name].extend(measured)
            if r > 0:
                print("round %d, fastest epoch: " % r + ", ".join(
                    "%s %.3fs" % (n, np.min(np.array(t)[:, 0])) for n, t in times.items()), flush=True)

    n = len(times["baseline"])
    report("Wall time per epoch (start to next start), %d epochs per config:" % n, _column(times, 0))
    report("Process CPU time per epoch, %d epochs per config:" % n, _column(times, 1))


if __name__ == "__main__":
    main()
