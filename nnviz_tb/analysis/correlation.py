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

`plan_cross_layer` bounds the work and memory of all layer pairs: CKA over a
class-balanced sample of the points, best-match |r| over evenly spaced
features, where every point and feature would cost more (`CKA_WORK`,
`PEARSON_WORK`, `GRAM_BYTES`).
"""

import dataclasses

import numpy as np

MEASURES = ("cka", "pearson")


class LayerStatistics:
    """One layer's activations over the probe set, prepared once for every analysis.

    The functions below take either an `[N, D]` array or this, so that one
    epoch's analyses centre each layer once. With `overwrite`, a float32
    array whose features are all live is centred in place (no copy).

    Attributes:
      live: `[D]` bool: the features that are finite everywhere and not constant.
      values: `[N, L]` float32, the L live features centred over the probe set.
      std: `[L]` float64, their standard deviations (all > 0).
      variance: `[D]` float64, every feature's variance over the probe set
        (0 for constant features, NaN for non-finite ones).
    """

    def __init__(self, activations, overwrite=False):
        activations = np.asarray(activations)
        activations = activations.astype(np.result_type(activations.dtype, np.float32), copy=False)
        finite = np.ones(activations.shape[1], bool)
        self.live = np.zeros(activations.shape[1], bool)
        if len(activations):
            low, high = activations.min(axis=0), activations.max(axis=0)  # NaN and inf show here.
            finite = np.isfinite(low) & np.isfinite(high)
            self.live = finite & (high > low)
        live = activations if self.live.all() else activations[:, self.live]
        count = max(len(live), 1)
        mean = live.sum(axis=0, dtype=np.float64) / count
        if overwrite and live is activations and live.dtype == np.float32:
            self.values = np.subtract(live, mean.astype(np.float32), out=live)
        else:
            self.values = (live - mean.astype(live.dtype)).astype(np.float32, copy=False)
        self.std = np.sqrt(np.einsum("ij,ij->j", self.values, self.values, dtype=np.float64) / count)
        self.variance = np.where(finite, 0.0, np.nan)
        self.variance[self.live] = self.std**2


def _statistics(activations):
    if isinstance(activations, LayerStatistics):
        return activations
    return LayerStatistics(activations)


# Bounds of one record's cross-layer scores (see `plan_cross_layer`).
CKA_WORK = 5e10  # Multiply-adds of the linear CKA of all layer pairs.
PEARSON_WORK = 2e10  # Multiply-adds of the best-match |r| of all layer pairs.
GRAM_BYTES = 256 * 2**20  # Memory of the N x N Gram matrices held at once.


@dataclasses.dataclass(frozen=True)
class CrossLayerPlan:
    """How the scores of every layer pair are computed, within the bounds above.

    Attributes:
      points: Probe indices the scores are computed over, or None for all.
      grams: Linear CKA from the points' N x N Gram matrices `Xc Xc'` (else
        from the features' cross products `Xc' Yc`; the same number).
      pearson_features: Features per layer (evenly spaced, see
        `evenly_spaced`) that best-match |r| compares, or None for all.
    """

    points: object = None
    grams: bool = False
    pearson_features: object = None


def plan_cross_layer(dims, labels, max_features):
    """The cheapest exact plan for layers of widths `dims`, or one within the bounds.

    Linear CKA costs `n (sum D)^2 / 2` multiply-adds from the features, or
    `n^2 (sum D + L^2 / 2)` from Gram matrices (and `L n^2` floats); the
    cheaper form is used over all `n` probe points if it stays within
    `CKA_WORK` and `GRAM_BYTES`, else over the most points (class-balanced,
    see `class_balanced`) that do. Best-match |r| costs
    `n sum_{i<j} P_i P_j` for `P` features per layer: at most `max_features`,
    fewer if needed to stay within `PEARSON_WORK`.
    """
    dims = np.asarray(dims, dtype=np.float64)
    total, count, limit = dims.sum(), len(dims), len(labels)
    features_per_point = max((total**2 + np.square(dims).sum()) / 2, 1.0)
    from_features = min(limit, int(CKA_WORK / features_per_point))
    grams_per_point = total + count * (count + 1) / 2
    from_grams = min(limit, int(np.sqrt(CKA_WORK / grams_per_point)), int(np.sqrt(GRAM_BYTES / (4 * count))))
    if from_features == from_grams == limit:
        grams = limit * grams_per_point < features_per_point
    else:
        grams = from_grams > from_features
    num = max(from_grams if grams else from_features, min(limit, 2))
    points = None if num >= limit else np.sort(class_balanced(labels, num))

    def pearson_work(cap):
        sizes = np.minimum(dims, cap)
        return num * (sizes.sum() ** 2 - np.square(sizes).sum()) / 2

    cap = max_features
    while cap > 1 and pearson_work(cap) > PEARSON_WORK:
        cap = max(1, int(cap * 0.9))
    return CrossLayerPlan(points, bool(grams), None if cap >= dims.max(initial=0) else cap)


def _point_values(layer, points):
    """`[n, L]` live features centred over `points` (all if None); zero where constant there."""
    if points is None:
        return layer.values
    values = layer.values[points]
    return values - values.mean(axis=0, dtype=np.float64).astype(np.float32)


def _standardized(layer, points, cap):
    """z-scores over `points` of the live ones of `cap` evenly spaced features (varying there)."""
    chosen = evenly_spaced(len(layer.live), len(layer.live) if cap is None else cap)
    columns = np.cumsum(layer.live)[chosen[layer.live[chosen]]] - 1  # Among the live features.
    values = layer.values[:, columns] if points is None else layer.values[np.ix_(points, columns)]
    values = values[:, values.max(axis=0) > values.min(axis=0)] if len(values) else values[:, :0]
    values = values - values.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = np.sqrt(np.einsum("ij,ij->j", values, values, dtype=np.float64) / len(values)).astype(np.float32)
    return values[:, std > 0] / std[std > 0]


def _cka_from_grams(layers, points):
    num = len(layers[0].values) if points is None else len(points)
    grams = np.empty((len(layers), num * num), np.float32)
    for i, layer in enumerate(layers):
        values = _point_values(layer, points)
        grams[i] = (values @ values.T).ravel()
    products = grams @ grams.T
    return _normalised(products.astype(np.float64))


def _cka_from_features(layers, points, pearson=False):
    """`(CKA, best-match |r| or None)` from one product `Xc' Yc` per pair; the |r| (over
    every point and live feature) only if `pearson` and `points` is None."""
    values = [_point_values(layer, points) for layer in layers]
    products = np.zeros((len(layers), len(layers)))
    matches = np.full((len(layers), len(layers)), np.nan) if pearson else None
    for i, j, cross in _pair_blocks(values):
        products[i, j] = products[j, i] = np.square(cross, dtype=np.float64).sum()
        if pearson:
            scale = (len(values[i]) * np.outer(layers[i].std, layers[j].std)).astype(np.float32)
            matches[i, j] = matches[j, i] = _best_match_score(np.abs(cross) / scale)
    return _normalised(products), matches


def _pair_blocks(values):
    """Yields `(i, j, values[i]' values[j])` for `i <= j` of the non-empty `[n, K]` arrays,
    one matrix product per `i`."""
    kept = [k for k, v in enumerate(values) if v.shape[1]]
    if not kept:
        return
    stacked = np.asfortranarray(np.concatenate([values[k] for k in kept], axis=1))  # Column blocks.
    starts = np.cumsum([0] + [values[k].shape[1] for k in kept])
    for position, i in enumerate(kept):
        product = values[i].T @ stacked[:, starts[position]:]
        offsets = starts[position:] - starts[position]
        for j, start, stop in zip(kept[position:], offsets[:-1], offsets[1:]):
            yield i, j, product[:, start:stop]


def _normalised(products):
    """CKA `<Kx, Ky> / (|Kx| |Ky|)` from the `[L, L]` inner products; NaN for an empty layer."""
    norms = np.sqrt(np.diagonal(products))
    with np.errstate(divide="ignore", invalid="ignore"):
        cka = products / np.outer(norms, norms)
    cka[(norms == 0)[:, None] | (norms == 0)[None, :]] = np.nan
    np.fill_diagonal(cka, np.where(norms > 0, 1.0, np.nan))
    return np.minimum(cka, 1.0)


def _best_match_score(r):
    """`(mean_i max_j r_ij + mean_j max_i r_ij) / 2` of an `[I, J]` matrix of |r|."""
    return min((r.max(axis=1).mean() + r.max(axis=0).mean()) / 2.0, 1.0)


def _best_match(layers, points, cap):
    """`[L, L]` best-match |r| (see the module docstring) of `cap` features per layer."""
    z = [_standardized(layer, points, cap) for layer in layers]
    scores = np.full((len(layers), len(layers)), np.nan)
    for i, j, cross in _pair_blocks(z):
        scores[i, j] = scores[j, i] = _best_match_score(np.abs(cross) / len(z[i]))
    return scores


def cross_layer_scores(activations, measures=MEASURES, plan=CrossLayerPlan()):
    """Scores of every pair of layers.

    Args:
      activations: List of L arrays `[N, D_l]` (same N, any widths) or
        `LayerStatistics`.
      measures: Names from `MEASURES`.
      plan: A `CrossLayerPlan` (from `plan_cross_layer`); the default uses
        every point and feature.

    Returns:
      `{measure: [L, L] float64}`, symmetric, `NaN` where a layer has no live
      feature (over the plan's points).
    """
    layers = [_statistics(a) for a in activations]
    scores = {}
    # Over every point and feature one product per pair serves both measures.
    shared = "pearson" in measures and plan.points is None and plan.pearson_features is None
    if "cka" in measures and plan.grams:
        scores["cka"] = _cka_from_grams(layers, plan.points)
    elif "cka" in measures:
        scores["cka"], scores["pearson"] = _cka_from_features(layers, plan.points, pearson=shared)
    if "pearson" in measures and scores.get("pearson") is None:
        scores["pearson"] = _best_match(layers, plan.points, plan.pearson_features)
    return {m: scores[m] for m in measures}


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
