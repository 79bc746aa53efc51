"""Training-time overhead of SaliencyLogger (gradient + Grad-CAM of 16 images) on the MNIST CNN of `mnist_cnn.py`.

The method of `activation_logger_overhead.py` (whose helpers it uses):
8,000 training images, batch 64, Adam; steady-state epoch time from one
epoch's start to the next, first epoch dropped, with and without the
logger interleaved round after round (round 0 only warms up), fastest
epochs compared; process CPU time too. One record (both methods' maps of
the 16 images and their baselines, and the grids) is also timed alone
(median of 5) and compared with the fastest baseline epoch.

    python benchmarks/saliency_overhead.py [--rounds 4] [--epochs 9]
"""

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import report, row  # noqa: E402
from activation_logger_overhead import compare, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402
from gradient_stats_overhead import compiled_cnn  # noqa: E402  (the CNN of examples/mnist_cnn.py)

QUICK_ARGS = ["--rounds", "2", "--epochs", "4"]
METHODS = ("gradient", "gradcam")
NUM_IMAGES = 16


def record_seconds(images, labels, repeats=5):
    """Median seconds of one record (maps and grids, written at once), the first call (tracing) dropped."""
    with tempfile.TemporaryDirectory() as log_dir:
        logger = nnviz_tb.SaliencyLogger(log_dir, images, labels, methods=METHODS)
        logger.set_model(compiled_cnn())
        logger.on_train_begin()
        seconds = []
        for step in range(repeats + 1):
            start = time.perf_counter()
            logger._record(step)
            logger._writer.flush()
            seconds.append(time.perf_counter() - start)
        logger.on_train_end()
    return float(np.median(seconds[1:]))


def main():
    args = parse_args(__doc__.split("\n")[0])
    (x, y), (xp, yp) = mnist_mlp_data(args.data_dir)
    images, labels = xp[:NUM_IMAGES].reshape(-1, 28, 28, 1), yp[:NUM_IMAGES]
    record = record_seconds(images, labels)
    print("one record (%s of %d images): %.1f ms" % (" + ".join(METHODS), NUM_IMAGES, record * 1e3), flush=True)
    configs = {
        "baseline": lambda d: [],
        "SaliencyLogger": lambda d: [nnviz_tb.SaliencyLogger(d, images, labels, methods=METHODS)],
    }
    times = compare(configs, (x.reshape(-1, 28, 28, 1), y), args.rounds, args.epochs, compiled_cnn)
    rows = overhead_rows(times, "MNIST CNN, gradient + Grad-CAM of 16 images", {"SaliencyLogger": 1.05})
    rows += [row("one record (gradient + Grad-CAM, 16 images)", record * 1e3, "ms"),
             row("one record / fastest baseline epoch", 1 + record / times["baseline"][:, 0].min(), "x")]
    report(rows)


if __name__ == "__main__":
    main()
