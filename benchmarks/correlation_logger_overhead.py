"""Training-time overhead of CorrelationLogger on the MNIST MLP (784-256-128-64-32-10).

The method of `activation_logger_overhead.py` (whose helpers it uses):
steady-state epoch time from one epoch's start to the next (so the writer
thread's work during the next epoch counts), first epoch dropped,
configurations interleaved round after round (round 0 only warms up),
fastest epochs compared. The logger records every epoch: all 5 layers, all
layer pairs under both measures, feature and sample matrices of every layer
(at most 256 x 256) and 300 augmentations of one probe image. Also prints
the time of one record's two parts: the forward passes (training thread)
and the correlations (writer thread), and the peak memory (tracemalloc:
NumPy's arrays, not TensorFlow's) of one record of a CNN with wide conv
layers recorded with `reduction="flatten"` (each pooled to at most 2,048
features): layer outputs plus correlations.

    python benchmarks/correlation_logger_overhead.py [--rounds 4] [--epochs 9]
"""

import os
import tempfile
import threading
import time
import tracemalloc

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
import nnviz_tb  # noqa: E402
from activation_logger_overhead import compare, mlp, mnist_mlp_data, parse_args  # noqa: E402


class _TimedWriter:
    """Stands in for the logger's writer: runs each write at once on a thread of its own
    (as the writer does: the write lowers its thread's priority), without an event file.

    Records the wall and the CPU time of each (the CPU time is that of this
    thread alone, which other programs on the machine disturb little).
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


def wide_cnn():
    """Conv layers of 64, 128 and 256 channels on 28 x 28 images (50k to 200k values per image)."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(128, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(256, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def wide_layer_memory(probe):
    """`(layer dims, peak MB)` of one record of `wide_cnn()`: its layer outputs and their correlations."""
    x, labels = probe
    with tempfile.TemporaryDirectory() as log_dir:
        logger = nnviz_tb.CorrelationLogger(log_dir, probe=(x.reshape(-1, 28, 28, 1), labels),
                                            reduction="flatten", max_dim=2048)
        logger.set_model(wide_cnn())
        logger.on_train_begin()
        logger._writer.close()
    logger._writer = _TimedWriter()
    tracemalloc.start()
    logger.on_epoch_end(0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return logger._outputs.dims, peak / 2**20


def main():
    args = parse_args(__doc__.split("\n")[0])
    train, probe = mnist_mlp_data(args.data_dir)
    forward, analysis = record_cost(probe)
    print("one record: forward passes %.1f ms (training thread), correlations %.1f ms CPU (writer thread)"
          % (forward * 1e3, analysis * 1e3), flush=True)
    dims, peak_mb = wide_layer_memory(probe)
    print("wide conv layers flattened to <= 2048 features %s: peak memory of a record %.0f MB"
          % (dims, peak_mb), flush=True)
    compare({
        "baseline": lambda d: [],
        "CorrelationLogger": lambda d: [nnviz_tb.CorrelationLogger(d, probe=probe)],
        "ActivationLogger": lambda d: [nnviz_tb.ActivationLogger(d, probe=probe)],
    }, train, args.rounds, args.epochs)


if __name__ == "__main__":
    main()
