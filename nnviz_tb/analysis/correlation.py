"""Correlations between and within layers, over a probe set (NumPy only).

A *feature* is one column of a layer's `[N, D]` activations over the N probe
points. A feature that is constant over the probe set (a dead ReLU) or not
finite everywhere has no correlation with anything: it is *dead*. Dead
features are left out of every score and reported apart (`NaN` rows in the
matrices below), never given a made-up 0.

Cross-layer measures (`MEASURES`), both in [0, 1], 1 for identical layers,
both defined for layers of different widths:

* ``"cka"``: linear centred kernel alignment (Kornblith et al., 2019),
  `||Yc' Xc||_F^2 / (||Xc' Xc||_F ||Yc' Yc||_F)` with `Xc`, `Yc` the live
  features centred over the probe set. Invariant to rotations and to
  isotropic scaling of either layer.
* ``"pearson"``: best-match |Pearson r|: each live feature of one layer is
  matched with the feature of the other layer it correlates with most
  (|r|); the score is the mean of this over the features of X, and over
  those of Y, averaged: `(mean_i max_j |r_ij| + mean_j max_i |r_ij|) / 2`.

A score is undefined (`NaN`) when a layer has no live feature.
"""

import numpy as np

MEASURES = ("cka", "pearson")


class LayerStatistics:
    """One layer's activations over the probe set, prepared once for every analysis.

    The functions below take either an `[N, D]` array or this, so that one
    epoch's analyses centre each layer once.

    Attributes:
      live: `[D]` bool: the features that are finite everywhere and not constant.
      values: `[N, L]` float32, the L live features centred over the probe set.
      std: `[L]` float64, their standard deviations (all > 0).
      variance: `[D]` float64, every feature's variance over the probe set
        (0 for constant features, NaN for non-finite ones).
    """

    def __init__(self, activations):
        activations = np.asarray(activations)
        finite = np.ones(activations.shape[1], bool)
        self.live = np.zeros(activations.shape[1], bool)
        if len(activations):
            low, high = activations.min(axis=0), activations.max(axis=0)  # NaN and inf show here.
            finite = np.isfinite(low) & np.isfinite(high)
            self.live = finite & (high > low)
        live = activations[:, self.live].astype(np.result_type(activations.dtype, np.float32))
        count = max(len(live), 1)
        mean = live.sum(axis=0, dtype=np.float64) / count
        self.values = (live - mean.astype(live.dtype)).astype(np.float32, copy=False)
        self.std = np.sqrt(np.square(self.values, dtype=np.float64).sum(axis=0) / count)
        self.variance = np.where(finite, 0.0, np.nan)
        self.variance[self.live] = self.std**2


def _statistics(activations):
    if isinstance(activations, LayerStatistics):
        return activations
    return LayerStatistics(activations)


def _pair_scores(x, y, cross, self_norms):
    """`{measure: score}` of two centred layers from their cross product `Xc' Yc`."""
    if cross.size == 0:
        return {"cka": np.nan, "pearson": np.nan}
    cka = np.square(cross, dtype=np.float64).sum() / (self_norms[0] * self_norms[1])
    r = cross / (len(x.values) * np.outer(x.std, y.std)).astype(np.float32)
    np.abs(r, out=r)
    pearson = (r.max(axis=1).mean() + r.max(axis=0).mean()) / 2.0
    return {"cka": min(cka, 1.0), "pearson": min(pearson, 1.0)}


def cross_layer_scores(activations, measures=MEASURES):
    """Scores of every pair of layers.

    Args:
      activations: List of L arrays `[N, D_l]` (same N, any widths) or
        `LayerStatistics`.
      measures: Names from `MEASURES`.

    Returns:
      `{measure: [L, L] float64}`, symmetric, `NaN` where a layer has no live
      feature. One `X' Y` product per pair serves every measure.
    """
    layers = [_statistics(a) for a in activations]
    scores = {m: np.full((len(layers), len(layers)), np.nan) for m in measures}

    def store(i, j, pair):
        for m in measures:
            scores[m][i, j] = scores[m][j, i] = pair[m]

    norms = []
    for i, x in enumerate(layers):  # The diagonal first: it gives the norms of `Xc' Xc`.
        gram = x.values.T @ x.values
        norms.append(np.linalg.norm(gram))
        store(i, i, _pair_scores(x, x, gram, (norms[i], norms[i])))
    for i, x in enumerate(layers):
        for j in range(i + 1, len(layers)):
            y = layers[j]
            store(i, j, _pair_scores(x, y, x.values.T @ y.values, (norms[i], norms[j])))
    return scores


def mean_off_diagonal(matrix):
    """Mean of the defined scores of distinct pairs (`i < j`), or None if none."""
    upper = matrix[np.triu_indices(len(matrix), k=1)]
    upper = upper[np.isfinite(upper)]
    return float(upper.mean()) if upper.size else None


def evenly_spaced(total, limit):
    """`min(total, limit)` indices spread evenly over `range(total)`, first and last included."""
    if total <= limit:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, limit).round().astype(np.int64))


def class_balanced(labels, limit):
    """Up to `limit` probe indices, as balanced over the classes as possible, ordered by class.

    Classes take turns in probe order: the first point of each class, then
    the second of each, and so on until `limit` points are taken (a class
    that runs out drops out). Within a class, points keep their probe order.
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels)) - starts  # Position within its class.
    taken = np.lexsort((np.arange(len(labels)), labels, rank))[:limit]
    return taken[np.lexsort((taken, labels[taken]))]


def _correlations(values, std, live):
    """`[K, K]` Pearson r of K columns from the centred live ones (`values`, `std`); NaN for dead."""
    z = values / std.astype(np.float32)
    live_r = np.clip(z.T @ z / max(len(z), 1), -1.0, 1.0)
    np.fill_diagonal(live_r, 1.0)
    matrix = np.full((len(live), len(live)), np.nan, np.float32)
    matrix[np.ix_(live, live)] = live_r
    return matrix


def feature_correlations(activations, max_features):
    """Feature x feature Pearson r over the probe set.

    Features beyond `max_features` are subsampled with `evenly_spaced`, so
    the same features are compared at every epoch.

    Args:
      activations: `[N, D]` array or its `LayerStatistics`.
      max_features: Largest number of features kept.

    Returns:
      `(matrix [F, F] float32, dead [F] bool, feature indices [F])`; rows
      and columns of dead features are NaN, the diagonal of live ones is 1.
    """
    layer = _statistics(activations)
    indices = evenly_spaced(len(layer.live), max_features)
    live = layer.live[indices]
    columns = np.cumsum(layer.live)[indices[live]] - 1  # Positions among the live features.
    matrix = _correlations(layer.values[:, columns], layer.std[columns], live)
    return matrix, ~live, indices


def sample_correlations(activations, indices):
    """Sample x sample Pearson r of the activation patterns of chosen probe points.

    Each live feature is first centred over the whole probe set, so that two
    samples correlate when they deviate from the average sample in the same
    way; dead features are left out.

    Args:
      activations: `[N, D]` array or its `LayerStatistics`.
      indices: `[S]` probe indices, in the order of the matrix (e.g. from
        `class_balanced`).

    Returns:
      `(matrix [S, S] float32, flat [S] bool)`; `flat` marks samples whose
      pattern is constant (no correlation defined), with NaN rows.
    """
    patterns = _statistics(activations).values[indices].T  # [L, S]: one column per sample.
    centred = LayerStatistics(patterns)
    return _correlations(centred.values, centred.std, centred.live), ~centred.live


def augmentation_variance(augmented, probe):
    """Per-feature variance over augmented copies of one input, and over the probe set.

    Args:
      augmented: `[A, D]` activations of A augmentations of one input.
      probe: `[N, D]` activations of the probe set (same layer and epoch),
        or their `LayerStatistics`.

    Returns:
      float32 `[2, D]`: row 0 the variance over the augmentations, row 1
      over the probe set (NaN for features with non-finite values).
    """
    variance = np.var(augmented, axis=0, dtype=np.float64)
    return np.stack([variance, _statistics(probe).variance]).astype(np.float32)


def invariant_features(variances, threshold):
    """Which features ignore the augmentations.

    A feature is *dead* when it is constant both over the probe set and over
    the augmentations; it is *invariant* when it is not dead and its variance
    over the augmentations is at most `threshold` times its variance over
    the probe set (it varies across inputs, but not across augmentations of
    one input).

    Args:
      variances: `[2, D]` from `augmentation_variance`.
      threshold: Largest variance ratio of an invariant feature.

    Returns:
      `(invariant [D] bool, dead [D] bool, ratio [D] float64 (NaN where
      the probe variance is 0 or not finite))`.
    """
    augmented, probe = np.asarray(variances, dtype=np.float64)
    dead = (augmented == 0) & (probe == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(probe > 0, augmented / probe, np.nan)
    invariant = ~dead & (ratio <= threshold)
    return invariant, dead, ratio
