"""t-SNE frames of a run, computed as a chain so that consecutive frames stay coherent.

A *root* frame is a full t-SNE (openTSNE; PCA to 50 dimensions, exact
neighbours, FFT gradients from 3,000 points) from a PCA initialisation.
Every other frame is a *warm* frame: a short optimisation started from the
layout of its parent frame (`parent`), with an extra, decaying attraction
of each point to its parent position (as in dynamic t-SNE, Rauber et al.
2016), the stronger the less the point moved in the data, stopped once the
layout no longer moves. When the parent layout no
longer fits the new data (`_fit`: e.g. a layer from epoch 0 to epoch 1, when
training has changed every activation), the frame is a full t-SNE instead,
Procrustes-aligned to the parent: it then moves as much as its data did.
`nnviz_tb.analysis.joint_pca` is the exactly coherent linear alternative.
"""

import concurrent.futures
import numbers

import numpy as np
from sklearn.decomposition import PCA

from nnviz_tb.analysis.finite import finite_scaled
from nnviz_tb.analysis.projection import align, canonical

DEFAULT_PERPLEXITY = 30.0
_PERPLEXITY_RANGE = (2.0, 100.0)
_PCA_DIMS = 50  # Wider data is reduced before the neighbour search.
# Up to this width the reduction eigendecomposes the covariance: 5,000 x 256 MNIST activations took
# 0.02 s instead of 0.5 s with scikit-learn's default (randomized) solver; at 2,048 it is slower.
_COVARIANCE_PCA_MAX = 1024
_EXACT_NEIGHBOURS_MAX = 10_000  # Exact neighbours are faster than annoy up to here.
# Neighbours with an affinity, times the perplexity (openTSNE's and scikit-learn's default: 3). On the
# MNIST MLP's paper set (benchmarks/projection_engine.py, 5,000 points) 2 took 18 % less CPU time
# (neighbour search, perplexity search and every iteration's attraction) for an NH 0.001 lower.
_NEIGHBOURS_PER_PERPLEXITY = 2
# One thread: on a shared 2-core machine openTSNE with n_jobs=-1 ran 4x slower than with 1
# (thread contention with training and the server); 1 vs 2 threads measured the same at 5,000 points.
_THREADS = 1
_FFT_MIN_POINTS = 3000  # Barnes-Hut is faster below (measured: 500 points 5x, 2,000 points 2x).
_FFT_GRID = (2, 25)  # openTSNE's ints_in_interval, min_num_intervals (50: 1.7x slower, same NH).
_CHECK_EVERY = 25  # Iterations between callbacks (stop, progress, early stop).
_PREVIEW_EVERY = 100  # Iterations between previews, the first after 25.
# Iterations: measured on the MNIST MLP's paper set (benchmarks/projection_engine.py, 5,000 points).
# A root of 60 + 60 had the neighbourhood hit of 150 + 200 (within 0.002 on 4 layers) at a third of
# the time; and the set's distance Pearson rose by 0.015 and stab_pearson by 0.02 with it. Warm
# frames of at most 50 instead of 100 iterations: NH -0.001, 25 % less time; 40 instead of 50: the
# same NH, 10 % less CPU time.
_ROOT_EXAGGERATION = (12.0, 60)  # (factor, iterations) of the early exaggeration.
_ROOT_ITER = 60
_WARM_ITER = 40  # At most; a warm frame stops once it no longer moves.
_REFIT_BELOW = 0.5  # A parent layout fitting the new affinities worse (share of the best) is not used.
_FIT_ROWS = 500
_WARM_TOLERANCE = 5e-3  # Mean movement per check, in units of the RMS radius.
# Warm start radius, times sqrt(N): about a root layout's (measured: 0.48 at 400 points, 0.56 at 1,000
# with Barnes-Hut; 0.29 at 5,000 with FFT, whose grid grows with the layout's extent: 0.3 instead of
# 0.5 there took 30 % less time and raised NH by 0.002).
_WARM_RADIUS = {"bh": 0.5, "fft": 0.3}
_ANCHOR = 0.05  # Initial weight of the attraction to the parent layout.
_ANCHOR_HALF_LIFE = 50  # Iterations over which that weight halves.
# With the parent's data, a point's pull is (median movement / its movement) ** 2 times the weight,
# at most 10 times: points that stay put in the data stay put in the plot. On the MNIST MLP's epochs
# 1-10 this raised the correlation of a point's movement in the data and in 2-D within a step from
# 0.0-0.1 to 0.2-0.35 at the same NH (a uniform pull: 0.0-0.1).
_STILLNESS_POWER, _STILLNESS_MAX = 2.0, 10.0


class Cancelled(Exception):
    """Raised when should_stop() returned True."""


def check_perplexity(perplexity, num_points):
    """The perplexity t-SNE uses for `num_points` points: `perplexity` clipped to (N - 1) / 3.

    Raises:
      ValueError: If `perplexity` is not a finite number in [2, 100].
    """
    low, high = _PERPLEXITY_RANGE
    if (
        isinstance(perplexity, bool)
        or not isinstance(perplexity, numbers.Real)
        or not low <= float(perplexity) <= high
    ):
        raise ValueError(
            "The 'perplexity' parameter must be a number in [%g, %g]. Got %r instead."
            % (low, high, perplexity)
        )
    return float(min(perplexity, max((num_points - 1) / 3.0, 1.0)))


def tsne_frame(data, init=None, perplexity=DEFAULT_PERPLEXITY, seed=0, progress=None,
               should_stop=None, preview=None, parent_data=None):
    """`[N, D]` activations -> `[N, 2]` float32 t-SNE layout with unit RMS radius.

    Args:
      data: Activations; NaN and infinities count as 0.
      init: None for a root frame (PCA initialisation, full optimisation,
        result in `canonical` position), or the `[N, 2]` layout of the
        parent frame (unit RMS radius) for a warm frame: a short
        optimisation from it, pulled towards it at first (a full one from
        PCA when `init` no longer fits the data), the result
        centred, scaled and Procrustes-aligned to `init` (never
        re-canonicalised, so it stays in its parent's frame of reference).
      perplexity: See `check_perplexity`.
      seed: Seed of the randomised parts; the result is deterministic.
      progress: Optional callable taking a fraction in [0, 1].
      should_stop: Optional callable; checked every 25 iterations, and
        when it returns True, `Cancelled` is raised.
      preview: Optional callable taking the current `[N, 2]` float32
        layout (normalised as the result), called now and then.
      parent_data: Optional activations of the parent frame (the same
        shape as `data`): a warm frame then holds the points that moved
        little in the data closer to their parent positions.
    """
    perplexity = check_perplexity(perplexity, len(data))
    data = finite_scaled(data)
    n = len(data)
    if init is not None and np.shape(init) != (n, 2):
        raise ValueError("The 'init' layout must have shape %r. Got %r instead." % ((n, 2), np.shape(init)))
    if n < 3 or np.ptp(data, axis=0).max(initial=0.0) == 0.0:
        points = np.zeros((n, 2), np.float32)
    else:
        reference = None if init is None else _unit(init)
        finish = canonical if reference is None else (lambda p: align(_unit(p), reference))
        monitor = _Monitor(finish, progress, should_stop, preview)
        reduced = _reduced(data, seed)
        affinities = _affinities(reduced, perplexity, seed)
        if reference is None or _fit(affinities.P, reference, int(3 * perplexity)) < _REFIT_BELOW:
            points = finish(_root(reduced, affinities, seed, monitor))
        else:
            points = finish(_warm(affinities, reference, _stillness(data, parent_data), seed, monitor))
    if progress is not None:
        progress(1.0)
    return points


def _unit(points):
    """Centred float64 copy of `points` with unit RMS radius (zeros stay zeros)."""
    points = np.asarray(points, np.float64)
    points = points - points.mean(axis=0)
    radius = np.sqrt((points**2).sum(axis=1).mean())
    return points / radius if radius > 0 else points


def _fit(P, points, k, rows=_FIT_ROWS):
    """How well `points` fit the affinities P: 1 when each point's k nearest are its k most similar.

    The affinity mass between (up to `rows` evenly spaced) points and their
    k nearest neighbours in `points`, as a share of the most any layout can
    reach (each point's k largest affinities). With k = 3 x perplexity (measured
    with as many neighbours in P; with 2 x, the same frames are refitted on the
    paper set), on the MNIST MLP's layers (5,000 points): 0.6-0.98
    for a converged layout of the same data, 0.6-0.85 for the previous
    epoch's layout after epoch 1 (the softmax layer's near-duplicate points
    swap neighbours, hence k well above 10), 0.08-0.36 for the epoch-0 layout
    of epoch 1 (training changed every activation) or another layer's layout.
    """
    from sklearn.neighbors import NearestNeighbors

    n = len(points)
    k = min(k, n - 1)
    sample = np.arange(0, n, max(1, n // rows))
    near = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points[sample], return_distance=False)
    P = P.tocsr()
    got = np.asarray(P[np.repeat(sample, k), near[:, 1:].ravel()]).sum()
    best = sum(np.sort(P.data[P.indptr[i]:P.indptr[i + 1]])[-k:].sum() for i in sample)
    return float(got / best) if best > 0 else 1.0


def _reduced(data, seed):
    if data.shape[1] <= _PCA_DIMS or len(data) <= _PCA_DIMS:
        return data
    solver = "covariance_eigh" if data.shape[1] <= _COVARIANCE_PCA_MAX else "auto"
    return PCA(_PCA_DIMS, svd_solver=solver, random_state=seed).fit_transform(data)


def _affinities(data, perplexity, seed):
    from openTSNE import affinity  # Imported lazily: slow to import.

    method = "exact" if len(data) <= _EXACT_NEIGHBOURS_MAX else "annoy"
    return affinity.PerplexityBasedNN(
        data, perplexity=perplexity, method=method, random_state=seed, n_jobs=_THREADS, verbose=False,
        k_neighbors=min(len(data) - 1, int(_NEIGHBOURS_PER_PERPLEXITY * perplexity)),
    )


def _gradient(num_points):
    """openTSNE's negative-gradient function for `num_points`: Barnes-Hut below
    `_FFT_MIN_POINTS` (FFT's fixed grid costs ~15 ms an iteration even for 40 points), else FFT."""
    from openTSNE.tsne import kl_divergence_bh, kl_divergence_fft

    return kl_divergence_bh if num_points < _FFT_MIN_POINTS else kl_divergence_fft


def _embedding(start, affinities, seed, objective=None):
    from openTSNE import TSNEEmbedding

    return TSNEEmbedding(
        start, affinities, negative_gradient_method=objective or _gradient(len(start)),
        ints_in_interval=_FFT_GRID[0], min_num_intervals=_FFT_GRID[1],
        random_state=seed, n_jobs=_THREADS, verbose=False,
    )


def _root(data, affinities, seed, monitor):
    from openTSNE import initialization

    start = initialization.pca(data, random_state=seed)  # Scaled to std 1e-4.
    factor, exaggeration_iter = _ROOT_EXAGGERATION
    monitor.plan(exaggeration_iter + _ROOT_ITER)
    embedding = _embedding(start, affinities, seed)
    embedding = embedding.optimize(
        exaggeration_iter, exaggeration=factor, momentum=0.5, inplace=True, **monitor.params()
    )
    return embedding.optimize(_ROOT_ITER, momentum=0.8, inplace=True, **monitor.params())


def _stillness(data, parent_data):
    """`[N, 1]` weights of each point's pull to its parent position (see `_STILLNESS_POWER`), or 1."""
    if parent_data is None or np.shape(parent_data) != np.shape(data):
        return 1.0
    moved = np.linalg.norm(_unit(data) - _unit(finite_scaled(parent_data)), axis=1)
    typical = np.median(moved)
    if typical == 0:
        return 1.0
    weights = (typical / np.maximum(moved, typical / _STILLNESS_MAX)) ** _STILLNESS_POWER
    return np.minimum(weights, _STILLNESS_MAX)[:, None]


def _warm(affinities, reference, stillness, seed, monitor):
    n = len(reference)
    kl_divergence = _gradient(n)
    start = reference * (_WARM_RADIUS["bh" if n < _FFT_MIN_POINTS else "fft"] * np.sqrt(n))
    step = [0]

    def objective(embedding, P, **kwargs):
        error, gradient = kl_divergence(embedding, P, **kwargs)
        weight = _ANCHOR * 0.5 ** (step[0] / _ANCHOR_HALF_LIFE)
        step[0] += 1
        # The pull is to the parent layout at the current layout's centre and size (it spreads out).
        centre = embedding.mean(axis=0)
        radius = np.sqrt(((embedding - centre) ** 2).sum(axis=1).mean())
        gradient += (weight / n) * stillness * (embedding - (centre + radius * reference))
        return error, gradient

    monitor.plan(_WARM_ITER, tolerance=_WARM_TOLERANCE, start=start)
    embedding = _embedding(start, affinities, seed, objective)
    return embedding.optimize(_WARM_ITER, momentum=0.8, inplace=True, **monitor.params())


class _Monitor:
    """openTSNE callback: progress, cancelling, previews and (warm frames) early stopping."""

    def __init__(self, finish, progress, should_stop, preview):
        self._finish, self._progress = finish, progress
        self._should_stop, self._preview = should_stop, preview
        self._done, self._total, self._tolerance, self._last = 0, 1, None, None

    def plan(self, total, tolerance=None, start=None):
        """`total` iterations; with a `tolerance`, stop once a check moved less than it from the last
        check (or from `start`, the initial layout)."""
        self._total, self._tolerance = total, tolerance
        self._last = None if start is None else _unit(start)

    def params(self):
        return {"callbacks": self, "callbacks_every_iters": _CHECK_EVERY}

    def __call__(self, iteration, error, embedding):
        self._done += _CHECK_EVERY
        if self._should_stop is not None and self._should_stop():
            raise Cancelled("The t-SNE frame was cancelled.")
        if self._progress is not None:
            self._progress(min(self._done / self._total, 0.99))
        if self._preview is not None and self._done % _PREVIEW_EVERY == _CHECK_EVERY:
            self._preview(self._finish(np.array(embedding)))
        return self._settled(np.array(embedding))

    def _settled(self, embedding):
        """Whether a warm frame moved less than the tolerance since the last check."""
        if self._tolerance is None:
            return False
        current = _unit(embedding)
        previous, self._last = self._last, current
        return previous is not None and np.linalg.norm(current - previous, axis=1).mean() < self._tolerance


def parent(key, layers, epochs):
    """The `(layer, epoch)` key whose layout initialises frame `key`, or None for the root.

    `(L, e_k)` starts from `(L, e_(k-1))` (a new epoch adds one frame per
    layer), `(L_i, e_0)` from `(L_(i-1), e_0)`, and `(L_0, e_0)` is the root.

    Args:
      key: `(layer, epoch)`.
      layers: The run's recorded layers in model order.
      epochs: The sorted recorded epochs of `key`'s layer.
    """
    layer, epoch = key
    if layer not in layers or epoch not in epochs:
        raise ValueError("No frame %r among layers %r and epochs %r." % (key, list(layers), list(epochs)))
    k = list(epochs).index(epoch)
    if k > 0:
        return (layer, epochs[k - 1])
    i = list(layers).index(layer)
    return (layers[i - 1], epochs[0]) if i > 0 else None


def tsne_sequence(keys, load, layers, epochs_of, perplexity=DEFAULT_PERPLEXITY, seed=0, progress=None,
                  workers=2):
    """`{key: [N, 2] layout}` of `keys` and of every ancestor they need, each computed once.

    Frames whose parents are done run on `workers` threads at once (as the
    server's two t-SNE threads do); each result depends only on its data and
    its parent's, so it is the same for any number of workers.

    Args:
      keys: `(layer, epoch)` frames wanted.
      load: `load(key)` returns that frame's `[N, D]` activations.
      layers: The run's layers in model order.
      epochs_of: `epochs_of(layer)` returns that layer's sorted epochs.
      perplexity, seed: As in `tsne_frame`.
      progress: Optional callable taking a fraction in [0, 1] of the frames done.
      workers: Threads.
    """
    order = []
    for key in keys:
        chain = []
        while key is not None and key not in order and key not in chain:
            chain.append(key)
            key = parent(key, layers, epochs_of(key[0]))
        order.extend(reversed(chain))
    parents = {key: parent(key, layers, epochs_of(key[0])) for key in order}
    children = {key: sum(p == key for p in parents.values()) for key in order}
    frames, running, held = {}, {}, {}  # held: the data of frames whose children are not all done.

    def compute(key, init, parent_data):
        data = load(key)
        return tsne_frame(data, init=init, perplexity=perplexity, seed=seed, parent_data=parent_data), data

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        while len(frames) < len(order):
            ready = [k for k in order if k not in frames and k not in running.values()
                     and (parents[k] is None or parents[k] in frames)]
            for key in ready[: workers - len(running)]:
                p = parents[key]
                running[pool.submit(compute, key, frames.get(p), held.get(p))] = key
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                key = running.pop(future)
                frames[key], data = future.result()
                if children[key]:
                    held[key] = data
                if parents[key] is not None:
                    children[parents[key]] -= 1
                    if not children[parents[key]]:
                        held.pop(parents[key], None)
                if progress is not None:
                    progress(len(frames) / len(order))
    return frames
