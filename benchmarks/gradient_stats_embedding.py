"""Training-time overhead of GradientStatsLogger on a model with a large embedding.

An embedding's gradient is a `tf.IndexedSlices` (the rows of the batch's
tokens). The logger keeps it sparse on the steps it does not measure: only
the sampled weights are read from the slices, and the full gradient is made
dense on the measured steps (every 16th by default). The method of
`activation_logger_overhead.py`; the model: Embedding(--vocabulary, 64) ->
GlobalAveragePooling1D -> Dense(2), 4,096 random sequences of 20 tokens,
batch 64 (64 steps per epoch), plain SGD, which updates only the batch's
rows (so a training step is cheap and the logger's share shows); without
the logger and with it (per-epoch statistics only, and the default with the
sign heatmaps).

    python benchmarks/gradient_stats_embedding.py [--rounds 4] [--epochs 9] [--vocabulary 200000]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from _report import report  # noqa: E402
from activation_logger_overhead import compare, overhead_rows, parse_args  # noqa: E402
from gradient_stats_overhead import SAMPLED_CONFIGS  # noqa: E402

QUICK_ARGS = ["--rounds", "1", "--epochs", "5"]


def main():
    args = parse_args(__doc__.split("\n")[0], vocabulary=200000)
    rng = np.random.default_rng(0)
    x = rng.integers(0, args.vocabulary, (4096, 20)).astype("int32")
    y = rng.integers(0, 2, 4096)

    def model():
        model = keras.Sequential([
            keras.Input((20,), dtype="int32"), keras.layers.Embedding(args.vocabulary, 64, name="embedding"),
            keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2, name="output"),
        ])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    print("== Embedding (%d trainable weights)" % model().count_params(), flush=True)
    times = compare(SAMPLED_CONFIGS, (x, y), args.rounds, args.epochs, model)
    report(overhead_rows(times, "Embedding(%d, 64)" % args.vocabulary))


if __name__ == "__main__":
    main()
