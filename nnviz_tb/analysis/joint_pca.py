"""One PCA of several frames (a layer's epochs), the exactly coherent linear view beside t-SNE."""

import numpy as np


def joint_pca(loaders):
    """One PCA view of frames of the same width, so motion between them is due to the data alone.

    Two streaming passes (one frame in memory at a time): the mean and the
    `D x D` covariance of all frames together (float64), then each frame's
    projection on the two principal axes. All frames share the centre, the
    scale (unit RMS radius over all frames) and the orientation (axes by
    decreasing variance, signs making the skewness over all frames positive).

    Args:
      loaders: Callables, each returning one frame's `[N, D]` activations
        (NaN and infinities count as 0).

    Returns:
      A list of `[N, 2]` float32 layouts, one per loader.

    Raises:
      ValueError: If the frames differ in width.
    """
    shift = total = square = None
    count, width = 0, None
    for load in loaders:
        frame = _finite(load(), width)
        width = frame.shape[1]
        if shift is None:
            shift = frame.mean(axis=0)
            total, square = np.zeros(width), np.zeros((width, width))
        centred = frame - shift
        total += centred.sum(axis=0)
        square += centred.T @ centred
        count += len(frame)
    if count == 0:
        return []
    mean = total / count
    values, vectors = np.linalg.eigh(square / count - np.outer(mean, mean))
    axes = np.zeros((width, 2))
    top = vectors[:, ::-1][:, :2]
    axes[:, : top.shape[1]] = top
    radius = np.sqrt(max(values[::-1][:2].clip(min=0).sum(), 0.0))
    centre = shift + mean
    frames = [(_finite(load(), width) - centre) @ axes for load in loaders]
    if radius > 0:
        skew = sum((f**3).sum(axis=0) for f in frames)
        axes_sign = np.where(skew < 0, -1.0, 1.0) / radius
        frames = [f * axes_sign for f in frames]
    else:
        frames = [np.zeros_like(f) for f in frames]
    return [f.astype(np.float32) for f in frames]


def _finite(frame, width):
    """`frame` as float64 `[N, D]` with NaN and infinities set to 0, checked against `width`."""
    frame = np.array(frame, dtype=np.float64)
    if frame.ndim != 2:
        raise ValueError("Each frame must be a 2-D [N, D] array. Got shape %r instead." % (frame.shape,))
    if width is not None and frame.shape[1] != width:
        raise ValueError(
            "All frames of a joint PCA must have the same width. Got %d and %d." % (width, frame.shape[1])
        )
    frame[~np.isfinite(frame)] = 0.0
    return frame
