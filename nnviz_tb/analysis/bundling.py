"""Edge bundling of trails, per class, so thousands of trails stay readable.

A trail joins one probe point's positions in a sequence of aligned frames
(layers or epochs). Drawn straight, 5,000 of them cross everywhere. Rauber et
al. (2017) bundle them per class; this is kernel density estimation edge
bundling (KDEEB, Hurter, Ersoy and Telea, 2012) restricted to compatible
segments:

1. Each segment between two consecutive frames is resampled to `samples`
   points; the first one is the frame position and never moves.
2. Segments attract each other only if they join the same two frames, belong
   to the same class and point in a similar direction (one of `DIRECTIONS`
   sectors, or a neighbouring one), so bundles never gather at a shared hub.
3. For `iterations` rounds the density of each such group's inner sample
   points is estimated on a `GRID` x `GRID` grid (a histogram blurred by a
   Gaussian whose width shrinks by `decay` each round); every inner point
   moves a step up its group's density gradient, the trails are smoothed, and
   each inner point is kept within `BEND` x its segment's length x sin(pi t)
   of its straight position (t in (0, 1) along the segment).

So a bundled trail passes through the point's true position in every frame,
leaves and reaches it in a straight line, and only bends in between; short
segments hardly bend. Cost, for N points, F frames, S samples and C classes:
time O(iterations * (N * (F - 1) * S + groups * GRID^2 * log GRID)) with at
most C * (F - 1) * DIRECTIONS groups, memory O(N * (F - 1) * S + GRID^2)
(about 30 MB and a few seconds for 5,000 points x 8 frames).
"""

import numpy as np
from scipy import ndimage

GRID = 128
SAMPLES = 8
ITERATIONS = 10
BANDWIDTH = 0.06  # Fraction of the layout's width.
DECAY = 0.8
DIRECTIONS = 6  # Sectors of segment directions; neighbouring sectors attract each other too.
BEND = 0.5  # Largest bend of a segment's middle, as a fraction of its length.
_STEP = 0.5  # Fraction of the bandwidth moved per round.
_SMOOTHING = 3  # Smoothing passes per round.


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
    straight = resample(frames, samples)
    low = frames.reshape(-1, 2).min(axis=0)
    size = max(float(np.ptp(frames.reshape(-1, 2), axis=0).max()), 1e-12)
    straight = (straight - low) / size * (GRID - 1)  # Grid coordinates in [0, GRID - 1].
    grid = straight.copy()
    segments = frames.shape[0] - 1
    inner = np.ones(grid.shape[1], bool)
    inner[::samples] = False  # Frame positions stay where they are.
    limit = _bend_limit(straight, samples)  # [N, L]: how far each sample point may move.
    groups = _groups(straight[:, ::samples], labels)  # [F - 1][list of member index arrays]
    width = bandwidth * (GRID - 1)
    for _ in range(iterations):
        for s in range(segments):
            window = slice(s * samples + 1, (s + 1) * samples)
            for deposit, movers in groups[s]:
                grid[movers, window] = _advect(grid[deposit, window], grid[movers, window], width)
        for _ in range(_SMOOTHING):
            grid[:, inner] = _smooth(grid)[:, inner]
        offset = grid - straight
        norm = np.linalg.norm(offset, axis=2)
        scale = np.minimum(1.0, np.divide(limit, norm, out=np.ones_like(norm), where=norm > 1e-12))
        grid = straight + offset * scale[:, :, None]
        width *= decay
    return (grid / (GRID - 1) * size + low).astype(np.float32)


def _bend_limit(straight, samples):
    """`[N, L]` largest displacement of each sample point: BEND x segment length x sin(pi t)."""
    vertices = straight[:, ::samples]
    lengths = np.linalg.norm(np.diff(vertices, axis=1), axis=2)  # [N, F - 1]
    t = np.arange(samples) / samples
    limit = BEND * lengths[:, :, None] * np.sin(np.pi * t)[None, None, :]
    return np.concatenate([limit.reshape(len(straight), -1), np.zeros((len(straight), 1))], axis=1)


def _groups(vertices, labels):
    """Per segment, `(deposit, movers)` index arrays: movers of one class and direction sector
    and the trails whose density they follow (that sector and its two neighbours)."""
    direction = np.diff(vertices, axis=1)  # [N, F - 1, 2]
    angle = np.arctan2(direction[..., 1], direction[..., 0])
    sector = np.floor((angle + np.pi) / (2 * np.pi) * DIRECTIONS).astype(int) % DIRECTIONS
    result = []
    for s in range(direction.shape[1]):
        pairs = []
        for label in np.unique(labels):
            members = labels == label
            for k in np.unique(sector[members, s]):
                movers = np.flatnonzero(members & (sector[:, s] == k))
                near = (sector[:, s] - k) % DIRECTIONS
                deposit = np.flatnonzero(members & ((near <= 1) | (near == DIRECTIONS - 1)))
                pairs.append((deposit, movers))
        result.append(pairs)
    return result


def _advect(deposit, movers, width):
    """`movers` ([M, K, 2]) moved one step up the density of the `deposit` points ([D, K, 2])."""
    cells = np.clip(np.rint(deposit.reshape(-1, 2)).astype(int), 0, GRID - 1)
    density = np.bincount(cells[:, 1] * GRID + cells[:, 0], minlength=GRID * GRID).reshape(GRID, GRID)
    density = ndimage.gaussian_filter(density.astype(np.float64), sigma=width, mode="constant")
    grad_y, grad_x = np.gradient(density)
    points = movers.reshape(-1, 2)
    at = np.clip(np.rint(points).astype(int), 0, GRID - 1)
    gradient = np.stack([grad_x[at[:, 1], at[:, 0]], grad_y[at[:, 1], at[:, 0]]], axis=1)
    norm = np.linalg.norm(gradient, axis=1, keepdims=True)
    step = np.divide(gradient, norm, out=np.zeros_like(gradient), where=norm > 1e-12)
    return (points + _STEP * width * step).reshape(movers.shape)


def _smooth(trails):
    """One round of Laplacian smoothing along each trail (the ends are kept)."""
    smoothed = trails.copy()
    smoothed[:, 1:-1] = 0.5 * trails[:, 1:-1] + 0.25 * (trails[:, :-2] + trails[:, 2:])
    return smoothed
