"""Activations made safe to analyse: finite values, in a range where sums of squares cannot overflow."""

import numpy as np


def non_finite_count(data):
    """Number of NaN and infinite values in `data`."""
    data = np.asarray(data)
    return int(data.size - np.count_nonzero(np.isfinite(data)))


def finite_scaled(data):
    """`[N, D]` float64 copy of `data`, NaN and infinities set to 0, divided by its largest magnitude.

    Linear projections, correlations and tree splits are unchanged by one
    positive scale factor, and values of ~1e38 then no longer overflow in
    PCA's or Pearson's sums of squares.
    """
    values = np.array(data, dtype=np.float64)
    values[~np.isfinite(values)] = 0.0
    peak = np.abs(values).max(initial=0.0)
    if peak > 0:
        values /= peak
    return values
