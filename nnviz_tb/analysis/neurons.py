"""Neuron-level analyses of one layer (Rauber et al. 2017, Sec. 4.3-4.4).

Neurons (or conv channels) are compared by their activation vectors over the
probe set. Constant ("dead") neurons have no correlation with anything: they
are reported separately, never given a made-up distance.
"""

import inspect

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.manifold import MDS, TSNE

from nnviz_tb.analysis.finite import finite_scaled

NEURON_METHODS = ("mds", "tsne")
# ExtraTrees parameters of the discriminative scores (one classifier per class).
N_ESTIMATORS = 50
MIN_SAMPLES_LEAF = 2
# Neuron projections and discriminative maps of wider layers use this many
# neurons, sampled (`sample_neurons`): the dissimilarity matrix is O(D**2).
MAX_NEURONS = 2000


def sample_neurons(num_neurons, limit=MAX_NEURONS, seed=0):
    """Sorted indices of at most `limit` of `num_neurons` neurons, the same for the same arguments."""
    if num_neurons <= limit:
        return np.arange(num_neurons)
    return np.sort(np.random.default_rng(seed).choice(num_neurons, limit, replace=False))


def dead_neurons(activations):
    """`[D]` bool: neurons whose activation is the same for every probe point (NaN and inf count as 0)."""
    return np.ptp(finite_scaled(activations), axis=0) == 0


def dissimilarity(activations):
    """`1 - |Pearson r|` between the live neurons' activation vectors.

    Args:
      activations: `[N, D]` layer outputs over the probe set.

    Returns:
      `(distances [L, L], dead [D])`, where L is the number of live neurons
      (`~dead`), in their original order.
    """
    activations = finite_scaled(activations)
    dead = np.ptp(activations, axis=0) == 0
    live = activations[:, ~dead]
    if live.shape[1] == 0:
        return np.zeros((0, 0)), dead
    correlation = np.corrcoef(live, rowvar=False).reshape(live.shape[1], live.shape[1])
    # NaN only where a live neuron's spread underflows: treat it as uncorrelated.
    distances = 1.0 - np.abs(np.clip(np.nan_to_num(correlation), -1.0, 1.0))
    np.fill_diagonal(distances, 0.0)
    return (distances + distances.T) / 2.0, dead


def neuron_projection(activations, method="mds", random_state=0):
    """Places each neuron in 2-D so that correlated neurons are close.

    Returns:
      `(points [D, 2] float32, dead [D] bool)`; rows of dead neurons are NaN.
    """
    if method not in NEURON_METHODS:
        raise ValueError("Unknown neuron projection %r; expected one of %s." % (method, NEURON_METHODS))
    distances, dead = dissimilarity(activations)
    points = np.full((len(dead), 2), np.nan, np.float32)
    live = len(distances)
    if live >= 3:
        if method == "mds":
            model = _mds(random_state)
        else:
            model = TSNE(2, metric="precomputed", init="random", random_state=random_state,
                         perplexity=min(30.0, (live - 1) / 3.0))
        points[~dead] = model.fit_transform(distances)
    elif live:
        points[~dead] = np.column_stack([np.arange(live), np.zeros(live)])
    return points, dead


def _mds(random_state):
    """Metric MDS on precomputed dissimilarities, across scikit-learn's API change."""
    if "metric_mds" in inspect.signature(MDS).parameters:  # scikit-learn >= 1.8
        return MDS(2, metric="precomputed", init="classical_mds", n_init=1, random_state=random_state)
    return MDS(2, dissimilarity="precomputed", n_init=1, random_state=random_state)


def discriminative_power(activations, labels, num_classes=None, random_state=0, progress=None):
    """Importance of each neuron for telling each class from the rest.

    For each class, an ExtraTrees classifier (`N_ESTIMATORS` trees,
    `MIN_SAMPLES_LEAF` samples per leaf) learns class-vs-rest from the
    layer's activations; a neuron's importance is its impurity-based feature
    importance in that classifier.

    `progress`, if given, is called with the fraction of classes done (c / C).

    Returns:
      `(importance [D, C], best_class [D])`: `best_class` is the class for
      which the neuron is most important (-1 for dead neurons). The
      discriminative map shows it with opacity `importance / importance.max(axis=0)`,
      the importance normalised within that class.
    """
    activations = finite_scaled(activations).astype(np.float32)
    labels = np.asarray(labels)
    num_classes = num_classes or int(labels.max()) + 1
    importance = np.zeros((activations.shape[1], num_classes))
    for c in range(num_classes):
        target = labels == c
        if target.any() and not target.all():  # No class-vs-rest task for an absent class.
            forest = ExtraTreesClassifier(
                N_ESTIMATORS, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=random_state, n_jobs=-1
            )
            importance[:, c] = forest.fit(activations, target).feature_importances_
        if progress is not None:
            progress((c + 1) / num_classes)
    best_class = importance.argmax(axis=1)
    best_class[dead_neurons(activations) | (importance.max(axis=1) == 0)] = -1
    return importance, best_class
