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


def live_features(activations):
    """`[D]` bool: features that are finite everywhere and not constant."""
    activations = np.asarray(activations)
    finite = np.isfinite(activations).all(axis=0)
    spread = np.ptp(np.where(finite, activations, 0), axis=0) if len(activations) else 0
    return finite & (spread > 0)


class _Centred:
    """One layer's live features, centred (float32), and their standard deviations."""

    def __init__(self, activations):
        activations = np.asarray(activations)
        self.live = live_features(activations)
        values = activations[:, self.live].astype(np.float64)
        values -= values.mean(axis=0)
        self.std = np.sqrt((values**2).mean(axis=0))
        self.values = values.astype(np.float32)


def _pair_scores(x, y, cross, self_norms):
    """`{measure: score}` of two centred layers from their cross product `Xc' Yc`."""
    if cross.size == 0:
        return {"cka": np.nan, "pearson": np.nan}
    cka = np.square(cross, dtype=np.float64).sum() / (self_norms[0] * self_norms[1])
    r = np.abs(cross / (len(x.values) * np.outer(x.std, y.std)))
    pearson = (r.max(axis=1).mean() + r.max(axis=0).mean()) / 2.0
    return {"cka": min(cka, 1.0), "pearson": min(pearson, 1.0)}


def cross_layer_scores(activations, measures=MEASURES):
    """Scores of every pair of layers.

    Args:
      activations: List of L arrays `[N, D_l]` (same N, any widths).
      measures: Names from `MEASURES`.

    Returns:
      `{measure: [L, L] float64}`, symmetric, `NaN` where a layer has no live
      feature. One `X' Y` product per pair serves every measure.
    """
    layers = [_Centred(a) for a in activations]
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


def correlation_matrix(values):
    """Pearson r between the columns of `values` `[M, K]`.

    Returns:
      `([K, K] float32, dead [K] bool)`; rows and columns of dead columns
      are NaN, the diagonal of live ones is exactly 1.
    """
    layer = _Centred(values)
    k = len(layer.live)
    z = layer.values / layer.std.astype(np.float32)
    live_r = np.clip(z.T @ z / max(len(z), 1), -1.0, 1.0)
    np.fill_diagonal(live_r, 1.0)
    matrix = np.full((k, k), np.nan, np.float32)
    matrix[np.ix_(layer.live, layer.live)] = live_r
    return matrix, ~layer.live


def feature_correlations(activations, max_features):
    """Feature x feature Pearson r over the probe set.

    Features beyond `max_features` are subsampled with `evenly_spaced`, so
    the same features are compared at every epoch.

    Returns:
      `(matrix [F, F] float32, dead [F] bool, feature indices [F])`.
    """
    indices = evenly_spaced(np.shape(activations)[1], max_features)
    matrix, dead = correlation_matrix(np.asarray(activations)[:, indices])
    return matrix, dead, indices


def sample_correlations(activations, labels, max_samples):
    """Sample x sample Pearson r of activation patterns, samples ordered by class.

    Each live feature is first centred over the whole probe set, so that two
    samples correlate when they deviate from the average sample in the same
    way; dead features are left out. Samples are chosen by `class_balanced`.

    Returns:
      `(matrix [S, S] float32, constant [S] bool, probe indices [S])`;
      `constant` marks samples whose pattern is flat (no correlation defined).
    """
    activations = np.asarray(activations)
    indices = class_balanced(labels, max_samples)
    centred = _Centred(activations).values[indices]
    matrix, constant = correlation_matrix(centred.T)
    return matrix, constant, indices


def augmentation_variance(augmented, probe):
    """Per-feature variance over augmented copies of one input, and over the probe set.

    Args:
      augmented: `[A, D]` activations of A augmentations of one input.
      probe: `[N, D]` activations of the probe set (same layer and epoch).

    Returns:
      float32 `[2, D]`: row 0 the variance over the augmentations, row 1
      over the probe set (non-finite values count as NaN variance).
    """
    variances = [np.var(a, axis=0, dtype=np.float64) for a in (augmented, probe)]
    return np.stack(variances).astype(np.float32)


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
