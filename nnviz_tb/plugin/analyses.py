"""The analyses the routes ask `jobs.Jobs` for: what each computes and caches.

Each returns a `job_types.Analysis` whose `compute` turns one record's `[N, D]`
activations (or a sequence's, for the joint PCA) and the `[N]` labels into a
dict of plain arrays, and whose
`shapes` says which arrays of which shapes a (cached) result must hold.
Every result counts the `non_finite` activation values it replaced by 0.
"""

import numpy as np

from nnviz_tb.analysis import finite, joint_pca, metrics, neurons, projection, sequence
from nnviz_tb.plugin.job_types import Analysis, Stopped


def point_projection(method, perplexity=sequence.DEFAULT_PERPLEXITY, seed=0):
    """Probe points in 2-D: `{"points": [N, 2], "neighborhood_hit": (), "non_finite": ()}`.

    t-SNE frames start from `context.init` (the layout of the frame before
    them in `sequence.parent`'s order) when there is one, and show their
    current layout meanwhile (`context.preview`).
    """

    def compute(data, labels, context):
        if method == "tsne":
            points = _tsne(data, context, perplexity, seed)
        else:
            points = projection.project(data, method, progress=context.progress)
        return {
            "points": points,
            "neighborhood_hit": metrics.neighborhood_hit(points, labels),
            "non_finite": finite.non_finite_count(data),
        }

    def shapes(n, d):
        return {"points": (n, 2), "neighborhood_hit": (), "non_finite": ()}

    if method == "tsne":
        return Analysis("projection|tsne|%r|%d" % (float(perplexity), seed), "t-SNE", compute, shapes, slow=True)
    return Analysis("projection|%s" % method, method.upper(), compute, shapes)


def _tsne(data, context, perplexity, seed):
    try:
        return sequence.tsne_frame(
            data, init=None if context.init is None else context.init["points"], perplexity=perplexity, seed=seed,
            progress=context.progress, should_stop=context.should_stop,
            preview=lambda points: context.preview({"points": points}),
            parent_data=None if context.init is None else context.parent_data())
    except sequence.Cancelled as e:
        raise Stopped() from e


def joint_projection(num_frames):
    """One PCA of all `num_frames` frames of a sequence (a `FrameSet` of one layer's epochs):
    `{"points": [F, N, 2], "neighborhood_hit": [F], "non_finite": [F]}`, shared axes, centre and scale."""

    def compute(frames, labels, context):
        counts = [0] * len(frames)

        def counted(i, load):
            def read():
                data = load()
                counts[i] = finite.non_finite_count(data)
                return data
            return read

        points = np.stack(joint_pca.joint_pca([counted(i, load) for i, load in enumerate(frames)]))
        context.progress(1.0)
        return {"points": points, "neighborhood_hit": np.array([metrics.neighborhood_hit(p, labels) for p in points]),
                "non_finite": np.array(counts)}

    def shapes(n, d):
        return {"points": (num_frames, n, 2), "neighborhood_hit": (num_frames,), "non_finite": (num_frames,)}

    return Analysis("projection|joint_pca|%d" % num_frames, "joint PCA", compute, shapes)


def neuron_projection(method):
    """Neurons in 2-D by `1 - |r|`: `{"points": [S, 2] (NaN rows for dead), "dead": [S], "neurons": [S], "num_neurons": ()}`.

    `neurons` are the indices of the S neurons shown (`neurons.sample_neurons`:
    all of them up to `neurons.MAX_NEURONS`). Live neurons are put in
    canonical position (centred, unit RMS radius), as point projections are.
    """

    def compute(data, labels, context):
        shown = neurons.sample_neurons(data.shape[1])
        points, dead = neurons.neuron_projection(data[:, shown], method)
        if (~dead).any():
            points[~dead] = projection.canonical(points[~dead])
        context.progress(1.0)
        return {"points": points, "dead": dead, "neurons": shown, "num_neurons": data.shape[1],
                "non_finite": finite.non_finite_count(data)}

    def shapes(n, d):
        shown = min(d, neurons.MAX_NEURONS)
        return {"points": (shown, 2), "dead": (shown,), "neurons": (shown,), "num_neurons": (), "non_finite": ()}

    return Analysis("neurons|%s|%d" % (method, neurons.MAX_NEURONS), "%s of the neurons" % method, compute, shapes,
                    slow=True)


def discriminative(num_classes):
    """ExtraTrees scores: `{"importance": [S, C], "best_class": [S], "neurons": [S]}` (-1 for dead).

    The S neurons are those of `neuron_projection`.
    """

    def compute(data, labels, context):
        shown = neurons.sample_neurons(data.shape[1])
        importance, best_class = neurons.discriminative_power(data[:, shown], labels, num_classes,
                                                              progress=context.progress)
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
        slow=True,
    )
