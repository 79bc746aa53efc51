"""Training-time cost of the per-class metrics on the MNIST MLP (examples/mnist_mlp.py settings).

8,000 training images, batch 64, the 2,000 other images as probe and as
Keras' validation data. Three configurations run interleaved, round after
round (round 0 only warms up; each goes first in turn): the baseline is `ActivationLogger` without
its per-class scalars (as it was before them), then `ActivationLogger` as it
is (33 scalars per epoch from the predictions it computes anyway), then
with a `ConfusionMatrixLogger` on the same 2,000 validation images (one more
batched forward pass per epoch). Epoch time = one epoch's start to the
next's, first epoch dropped; the fastest epochs are compared (the machine is
noisy) and CPU time is printed too.

    python benchmarks/class_metrics_overhead.py [--rounds 4] [--epochs 9]
"""

import os
import time
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import report  # noqa: E402
from activation_logger_overhead import compare, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402
from nnviz_tb.callbacks import activation_logger  # noqa: E402

QUICK_ARGS = ["--rounds", "2", "--epochs", "4"]


class WithoutClassMetrics(nnviz_tb.ActivationLogger):
    """`ActivationLogger` whose records compute and write no per-class scalars."""

    def _record(self, step):
        with mock.patch.object(activation_logger.class_metrics, "scalars", return_value={}):
            super()._record(step)


def main():
    args = parse_args(__doc__.split("\n")[0])
    train, probe = mnist_mlp_data(args.data_dir)
    configs = {
        "baseline": lambda d: [WithoutClassMetrics(d, probe=probe)],
        "per-class metrics": lambda d: [nnviz_tb.ActivationLogger(d, probe=probe)],
        "+ ConfusionMatrixLogger": lambda d: [nnviz_tb.ActivationLogger(d, probe=probe),
                                              nnviz_tb.ConfusionMatrixLogger(d, probe)],
    }
    times = compare(configs, train, args.rounds, args.epochs, validation_data=probe, rotate=True)
    start = time.perf_counter()
    labels = probe[1]
    for _ in range(100):
        activation_logger.class_metrics.scalars(labels, np.roll(labels, 1), [str(c) for c in range(10)])
    print("\nscalars of one record: %.2f ms" % ((time.perf_counter() - start) * 10))
    report(overhead_rows(times, "MNIST MLP (class metrics)",
                         {"per-class metrics": 1.05, "+ ConfusionMatrixLogger": 1.05}))


if __name__ == "__main__":
    main()
