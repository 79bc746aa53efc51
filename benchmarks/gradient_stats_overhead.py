"""Training-time overhead of GradientStatsLogger on the MNIST MLP and CNN examples.

The method of `activation_logger_overhead.py` (whose helpers it uses):
steady-state epoch time from one epoch's start to the next, first epoch
dropped, configurations interleaved round after round (round 0 only warms
up), fastest epochs compared; process CPU time too. Per model (the MLP
784-256-128-64-32-10 of `mnist_mlp.py` and the CNN of `mnist_cnn.py`, 8,000
training images, batch 64, Adam), without the logger and with:

* per-epoch statistics only (`heatmap_weights=0`), measured every 16th step
  (the default);
* the default, which also records the per-step sign heatmaps (64 weights per
  layer at every step);
* every step measured (`every_n_steps=1`): all statistics exact, the cost of
  a full pass over the weights at each step.

With `--threads 1` TensorFlow runs on one thread (intra- and inter-op): on
a small machine shared with other jobs, the epoch times then vary much less.

    python benchmarks/gradient_stats_overhead.py [--rounds 4] [--epochs 9] [--cnn-epochs 5] [--threads 0]
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import report  # noqa: E402
from activation_logger_overhead import compare, mlp, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples"))
from mnist_cnn import cnn  # noqa: E402

QUICK_ARGS = ["--rounds", "1", "--epochs", "5", "--cnn-epochs", "4"]

# Without the logger and with it measuring every 16th step (the default); then every step.
SAMPLED_CONFIGS = {
    "baseline": lambda d: [],
    "per-epoch statistics": lambda d: [nnviz_tb.GradientStatsLogger(d, heatmap_weights=0)],
    "+ per-step heatmaps (default)": lambda d: [nnviz_tb.GradientStatsLogger(d)],
}
CONFIGS = {
    **SAMPLED_CONFIGS,
    "every step (every_n_steps=1)": lambda d: [nnviz_tb.GradientStatsLogger(d, every_n_steps=1)],
}
# The goals of the fastest epoch's ratio to the baseline.
LIMITS = {"per-epoch statistics": 1.15, "+ per-step heatmaps (default)": 1.30}


def compiled_cnn():
    model = cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    args = parse_args(__doc__.split("\n")[0], cnn_epochs=5, threads=0)
    if args.threads:  # 0: TensorFlow's default.
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    (x, y), _ = mnist_mlp_data(args.data_dir)
    print("== MLP (%d trainable weights)" % mlp().count_params(), flush=True)
    rows = overhead_rows(compare(CONFIGS, (x, y), args.rounds, args.epochs), "MNIST MLP", LIMITS)
    print("\n== CNN (%d trainable weights)" % compiled_cnn().count_params(), flush=True)
    times = compare(CONFIGS, (x.reshape(-1, 28, 28, 1), y), args.rounds, args.cnn_epochs, compiled_cnn)
    report(rows + overhead_rows(times, "MNIST CNN", LIMITS))


if __name__ == "__main__":
    main()
