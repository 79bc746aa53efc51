"""Time of per-class KDE edge bundling of trails (what `/evolution?bundle=1` adds).

Prints, for 2,000 and 5,000 points of 10 classes through 4 frames (layers), the
median time of `bundling.bundle` and of straight resampling side by side, and
how much closer the trails of a class get half-way between two frames.

    python benchmarks/trail_bundling_time.py
"""

import time

import numpy as np

from _report import report, row
from nnviz_tb.analysis import bundling

QUICK_ARGS = []  # Seconds already.


def median_seconds(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main():
    rng = np.random.default_rng(0)
    rows = []
    for n in (2000, 5000):
        labels = rng.integers(0, 10, n)
        frames = rng.normal(size=(4, 10, 2))[:, labels] * 3 + rng.normal(size=(4, n, 2))
        straight_s, straight = median_seconds(lambda: bundling.resample(frames))
        bundled_s, bundled = median_seconds(lambda: bundling.bundle(frames, labels))
        middle = bundling.SAMPLES // 2
        spread = [
            np.mean([trails[labels == c, middle].std(axis=0).mean() for c in range(10)])
            for trails in (straight, bundled)
        ]
        print(
            "%d points x 4 frames: bundled %.3f s, straight %.4f s (%.0fx); "
            "class spread half-way between frames %.2f -> %.2f (%.1fx tighter)"
            % (n, bundled_s, straight_s, bundled_s / straight_s, spread[0], spread[1], spread[0] / spread[1])
        )
        case = "%d points x 4 frames, " % n
        rows += [row(case + "bundled (median of 5)", bundled_s, "s"),
                 row(case + "bundled / straight", bundled_s / straight_s, "x"),
                 row(case + "class spread, straight / bundled", spread[0] / spread[1], "x")]
    report(rows)


if __name__ == "__main__":
    main()
