"""Edge bundling of trails, per class, so thousands of trails stay readable.

A trail joins one probe point's positions in a sequence of aligned frames
(layers or epochs). Drawn straight, 5,000 of them cross everywhere. Rauber et
al. (2017) bundle them per class; this is kernel density estimation edge
bundling (KDEEB, Hurter, Ersoy and Telea, 2012) restricted to each class:

1. Each segment between two frames is resampled to `samples` points.
2. For `iterations` rounds, the density of each class's sample points is
   estimated on a grid (a histogram blurred by a Gaussian of width
   `bandwidth`, which shrinks by `decay` each round); every sample point moves
   a step up its class's density gradient, then the trails are smoothed.

The frame positions themselves never move: a bundled trail still passes
through the point's true position in every frame, only the path between two
frames is bent towards the other trails of its class.
"""

import numpy as np
from scipy import ndimage

GRID = 128
SAMPLES = 8
ITERATIONS = 10
BANDWIDTH = 0.05  # Fraction of the layout's width.
DECAY = 0.8
_STEP = 0.6  # Fraction of the bandwidth moved per round.


def resample(frames, samples=SAMPLES):
    """`[F, N, 2]` frame positions → `[N, (F - 1) * samples + 1, 2]` straight trails."""
    frames = np.asarray(frames, dtype=np.float64)
    t = np.arange(samples) / samples
    starts, ends = frames[:-1], frames[1:]  # [F-1, N, 2]
    pieces = starts[:, :, None, :] + t[None, None, :, None] * (ends - starts)[:, :, None, :]
    trails = pieces.transpose(1, 0, 2, 3).reshape(frames.shape[1], -1, 2)
    return np.concatenate([trails, frames[-1][:, None, :]], axis=1)


def bundle(frames, labels, samples=SAMPLES, iterations=ITERATIONS, bandwidth=BANDWIDTH, decay=DECAY):
    """Bundles the trails of each class; returns `[N, (F - 1) * samples + 1, 2]` float32.

    Args:
      frames: `[F, N, 2]` aligned positions of N points in F >= 2 frames.
      labels: `[N]` class of each point; trails only attract trails of their class.
      samples: Points per segment (the first is the frame position).
      iterations: Rounds of density estimation, advection and smoothing.
      bandwidth: Initial kernel width, as a fraction of the layout's width.
      decay: Factor applied to the bandwidth after each round.
    """
    frames = np.nan_to_num(np.asarray(frames, dtype=np.float64))
    labels = np.asarray(labels)
    if frames.ndim != 3 or frames.shape[0] < 2 or frames.shape[2] != 2 or frames.shape[1] != len(labels):
        raise ValueError("Expected frames [F >= 2, N, 2] and N labels; got %s and %d." % (frames.shape, len(labels)))
    trails = resample(frames, samples)
    low = frames.reshape(-1, 2).min(axis=0)
    size = max(float(np.ptp(frames.reshape(-1, 2), axis=0).max()), 1e-12)
    grid = (trails - low) / size * (GRID - 1)  # Grid coordinates in [0, GRID - 1].
    moving = np.ones(trails.shape[1], bool)
    moving[::samples] = False  # Frame positions stay where they are.
    width = bandwidth * (GRID - 1)
    for _ in range(iterations):
        for label in np.unique(labels):
            members = labels == label
            grid[members] = _advect(grid[members], moving, width)
        grid[:, moving] = _smooth(grid)[:, moving]
        width *= decay
    return (grid / (GRID - 1) * size + low).astype(np.float32)


def _advect(trails, moving, width):
    """Moves the moving sample points of `trails` up the gradient of their density."""
    points = trails[:, moving].reshape(-1, 2)
    cells = np.clip(np.rint(trails.reshape(-1, 2)).astype(int), 0, GRID - 1)
    density = np.bincount(cells[:, 1] * GRID + cells[:, 0], minlength=GRID * GRID).reshape(GRID, GRID)
    density = ndimage.gaussian_filter(density.astype(np.float64), sigma=width, mode="constant")
    grad_y, grad_x = np.gradient(density)
    at = np.clip(np.rint(points).astype(int), 0, GRID - 1)
    gradient = np.stack([grad_x[at[:, 1], at[:, 0]], grad_y[at[:, 1], at[:, 0]]], axis=1)
    norm = np.linalg.norm(gradient, axis=1, keepdims=True)
    step = np.divide(gradient, norm, out=np.zeros_like(gradient), where=norm > 1e-12)
    moved = trails.copy()
    moved[:, moving] = (points + _STEP * width * step).reshape(len(trails), -1, 2)
    return moved


def _smooth(trails):
    """One round of Laplacian smoothing along each trail (the ends are kept)."""
    smoothed = trails.copy()
    smoothed[:, 1:-1] = 0.5 * trails[:, 1:-1] + 0.25 * (trails[:, :-2] + trails[:, 2:])
    return smoothed
