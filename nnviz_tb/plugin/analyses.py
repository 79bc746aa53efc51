"""The analyses the routes ask `jobs.Jobs` for: what each computes and caches.

Each returns a `jobs.Analysis` whose `compute` turns one record's `[N, D]`
activations and the `[N]` labels into a dict of plain arrays, and whose
`shapes` says which arrays of which shapes a (cached) result must hold.
Every result counts the `non_finite` activation values it replaced by 0.
"""

import numpy as np

from nnviz_tb.analysis import finite, metrics, neurons, projection
from nnviz_tb.plugin.jobs import Analysis


def point_projection(method):
    """Probe points in 2-D: `{"points": [N, 2], "neighborhood_hit": (), "non_finite": ()}`."""

    def compute(data, labels, progress, init):
        points = projection.project(data, method, progress=progress, init=None if init is None else init["points"])
        return {
            "points": points,
            "neighborhood_hit": metrics.neighborhood_hit(points, labels),
            "non_finite": finite.non_finite_count(data),
        }

    def shapes(n, d):
        return {"points": (n, 2), "neighborhood_hit": (), "non_finite": ()}

    return Analysis("projection|%s" % method, method, compute, shapes)


def neuron_projection(method):
    """Neurons in 2-D by `1 - |r|`: `{"points": [S, 2] (NaN rows for dead), "dead": [S], "neurons": [S], "num_neurons": ()}`.

    `neurons` are the indices of the S neurons shown (`neurons.sample_neurons`:
    all of them up to `neurons.MAX_NEURONS`). Live neurons are put in
    canonical position (centred, unit RMS radius), as point projections are.
    """

    def compute(data, labels, progress, init):
        shown = neurons.sample_neurons(data.shape[1])
        points, dead = neurons.neuron_projection(data[:, shown], method)
        if (~dead).any():
            points[~dead] = projection.canonical(points[~dead])
        progress(1.0)
        return {"points": points, "dead": dead, "neurons": shown, "num_neurons": data.shape[1],
                "non_finite": finite.non_finite_count(data)}

    def shapes(n, d):
        shown = min(d, neurons.MAX_NEURONS)
        return {"points": (shown, 2), "dead": (shown,), "neurons": (shown,), "num_neurons": (), "non_finite": ()}

    return Analysis("neurons|%s|%d" % (method, neurons.MAX_NEURONS), "%s of the neurons" % method, compute, shapes)


def discriminative(num_classes):
    """ExtraTrees scores: `{"importance": [S, C], "best_class": [S], "neurons": [S]}` (-1 for dead).

    The S neurons are those of `neuron_projection`.
    """

    def compute(data, labels, progress, init):
        shown = neurons.sample_neurons(data.shape[1])
        importance, best_class = neurons.discriminative_power(data[:, shown], labels, num_classes, progress=progress)
        return {
            "importance": importance.astype(np.float32),
            "best_class": best_class.astype(np.int32),
            "neurons": shown,
            "num_neurons": data.shape[1],
            "non_finite": finite.non_finite_count(data),
        }

    def shapes(n, d):
        shown = min(d, neurons.MAX_NEURONS)
        return {"importance": (shown, num_classes), "best_class": (shown,), "neurons": (shown,),
                "num_neurons": (), "non_finite": ()}

    return Analysis(
        "discriminative|%d|%d|%d|%d" % (num_classes, neurons.N_ESTIMATORS, neurons.MIN_SAMPLES_LEAF,
                                        neurons.MAX_NEURONS),
        "discriminative power",
        compute,
        shapes,
    )
