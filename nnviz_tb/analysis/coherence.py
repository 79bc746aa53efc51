"""How faithful and how coherent a sequence of 2-D projections is.

Every function normalises each frame first (centred, unit RMS radius), so
the scale a projection happens to have does not count.
"""

import numpy as np
from scipy.spatial.distance import pdist


def _unit(frame):
    """Centred float64 copy of an `[N, K]` frame with unit RMS radius; NaN and infinities count as 0."""
    frame = np.array(frame, dtype=np.float64)
    frame[~np.isfinite(frame)] = 0.0
    frame -= frame.mean(axis=0)
    radius = np.sqrt((frame**2).sum(axis=1).mean())
    return frame / radius if radius > 0 else frame


def _movements(frames):
    """`[T - 1, N]` distances each point moves between consecutive normalised frames."""
    frames = list(frames)
    if len(frames) < 2:
        raise ValueError("A sequence needs at least 2 frames. Got %d." % len(frames))
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError("All frames must have the same shape. Got %s." % sorted(shapes))
    units = [_unit(f) for f in frames]
    return np.stack([np.linalg.norm(b - a, axis=1) for a, b in zip(units, units[1:])])


def _pearson(x, y):
    x, y = x - x.mean(), y - y.mean()
    scale = np.sqrt((x**2).sum() * (y**2).sum())
    return float((x * y).sum() / scale) if scale > 0 else 0.0


def mean_displacement(frames):
    """Mean distance a point moves between consecutive frames (each at unit RMS radius).

    The trail length of Rauber et al. (2017)'s views, per step; 0 for
    identical frames. `frames`: a sequence of `[N, 2]` layouts.
    """
    return float(_movements(frames).mean())


def stab_pearson(data_frames, frames):
    """Temporal stability: Pearson r between points' movements in the data and in 2-D.

    The `stab_pearson` metric of Vernier et al., "Quantitative evaluation
    of time-dependent multidimensional projection techniques", EuroVis 2020:
    over all points i and consecutive frames t, the correlation between
    ||x_i(t+1) - x_i(t)|| and ||y_i(t+1) - y_i(t)||. Here each frame, nD
    and 2-D alike, is first centred and scaled to unit RMS radius (Vernier
    et al. normalise the data, too), so a layer whose activations only grow
    does not count as moving. 1 when 2-D movement is proportional to nD
    movement (e.g. a pure translation of a subset of points).

    Args:
      data_frames: `[N, D]` activations per frame (the same D throughout).
      frames: Their `[N, 2]` layouts.
    """
    data_frames, frames = list(data_frames), list(frames)
    if len(data_frames) != len(frames):
        raise ValueError("Got %d data frames but %d layouts." % (len(data_frames), len(frames)))
    return _pearson(_movements(data_frames).ravel(), _movements(frames).ravel())


def distance_pearson(data, points, max_points=1000, seed=0):
    """Pearson r of pairwise distances in 2-D and in the data (the Shepard diagram's correlation).

    A global measure (Vernier et al. 2020 call it the Shepard diagram
    correlation, there with Spearman's r): 1 when the layout preserves
    distances up to one scale. At most `max_points` points, drawn with
    `seed`, bound the memory to `max_points**2` distances.
    """
    data, points = _unit(data), _unit(points)
    if len(data) != len(points):
        raise ValueError("Got %d data rows but %d points." % (len(data), len(points)))
    if len(data) > max_points:
        keep = np.random.default_rng(seed).choice(len(data), max_points, replace=False)
        data, points = data[keep], points[keep]
    return _pearson(pdist(data), pdist(points))
