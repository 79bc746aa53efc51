"""2-D projections of activations, normalised and aligned so frames can be compared."""

import numpy as np
from sklearn.decomposition import PCA

from nnviz_tb.analysis.finite import finite_scaled

METHODS = ("pca", "tsne")


def project(data, method, progress=None, random_state=0, init=None):
    """Projects `[N, D]` data to `[N, 2]` float32, in canonical position.

    Args:
      data: Activations; NaN and infinite values are replaced by 0, and
        all are divided by the largest magnitude (which changes no layout).
      method: `"pca"` or `"tsne"` (`sequence.tsne_frame`: openTSNE,
        perplexity 30, PCA initialisation, so the same data always gives
        the same layout).
      progress: Optional callable taking a fraction in [0, 1].
      random_state: Seed of the randomised parts.
      init: Optional `[N, 2]` layout of a neighbouring frame (layer or
        epoch) to start t-SNE from, so that consecutive frames stay coherent:
        the frame is a warm frame of `sequence.tsne_frame` (a short
        optimisation from it, unless it no longer fits the data). Ignored
        by PCA.
    """
    data = finite_scaled(data)
    n = len(data)
    if n < 3 or np.ptp(data, axis=0).max(initial=0.0) == 0.0:
        points = np.zeros((n, 2), np.float32)  # Constant data: nothing to separate.
    elif method == "pca":
        points = _pca(data, random_state)
    elif method == "tsne":
        points = _tsne(data, progress, random_state, init)
    else:
        raise ValueError("Unknown projection method %r; expected one of %s." % (method, METHODS))
    if progress is not None:
        progress(1.0)
    return canonical(points)


def _pca(data, random_state):
    components = min(2, data.shape[1])
    points = PCA(components, random_state=random_state).fit_transform(data)
    if components == 1:
        points = np.hstack([points, np.zeros_like(points)])
    return points


def _tsne(data, progress, random_state, init):
    from nnviz_tb.analysis import sequence  # Imported here: sequence imports this module.

    return sequence.tsne_frame(data, init=init, seed=random_state, progress=progress)


def canonical(points):
    """Centres, scales to unit RMS radius and orients points along their principal axes.

    The orientation is fixed up to nothing: the first axis is the direction of
    largest spread and each axis's sign makes the skewness positive. Frames
    of similar data therefore come out in similar positions.
    """
    points = np.asarray(points, dtype=np.float64)
    points = points - points.mean(axis=0)
    radius = np.sqrt((points**2).sum(axis=1).mean())
    if radius == 0:
        return points.astype(np.float32)
    points /= radius
    _, vectors = np.linalg.eigh(points.T @ points)
    points = points @ vectors[:, ::-1]
    skew = (points**3).mean(axis=0)
    points *= np.where(skew < 0, -1.0, 1.0)
    return points.astype(np.float32)


def align(points, reference):
    """Rotates/reflects `points` to best match `reference` (orthogonal Procrustes).

    Both are `[N, 2]` with rows corresponding; both are assumed centred and
    scaled by `canonical`, so only the orientation changes.
    """
    u, _, vt = np.linalg.svd(points.T.astype(np.float64) @ reference.astype(np.float64))
    return (points @ (u @ vt)).astype(np.float32)


def align_sequence(frames):
    """Aligns each frame to the one before it, so trails join matching positions."""
    aligned = []
    for frame in frames:
        aligned.append(frame if not aligned else align(frame, aligned[-1]))
    return aligned
