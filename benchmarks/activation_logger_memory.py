"""Peak extra memory of ActivationLogger: the MNIST CNN with a 10,000-image probe.

Each fit runs in its own subprocess, with and without the callback, in
turns. A thread samples the process's resident memory (RSS) every 2 ms;
the peak RSS while creating the callback and during `fit`, minus the RSS
just before, is the fit's memory, and the difference between the two
configurations is the callback's.
Both subprocesses hold the probe images (they are the user's data).

    python benchmarks/activation_logger_memory.py [--repeats 2] [--probe-size 10000]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from _report import at_most, report, row

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK_ARGS = ["--repeats", "1"]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples RSS on a thread; `peak` is the highest value seen."""

    def __enter__(self):
        self.peak = rss_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def child(with_logger, probe_size, train_size, epochs, data_dir):
    """One fit; prints JSON with its RSS figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.join(HERE, os.pardir, "examples"))
    import keras

    import nnviz_tb
    from mnist_cnn import cnn
    from nnviz_tb import datasets

    keras.utils.set_random_seed(0)
    (x, y), (xp, yp) = datasets.mnist_split(data_dir, train_size, probe_size)
    x, xp = x[..., None], xp[..., None]
    model = cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:64], y[:64], epochs=1, verbose=0)  # Warm up TF and Keras (traced once).
    with tempfile.TemporaryDirectory() as log_dir:
        before = rss_bytes()
        start = time.perf_counter()
        with PeakRss() as peak:  # Creating the callback (thumbnails) counts too.
            callbacks = [nnviz_tb.ActivationLogger(log_dir, probe=(xp, yp))] if with_logger else []
            model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks)
        seconds = time.perf_counter() - start
    print(json.dumps({"before": before, "peak": peak.peak, "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--probe-size", type=int, default=10000)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--child", choices=["with", "without"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child == "with", args.probe_size, args.train_size, args.epochs,
                     args.data_dir)

    results = {"without": [], "with": []}
    for r in range(args.repeats):
        for config in ("without", "with"):
            command = [sys.executable, __file__, "--child", config] + [
                "--%s=%s" % (k, v) for k, v in (("probe-size", args.probe_size),
                    ("train-size", args.train_size), ("epochs", args.epochs))]
            if args.data_dir:
                command.append("--data-dir=" + args.data_dir)
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[config].append(result)
            print("repeat %d, %-7s logger: RSS before %6.0f MB, peak %6.0f MB (+%4.0f MB), %.1f s"
                  % (r + 1, config, result["before"] / 2**20, result["peak"] / 2**20,
                     (result["peak"] - result["before"]) / 2**20, result["seconds"]), flush=True)

    def growth(config):
        return np.array([(r["peak"] - r["before"]) / 2**20 for r in results[config]])

    print("\nprobe %d images, %d training images, %d epochs"
          % (args.probe_size, args.train_size, args.epochs))
    print("peak RSS growth during fit: without logger %.0f MB (median), with logger %.0f MB"
          % (np.median(growth("without")), np.median(growth("with"))))
    extra = np.median(growth("with")) - np.median(growth("without"))
    worst = growth("with").max() - growth("without").min()
    print("extra peak memory of ActivationLogger: %.0f MB (median), %.0f MB (max) -- target <= 300 MB"
          % (extra, worst))
    name = "MNIST CNN, %d probe images, extra peak RSS" % args.probe_size
    report([at_most(name + " (median)", extra, "MB", 300), row(name + " (worst pair)", worst, "MB"),
            row("MNIST CNN, peak RSS growth without the logger (median)", np.median(growth("without")), "MB")])


if __name__ == "__main__":
    main()
