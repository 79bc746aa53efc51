"""In-graph accumulation of gradient statistics, for `GradientStatsLogger` (TensorFlow).

`GradientTracker.observe(grads, weights)` is traced into the compiled
training step and runs once per optimizer step, just before the optimizer
applies `grads`. Its results stay on the device in `tf.Variable`s until
`read_epoch()` at the end of the epoch: no host synchronisation per step.

A full pass over every weight costs about as much as a whole training step
(on a CPU), so the statistics are measured on *sampled steps*: every
`every_n_steps`-th optimizer step of the fit (step index `t`, counted from
the start of the `fit` call, with `t % every_n_steps == 0`), each compared
with the step just before it, whose gradient signs and weights are kept for
that purpose (a measured step without it, such as the fit's first, counts
no sign flips and no weight change). With `every_n_steps=1` every step is
measured. Every op waits for the step's gradients, so a call of the
training step that stops before them (at the end of data of unknown
length) leaves no trace. On a measured
step, per weight `w` with gradient `g` (`zt`, `rt`: the zero and release
thresholds):

* zero: `|g| < zt`; its sign is then 0, else `sign(g)`.
* sign flip: the signs at the step and at the one before are opposite (so
  neither gradient is zero).
* minimum / maximum crossed: a sign flip where the weight moved, between the
  two gradients, in the direction in which the gradient grew (`dw * g > 0`:
  the loss curves upwards, a minimum lies between) or shrank (`dw * g < 0`:
  a maximum). `dw` is the weight's change between the two steps.
* released: `|g| > rt` while the weight has been zero at an earlier measured
  step since its last release (pending releases carry over epochs).
* the squared L2 norms of `g` and of `dw`, summed per group.

Separately, on every step (every `stride`-th step when an epoch has more
steps than the heatmap holds), the gradients of a fixed sample of weights
are recorded for the heatmaps: cheap, as it touches only those weights.

Memory on the device: 10 bytes per trainable weight (its previous value and
gradient, float32; pending-release and nonzero-this-epoch flags), plus
`(heatmap_steps + 1) * samples * 4` bytes of sampled gradients and
`(heatmap_steps + 1) * groups * 8` bytes of per-measured-step statistics.
"""

import functools

import numpy as np
import tensorflow as tf

from nnviz_tb.gradient_stats import COUNT_COLUMNS, NORM_COLUMNS, STEP_COLUMNS

# Epoch counters: measured steps, those with a step before them.
_MEASURED, _CHANGES = range(2)


class GradientTracker:
    """Accumulates gradient statistics of a fixed list of variables on the device.

    Args:
      shapes: Shape of each tracked variable.
      groups: `[G, V]` 0/1 matrix: which variables each group (a variable
        itself, or a layer) sums.
      samples: Per variable, int array of flat indices whose gradient is
        recorded at each step (the heatmap rows; empty for none).
      zero_threshold: `|g|` below this is a zero gradient.
      release_threshold: `|g|` above this releases a weight.
      every_n_steps: Measure every this many optimizer steps.
      heatmap_steps: Most steps recorded per epoch, in the heatmap and in the
        per-measured-step statistics.
      stride: Record every this many steps of an epoch in the heatmap (see
        `set_stride`).
      remember_all: Keep every step to compare with (see `set_every_n_steps`).

    A tracker serves one `fit` call: its step 0 is the fit's first step.
    """

    def __init__(self, shapes, groups, samples, zero_threshold, release_threshold,
                 every_n_steps, heatmap_steps, stride=1, remember_all=False):
        self.every_n_steps = int(every_n_steps)
        self.heatmap_steps = int(heatmap_steps)
        self._sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        self._samples = [np.asarray(s, dtype=np.int32) for s in samples]
        # Sampled weights as (row, column) of a variable seen as [rows, -1], for sparse gradients.
        self._sample_cells = [
            np.divmod(s, max(int(np.prod(shape[1:], dtype=np.int64)), 1)) for s, shape in zip(self._samples, shapes)
        ]
        self._groups = np.asarray(groups, dtype=np.float32)
        num_groups = len(self._groups)
        num_samples = sum(len(s) for s in self._samples)
        columns = len(COUNT_COLUMNS) + len(NORM_COLUMNS)

        def variable(value, name):
            return tf.Variable(value, trainable=False, name="nnviz_" + name)

        with tf.init_scope():  # Also when first built while the train step is traced.
            self._previous = [variable(tf.zeros([n]), "previous") for n in self._sizes]
            self._previous_grads = [variable(tf.zeros([n]), "previous_grads") for n in self._sizes]
            self._pending = [variable(tf.zeros([n], tf.bool), "pending") for n in self._sizes]
            self._nonzero = [variable(tf.zeros([n], tf.bool), "nonzero") for n in self._sizes]
            self._step = variable(tf.constant(0, tf.int64), "step")
            # The step kept in `_previous` (none yet: -2, never the one before a step).
            self._previous_step = variable(tf.constant(-2, tf.int64), "previous_step")
            self._every_n_steps = variable(tf.constant(self.every_n_steps, tf.int64), "every_n_steps")
            self._remember_all = variable(tf.constant(bool(remember_all)), "remember_all")
            self._epoch_start = variable(tf.constant(0, tf.int64), "epoch_start")
            self._counters = variable(tf.zeros([2], tf.int64), "counters")
            self._totals = variable(tf.zeros([num_groups, columns], tf.float64), "totals")
            self._stride = variable(tf.constant(stride, tf.int64), "stride")
            self._sampled = variable(tf.zeros([self.heatmap_steps + 1, num_samples]), "sampled")
            self._step_stats = variable(
                tf.zeros([self.heatmap_steps + 1, num_groups, len(STEP_COLUMNS)]), "step_stats"
            )
        # The per-weight work runs as XLA-compiled functions: fused loops, and a
        # branch that is not taken costs one node of the training step's graph.
        self._events = tf.function(
            functools.partial(_events, zero_threshold=zero_threshold, release_threshold=release_threshold),
            jit_compile=True, autograph=False,
        )
        self._masked = tf.function(
            functools.partial(_masked, zero_threshold=zero_threshold), jit_compile=True, autograph=False
        )
        self._update = tf.function(self._update_fn, autograph=False)

    def observe(self, grads, variables):
        """Adds one optimizer step: the gradients of `variables` (read here, before the
        optimizer updates them), each as a list of parts to add up (one per replica),
        added only where needed: on measured steps, and of the sampled weights. A part
        may be a `tf.IndexedSlices` (e.g. of an embedding): it is made dense only on
        measured steps."""
        update = self._update_fn if tf.inside_function() else self._update
        update([[_float(part) for part in parts] for parts in grads], list(variables))

    def _update_fn(self, grads, variables):
        # Every op waits for the gradients: on data of unknown length, Keras' last call of an
        # epoch stops at the end of the data, before the gradients exist, and the ops that do
        # not need them (the step counter, a branch's counters) would still run.
        with tf.control_dependencies(_tensors(grads)):
            step = tf.identity(self._step)
        phase = step % self._every_n_steps
        # Few operations on the steps that are not measured: each costs microseconds.
        tf.cond(phase == 0, lambda: self._measure(_sums(grads), variables, step), tf.no_op)
        remember = tf.logical_or(phase == self._every_n_steps - 1, self._remember_all)
        tf.cond(remember, lambda: self._remember(_sums(grads), variables, step), tf.no_op)
        if self._sampled.shape[1]:
            self._record_samples(grads, step)
        self._step.assign(step + 1)

    def _remember(self, grads, variables, step):
        """Keeps the step before a measured one, to compare with."""
        weights = [_flat(v) for v in variables]
        for variable, value in zip(self._previous_grads + self._previous, self._masked(grads) + weights):
            variable.assign(value)
        self._previous_step.assign(step)
        return tf.no_op()

    def _measure(self, grads, variables, step):
        """Adds a measured step, compared with the one before if that one was kept."""
        has_previous = tf.equal(self._previous_step, step - 1)
        weights = [_flat(v) for v in variables]
        state = [[v.value() for v in variables]
                 for variables in (self._previous_grads, self._previous, self._pending, self._nonzero)]
        rows, pending, nonzero = self._events(grads, weights, *state, has_previous)
        for variable, value in zip(self._pending + self._nonzero, pending + nonzero):
            variable.assign(value)
        sums = tf.matmul(self._groups, rows)  # Sums over each group's variables.
        num_counts = len(COUNT_COLUMNS)
        norms = tf.sqrt(sums[:, num_counts:]) * tf.stack([1.0, tf.cast(has_previous, tf.float32)])
        self._totals.assign_add(tf.cast(tf.concat([sums[:, :num_counts], norms], 1), tf.float64))
        slot = tf.minimum(self._counters[_MEASURED], self.heatmap_steps)  # Spare row: overflow.
        self._step_stats.scatter_update(
            tf.IndexedSlices(tf.stack([sums[:, 0], norms[:, 0]], 1)[None], slot[None])
        )
        self._counters.assign_add(tf.stack([tf.constant(1, tf.int64), tf.cast(has_previous, tf.int64)]))
        return tf.no_op()

    def _record_samples(self, grads, step):
        """Writes the sampled gradients to row `epoch step // stride`: each row ends with the
        last step of its `stride` steps; steps past `heatmap_steps` rows go to a spare row."""
        values = tf.concat([_sum([_gather(part, s, cells) for part in parts])
                            for parts, s, cells in zip(grads, self._samples, self._sample_cells) if len(s)], 0)
        row = tf.minimum((step - self._epoch_start) // self._stride, self.heatmap_steps)
        self._sampled.scatter_update(tf.IndexedSlices(values[None], row[None]))

    def set_stride(self, stride):
        """Records every `stride`-th step of the coming epochs in the heatmap."""
        self._stride.assign(int(stride))

    def set_every_n_steps(self, every_n_steps, remember_all=False):
        """Measures every `every_n_steps`-th step of the fit from now on; with `remember_all`,
        keeps every step to compare with (so that a step after it can be measured whatever
        `every_n_steps` becomes)."""
        self.every_n_steps = int(every_n_steps)
        self._every_n_steps.assign(self.every_n_steps)
        self._remember_all.assign(bool(remember_all))

    def read_epoch(self):
        """Returns the epoch's raw statistics as NumPy arrays and starts a new epoch.

        Returns:
          A dict: `totals` `[G, 7]` (sums over the measured steps of the
          `COUNT_COLUMNS` and of the per-step `NORM_COLUMNS`); `steps`,
          `measured`, `change_steps` (measured steps with a step before them)
          and `first_step` (fit step index of the epoch's first step);
          `nonzero` (per variable, bool `[size]`: a nonzero gradient at some
          measured step); `stride`; `sampled` `[T, samples]`, the sampled
          weights' gradients at the `T` recorded steps; `step_stats`
          `[M, G, 2]` of the `M` measured steps (both capped at
          `heatmap_steps`).
        """
        measured, change_steps = (int(c) for c in self._counters.numpy())
        step, first_step = int(self._step.numpy()), int(self._epoch_start.numpy())
        steps, stride = step - first_step, int(self._stride.numpy())
        rows = min(-(-steps // stride), self.heatmap_steps)
        raw = {
            "totals": self._totals.numpy(),
            "steps": steps,
            "measured": measured,
            "change_steps": change_steps,
            "first_step": first_step,
            "nonzero": [v.numpy() for v in self._nonzero],
            "stride": stride,
            "sampled": self._sampled[:rows].numpy(),
            "sampled_steps": [first_step + min((r + 1) * stride, steps) - 1 for r in range(rows)],
            "step_stats": self._step_stats[: min(measured, self.heatmap_steps)].numpy(),
        }
        self._reset_epoch()
        return raw

    def _reset_epoch(self):
        self._epoch_start.assign(self._step)
        for state in [self._totals, self._counters] + self._nonzero:
            state.assign(tf.zeros_like(state))


def _tensors(grads):
    """The tensors that make up `grads` (lists of parts, dense or `tf.IndexedSlices`)."""
    return [t for parts in grads for part in parts
            for t in ((part.values, part.indices) if isinstance(part, tf.IndexedSlices) else (part,))]


def _sum(parts):
    return parts[0] if len(parts) == 1 else tf.add_n(parts)


def _sums(grads):
    """Each gradient's parts added up, flat and dense."""
    return [_sum([_flat(part) for part in parts]) for parts in grads]


def _float(gradient):
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(tf.cast(gradient.values, tf.float32), gradient.indices, gradient.dense_shape)
    return tf.cast(gradient, tf.float32)


def _gather(gradient, flat_indices, cells):
    """The gradient at `flat_indices`; of `tf.IndexedSlices` without making them dense:
    each sampled cell `(row, column)` sums the slices of its row (indices may repeat)."""
    if not isinstance(gradient, tf.IndexedSlices):
        return tf.gather(_flat(gradient), flat_indices)
    rows, columns = cells
    values = tf.gather(tf.reshape(gradient.values, [tf.shape(gradient.values)[0], -1]), columns, axis=1)
    hits = tf.equal(tf.cast(gradient.indices, tf.int32)[:, None], rows[None, :])
    return tf.reduce_sum(tf.where(hits, values, 0.0), axis=0)


def _flat(tensor):
    """Flat and dense (`tf.IndexedSlices` added up into their dense shape)."""
    return tf.reshape(tf.cast(tf.convert_to_tensor(tensor), tf.float32), [-1])


def _masked(grads, zero_threshold):
    """The gradients with their zeros (`|g| < zero_threshold`) set to 0."""
    return [tf.where(tf.abs(g) < zero_threshold, 0.0, g) for g in grads]


def _events(grads, weights, previous_grads, previous, pending, nonzero, has_previous, zero_threshold,
            release_threshold):
    """One measured step (pure, for XLA): per variable the `COUNT_COLUMNS` counts and the
    squared norms of `g` and `dw` (rows of `[V, 7]`), and the new pending and nonzero flags.

    `previous_grads` are masked (`_masked`): a flip needs both gradients nonzero, and the
    step before (`has_previous`).
    """
    rows, new_pending, new_nonzero = [], [], []
    count = lambda mask: tf.reduce_sum(tf.cast(mask, tf.float32))  # noqa: E731
    for g, w, g0, w0, p, nz in zip(grads, weights, previous_grads, previous, pending, nonzero):
        magnitude = tf.abs(g)
        zero, large = magnitude < zero_threshold, magnitude > release_threshold
        flip = tf.logical_and(tf.logical_and(g * g0 < 0, tf.logical_not(zero)), has_previous)
        dw = w - w0
        curvature = dw * g
        rows.append(tf.stack([
            count(zero),
            count(flip),
            count(tf.logical_and(flip, curvature > 0)),
            count(tf.logical_and(flip, curvature < 0)),
            count(tf.logical_and(p, large)),
            tf.reduce_sum(g * g),
            tf.reduce_sum(dw * dw),
        ]))
        new_pending.append(tf.logical_and(tf.logical_or(p, zero), tf.logical_not(large)))
        new_nonzero.append(tf.logical_or(nz, tf.logical_not(zero)))
    return tf.stack(rows), new_pending, new_nonzero

