"""Time of the neuron views' analyses for a 256-neuron layer on 2,000 probe points.

Issue 4 asks for the neuron projection plus the ExtraTrees scores in < 10 s
on 2 cores. The layer is synthetic (ReLU units, some class-tuned, some dead).

    python benchmarks/neuron_analysis_time.py [--points 2000] [--neurons 256]
"""

import argparse
import time

import numpy as np

from _report import at_most, report, row
from nnviz_tb.analysis import neurons

QUICK_ARGS = []  # Seconds already.


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--neurons", type=int, default=256)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=args.points)
    tuning = rng.normal(size=(10, args.neurons)) * 0.5
    layer = np.maximum(rng.normal(size=(args.points, args.neurons)) + tuning[labels], 0)
    layer[:, : args.neurons // 20] = 0.0  # 5% dead neurons.
    timings = {}
    for name, run in [
        ("neuron projection (MDS)", lambda: neurons.neuron_projection(layer, "mds")),
        ("neuron projection (t-SNE)", lambda: neurons.neuron_projection(layer, "tsne")),
        ("discriminative power (ExtraTrees)", lambda: neurons.discriminative_power(layer, labels)),
    ]:
        start = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - start
        print("%-36s %6.2f s" % (name, timings[name]))
    total = timings["neuron projection (MDS)"] + timings["discriminative power (ExtraTrees)"]
    print("MDS + ExtraTrees: %.2f s (target < 10 s, ratio to target %.2f)" % (total, total / 10))
    case = "%d neurons, %d points, " % (args.neurons, args.points)
    report([row(case + name, seconds, "s") for name, seconds in timings.items()]
           + [at_most(case + "MDS + ExtraTrees", total, "s", 10)])


if __name__ == "__main__":
    main()
