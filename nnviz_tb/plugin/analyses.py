"""The analyses the routes ask `jobs.Jobs` for: what each computes and caches.

Each returns a `jobs.Analysis` whose `compute` turns one record's `[N, D]`
activations and the `[N]` labels into a dict of plain arrays.
"""

import numpy as np

from nnviz_tb.analysis import metrics, neurons, projection
from nnviz_tb.plugin.jobs import Analysis


def point_projection(method):
    """Probe points in 2-D: `{"points": [N, 2], "neighborhood_hit": ()}`."""

    def compute(data, labels, progress, init):
        points = projection.project(data, method, progress=progress, init=None if init is None else init["points"])
        return {"points": points, "neighborhood_hit": metrics.neighborhood_hit(points, labels)}

    return Analysis("projection|%s" % method, method, compute)


def neuron_projection(method):
    """Neurons in 2-D by `1 - |r|`: `{"points": [D, 2] (NaN rows for dead), "dead": [D]}`.

    Live neurons are put in canonical position (centred, unit RMS radius), as
    point projections are.
    """

    def compute(data, labels, progress, init):
        points, dead = neurons.neuron_projection(data, method)
        if (~dead).any():
            points[~dead] = projection.canonical(points[~dead])
        progress(1.0)
        return {"points": points, "dead": dead}

    return Analysis("neurons|%s" % method, "%s of the neurons" % method, compute)


def discriminative(num_classes):
    """ExtraTrees scores: `{"importance": [D, C], "best_class": [D]}` (-1 for dead)."""

    def compute(data, labels, progress, init):
        importance, best_class = neurons.discriminative_power(data, labels, num_classes, progress=progress)
        return {"importance": importance.astype(np.float32), "best_class": best_class.astype(np.int32)}

    return Analysis(
        "discriminative|%d|%d|%d" % (num_classes, neurons.N_ESTIMATORS, neurons.MIN_SAMPLES_LEAF),
        "discriminative power",
        compute,
    )
