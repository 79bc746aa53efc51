"""Training-time overhead of all of nnviz's callbacks together on the MNIST MLP.

The method of `activation_logger_overhead.py` (whose helpers it uses):
steady-state epoch time from one epoch's start to the next, first epoch
dropped, configurations interleaved round after round (round 0 only warms
up), fastest epochs compared; process CPU time too. The MLP
784-256-128-64-32-10, 8,000 training images, batch 64, Adam, without
callbacks and with, all writing to one run directory with their defaults:
ActivationLogger, CorrelationLogger and EmbeddingLogger on the 2,000 probe
images, GradientStatsLogger, `nnviz_tb.TensorBoard`, and SaliencyLogger on
8 of the probe images (FeatureMapLogger needs conv layers: not on an MLP).

With `--alone 1`, each callback is also measured alone (no goal).

    python benchmarks/all_callbacks_overhead.py [--rounds 4] [--epochs 9] [--alone 0]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nnviz_tb  # noqa: E402
from _report import report  # noqa: E402
from activation_logger_overhead import compare, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402

QUICK_ARGS = ["--rounds", "1", "--epochs", "4"]
LIMIT = 1.35  # The goal of the fastest epoch's ratio to the baseline.


def all_callbacks(log_dir, probe):
    """Every nnviz callback that fits an MLP, with its defaults, writing to `log_dir`."""
    return [
        nnviz_tb.ActivationLogger(log_dir, probe=probe),
        nnviz_tb.CorrelationLogger(log_dir, probe=probe),
        nnviz_tb.EmbeddingLogger(log_dir, probe=probe),
        nnviz_tb.GradientStatsLogger(log_dir),
        nnviz_tb.SaliencyLogger(log_dir, probe[0][:8], labels=probe[1][:8]),
        nnviz_tb.TensorBoard(log_dir),
    ]


def main():
    args = parse_args(__doc__.split("\n")[0], alone=0)
    train, probe = mnist_mlp_data(args.data_dir)
    configs = {"baseline": lambda d: [], "all callbacks": lambda d: all_callbacks(d, probe)}
    if args.alone:
        for i, callback in enumerate(all_callbacks("unused", probe)):
            configs[type(callback).__name__ + " alone"] = lambda d, i=i: [all_callbacks(d, probe)[i]]
    times = compare(configs, train, args.rounds, args.epochs)
    report(overhead_rows(times, "MNIST MLP", {"all callbacks": LIMIT}))


if __name__ == "__main__":
    main()
