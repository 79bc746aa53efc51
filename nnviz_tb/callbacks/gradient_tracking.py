"""In-graph accumulation of gradient statistics, for `GradientStatsLogger` (TensorFlow).

`GradientTracker.observe(grads, weights)` is traced into the compiled
training step and runs once per optimizer step, just before the optimizer
applies `grads`. Its results stay on the device in `tf.Variable`s until
`read_epoch()` at the end of the epoch: no host synchronisation per step.

A full pass over every weight costs about as much as the optimizer's own
update, so the statistics are measured on *sampled steps*: every
`every_n_steps`-th optimizer step of the fit (step index `t`, counted from
the start of the `fit` call, with `t % every_n_steps == 0`), each compared
with the step just before it, whose gradient signs and weights are kept for
that purpose. With `every_n_steps=1` every step is measured. On a measured
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
steps than the heatmap holds), the sign codes of a fixed sample of weights
are recorded for the heatmaps: cheap, as it touches only those weights.

Memory on the device: 10 bytes per trainable weight (its previous value and
gradient, float32; pending-release and nonzero-this-epoch flags), plus
`(heatmap_steps + 1) * samples` bytes of codes and
`(heatmap_steps + 1) * groups * 8` bytes of per-measured-step statistics.
"""

import numpy as np
import tensorflow as tf

from nnviz_tb import metadata
from nnviz_tb.gradient_stats import COUNT_COLUMNS, NORM_COLUMNS, STEP_COLUMNS

# Epoch counters: measured steps, those with a step before them, steps in the heatmap.
_MEASURED, _CHANGES, _RECORDED = range(3)


class GradientTracker:
    """Accumulates gradient statistics of a fixed list of variables on the device.

    Args:
      shapes: Shape of each tracked variable.
      groups: `[G, V]` 0/1 matrix: which variables each group (a variable
        itself, or a layer) sums.
      samples: Per variable, int array of flat indices whose sign code is
        recorded at each step (the heatmap rows; empty for none).
      zero_threshold: `|g|` below this is a zero gradient.
      release_threshold: `|g|` above this releases a weight.
      every_n_steps: Measure every this many optimizer steps.
      heatmap_steps: Most steps recorded per epoch, in the heatmap and in the
        per-measured-step statistics.
      stride: Record every this many steps of an epoch in the heatmap (see
        `set_stride`).

    A tracker serves one `fit` call: its step 0 is the fit's first step.
    """

    def __init__(self, shapes, groups, samples, zero_threshold, release_threshold,
                 every_n_steps, heatmap_steps, stride=1):
        self.every_n_steps = int(every_n_steps)
        self.heatmap_steps = int(heatmap_steps)
        self._thresholds = float(zero_threshold), float(release_threshold)
        self._sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        self._samples = [np.asarray(s, dtype=np.int32) for s in samples]
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
            self._epoch_start = variable(tf.constant(0, tf.int64), "epoch_start")
            self._counters = variable(tf.zeros([3], tf.int64), "counters")
            self._totals = variable(tf.zeros([num_groups, columns], tf.float64), "totals")
            self._stride = variable(tf.constant(stride, tf.int64), "stride")
            self._codes = variable(tf.zeros([self.heatmap_steps + 1, num_samples], tf.int8), "codes")
            self._step_stats = variable(
                tf.zeros([self.heatmap_steps + 1, num_groups, len(STEP_COLUMNS)]), "step_stats"
            )
        self._update = tf.function(self._update_fn, autograph=False)

    def observe(self, grads, weights):
        """Adds one optimizer step: `grads` and the `weights` they were computed at."""
        self._update(list(grads), list(weights))

    def _update_fn(self, grads, weights):
        k = self.every_n_steps
        if k == 1:
            self._measure(grads, weights)
        else:
            phase = self._step % k
            branch = tf.where(phase == 0, 0, tf.where(phase == k - 1, 1, 2))
            tf.switch_case(tf.cast(branch, tf.int32), [
                lambda: self._measure(grads, weights),
                lambda: self._remember(grads, weights),
                tf.no_op,
            ])
        if self._codes.shape[1]:
            self._record_signs(grads)
        self._step.assign_add(1)

    def _nonzero_grads(self, grads):
        """Per variable, `(flat gradient with its zeros set to 0, zero mask)`."""
        for g in grads:
            g = tf.reshape(tf.cast(g, tf.float32), [-1])
            zero = tf.abs(g) < self._thresholds[0]
            yield g, tf.where(zero, 0.0, g), zero

    def _remember(self, grads, weights):
        """Keeps the step before a measured one, to compare with."""
        for i, ((_, gz, _), w) in enumerate(zip(self._nonzero_grads(grads), weights)):
            self._previous_grads[i].assign(gz)
            self._previous[i].assign(tf.reshape(tf.cast(w, tf.float32), [-1]))
        return tf.no_op()

    def _measure(self, grads, weights):
        rows = []
        for i, ((g, gz, zero), w) in enumerate(zip(self._nonzero_grads(grads), weights)):
            w = tf.reshape(tf.cast(w, tf.float32), [-1])
            large = tf.abs(g) > self._thresholds[1]
            flip = gz * self._previous_grads[i] < 0  # None at a fit's first step.
            dw = w - self._previous[i]
            curvature = dw * gz
            pending = self._pending[i]
            events = tf.stack([
                zero,
                flip,
                tf.logical_and(flip, curvature > 0),
                tf.logical_and(flip, curvature < 0),
                tf.logical_and(pending, large),
            ])
            squares = tf.square(tf.stack([g, dw]))
            rows.append(tf.concat([
                tf.reduce_sum(tf.cast(events, tf.float32), 1), tf.reduce_sum(squares, 1)
            ], 0))
            self._pending[i].assign(tf.logical_and(tf.logical_or(pending, zero), tf.logical_not(large)))
            self._nonzero[i].assign(tf.logical_or(self._nonzero[i], tf.logical_not(zero)))
            if self.every_n_steps == 1:  # Else `_remember` keeps the step before the next one.
                self._previous_grads[i].assign(gz)
                self._previous[i].assign(w)
        step = tf.matmul(self._groups, tf.stack(rows))  # Sums over each group's variables.
        num_counts = len(COUNT_COLUMNS)
        has_previous = tf.cast(self._step > 0, tf.float32)
        norms = tf.sqrt(step[:, num_counts:]) * tf.stack([1.0, has_previous])
        self._totals.assign_add(tf.cast(tf.concat([step[:, :num_counts], norms], 1), tf.float64))
        slot = tf.minimum(self._counters[_MEASURED], self.heatmap_steps)  # Spare row: overflow.
        self._step_stats.scatter_update(
            tf.IndexedSlices(tf.stack([step[:, 0], norms[:, 0]], 1)[None], slot[None])
        )
        self._counters.assign_add(tf.stack([tf.constant(1, tf.int64), tf.cast(self._step > 0, tf.int64), 0]))
        return tf.no_op()

    def _record_signs(self, grads):
        zt, rt = self._thresholds
        g = tf.concat([
            tf.gather(tf.reshape(tf.cast(g, tf.float32), [-1]), s)
            for g, s in zip(grads, self._samples) if len(s)
        ], 0)
        magnitude, negative = tf.abs(g), g < 0
        small = tf.where(negative, metadata.SIGN_NEGATIVE, metadata.SIGN_POSITIVE)
        large = tf.where(negative, metadata.SIGN_LARGE_NEGATIVE, metadata.SIGN_LARGE_POSITIVE)
        code = tf.where(magnitude > rt, large, small)
        code = tf.cast(tf.where(magnitude < zt, metadata.SIGN_ZERO, code), tf.int8)
        recorded = self._counters[_RECORDED]
        epoch_step = self._step - self._epoch_start
        take = tf.logical_and(epoch_step % self._stride == 0, recorded < self.heatmap_steps)
        slot = tf.where(take, recorded, self.heatmap_steps)
        self._codes.scatter_update(tf.IndexedSlices(code[None], slot[None]))
        self._counters.assign_add(tf.one_hot(_RECORDED, 3, dtype=tf.int64) * tf.cast(take, tf.int64))

    def set_stride(self, stride):
        """Records every `stride`-th step of the coming epochs in the heatmap."""
        self._stride.assign(int(stride))

    def read_epoch(self):
        """Returns the epoch's raw statistics as NumPy arrays and starts a new epoch.

        Returns:
          A dict: `totals` `[G, 7]` (sums over the measured steps of the
          `COUNT_COLUMNS` and of the per-step `NORM_COLUMNS`); `steps`,
          `measured`, `change_steps` (measured steps with a step before them)
          and `first_step` (fit step index of the epoch's first step);
          `nonzero` (per variable, bool `[size]`: a nonzero gradient at some
          measured step); `stride`; `codes` `[T, samples]` of the `T`
          recorded steps; `step_stats` `[M, G, 2]` of the `M` measured steps
          (both capped at `heatmap_steps`).
        """
        measured, change_steps, recorded = (int(c) for c in self._counters.numpy())
        step, first_step = int(self._step.numpy()), int(self._epoch_start.numpy())
        raw = {
            "totals": self._totals.numpy(),
            "steps": step - first_step,
            "measured": measured,
            "change_steps": change_steps,
            "first_step": first_step,
            "nonzero": [v.numpy() for v in self._nonzero],
            "stride": int(self._stride.numpy()),
            "codes": self._codes[:recorded].numpy(),
            "step_stats": self._step_stats[: min(measured, self.heatmap_steps)].numpy(),
        }
        self._reset_epoch()
        return raw

    def _reset_epoch(self):
        self._epoch_start.assign(self._step)
        for state in [self._totals, self._counters] + self._nonzero:
            state.assign(tf.zeros_like(state))
