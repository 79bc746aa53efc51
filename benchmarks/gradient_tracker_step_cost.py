"""Per-step cost of `GradientTracker` (GradientStatsLogger's in-graph part) in a training step.

A compiled step that applies fixed gradients to the MNIST MLP's 10 variables
(784-256-128-64-32-10, 244,522 weights) by `assign_sub`, timed with and
without `GradientTracker.observe` (the default 64 heatmap weights per layer),
side by side: rounds of `--steps` calls each, configurations interleaved, the
fastest round kept (robust on a small shared machine). The extra time per
step of the tracker is measured at:

* `--every` (16, the default `every_n_steps`): the cost in training;
* almost never measured (every 10**6 steps): the fixed per-step cost (the
  heatmap samples, the step counter, the branch);
* every step measured and kept (`every_n_steps=1`): a full pass over the weights.

    python benchmarks/gradient_tracker_step_cost.py [--every 16] [--rounds 5] [--steps 200]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from _report import at_most, report, row  # noqa: E402
from nnviz_tb import gradient_stats  # noqa: E402
from nnviz_tb.callbacks.gradient_tracking import GradientTracker  # noqa: E402

QUICK_ARGS = ["--rounds", "2", "--steps", "100"]

SHAPES = [(784, 256), (256,), (256, 128), (128,), (128, 64), (64,), (64, 32), (32,), (32, 10), (10,)]
# The goal of the extra time per step at the default every_n_steps=16: about half the former
# tracker's (340 to 450 us here, 2 shared cores at load average 4).
LIMIT_US = 180
NEVER = 10 ** 6


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=16, help="every_n_steps of the main measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200, help="calls per round")
    return parser.parse_args()


def make_step(variables, grads, every_n_steps):
    """A compiled step applying `grads`, observed by a tracker measuring every `every_n_steps`
    steps (none for None)."""
    tracker = None
    if every_n_steps is not None:
        names = ["l%d/v%d" % (i // 2, i) for i in range(len(SHAPES))]
        layers = [name.split("/")[0] for name in names]
        layout = gradient_stats.make_layout(names, layers, SHAPES, {}, 64)
        tracker = GradientTracker(SHAPES, layout.groups(), layout.samples, 1e-7, 1e-5, every_n_steps, 200)

    @tf.function
    def step():
        if tracker is not None:
            tracker.observe([[g] for g in grads], variables)
        for variable, gradient in zip(variables, grads):
            variable.assign_sub(1e-3 * gradient)

    return step


def fastest_us(steps, rounds, calls):
    """Per configuration, the fastest round's time per call (microseconds), rounds interleaved."""
    for step in steps.values():
        step()  # Traces and compiles.
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / calls * 1e6)
    return best


def main():
    args = parse_args()
    tf.random.set_seed(0)
    variables = [tf.Variable(tf.random.normal(shape)) for shape in SHAPES]
    grads = [tf.random.normal(shape) for shape in SHAPES]
    configs = {"plain": None, "every=%d" % args.every: args.every, "almost never (fixed cost)": NEVER,
               "every=1 (measure + keep)": 1}
    best = fastest_us({name: make_step(variables, grads, every) for name, every in configs.items()},
                      args.rounds, args.steps)
    print("%d weights in %d variables; fastest of %d rounds of %d steps" % (
        sum(v.shape.num_elements() for v in variables), len(variables), args.rounds, args.steps))
    print("%-28s %12s %12s %12s" % ("configuration", "us/step", "plain us", "extra us"))
    extra = {}
    for name in configs:
        extra[name] = best[name] - best["plain"]
        print("%-28s %12.0f %12.0f %12.0f" % (name, best[name], best["plain"], extra[name]))
    names = list(configs)[1:]
    limit = LIMIT_US if args.every == 16 else None
    report([
        at_most("GradientTracker, MNIST MLP, extra us/step at every_n_steps=%d" % args.every,
                extra[names[0]], "us", limit),
        row("GradientTracker, MNIST MLP, fixed extra us/step (never measured)", extra[names[1]], "us"),
        row("GradientTracker, MNIST MLP, extra us/step at every_n_steps=1", extra[names[2]], "us"),
    ])


if __name__ == "__main__":
    main()
