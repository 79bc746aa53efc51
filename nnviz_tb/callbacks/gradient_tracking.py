"""In-graph accumulation of gradient statistics, for `GradientStatsLogger` (TensorFlow).

`GradientTracker.observe(grads, weights)` is traced into the compiled
training step and runs once per optimizer step, just before the optimizer
applies `grads`. Its results stay on the device in `tf.Variable`s until
`read_epoch()` at the end of the epoch: no host synchronisation per step.

A full pass over every weight costs about as much as a whole training step
(on a CPU), so the statistics are measured on *sampled steps*: every
`every_n_steps`-th optimizer step of the fit (step index `t`, counted from
the start of the `fit` call, with `t % every_n_steps == 0`), each compared
with the step just before it, whose gradients and weights are kept for
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

The per-weight work sees all variables' weights as one flat array (see
`_Blocks`), so that tracing and compiling it take about the same time for a
model of 5 or of 500 variables.

Measured on the MNIST MLP (10 variables, 245k weights; 2 shared CPU cores,
load average 4; `benchmarks/gradient_tracker_step_cost.py`, interleaved with
the former tracker): 228 us per step at `every_n_steps=16` (was 341), of
which 128 us at every step (was 160: the sampled gradients, one `tf.cond`),
and 1.1 ms per step at `every_n_steps=1` (was 1.9 ms). On a quiet machine,
alone: 225-236 us and 115-161 us.

Memory on the device: 10 bytes per trainable weight (its previous value and
gradient, float32; pending-release and nonzero-this-epoch flags; in blocks
of 256 weights per variable), during a measured or kept step about as much
again for the weights and gradients in that layout (and a million weights'
temporaries), plus
`(heatmap_steps + 1) * samples * 4` bytes of sampled gradients and
`(heatmap_steps + 1) * groups * 8` bytes of per-measured-step statistics.
"""

import functools

import numpy as np
import tensorflow as tf

from nnviz_tb.gradient_stats import COUNT_COLUMNS, NORM_COLUMNS, STEP_COLUMNS

# Epoch counters: measured steps, those with a step before them.
_MEASURED, _CHANGES = range(2)
# `_events` adds up a block's flags two to a float32, as digits in this base: the sums of a
# block's 256 weights are exact (below 2**24), the digits at most 256.
_BASE = 512.0
# Most variables whose join XLA fuses into the comparisons of a measured step, if their
# weights fit in one chunk: faster with 10 to 90 variables (by 12 to 17%), slower with 300
# (by 10%) than joined outside; its temporaries take 6.5 bytes more per weight.
_MOST_FUSED_JOIN = 128


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
        self._groups = np.asarray(groups, dtype=np.float64)
        self._blocks = _Blocks(self._sizes)
        self._fused_join = len(shapes) <= _MOST_FUSED_JOIN and self._blocks.num_chunks == 1
        num_groups = len(self._groups)
        num_samples = sum(len(s) for s in self._samples)
        columns = len(COUNT_COLUMNS) + len(NORM_COLUMNS)

        def variable(value, name):
            return tf.Variable(value, trainable=False, name="nnviz_" + name)

        with tf.init_scope():  # Also when first built while the train step is traced.
            # All variables' weights in one flat array each, in `_blocks`' layout.
            padded = self._blocks.padded_size
            self._previous = variable(tf.zeros([padded]), "previous")
            self._previous_grads = variable(tf.zeros([padded]), "previous_grads")
            self._pending = variable(tf.zeros([padded], tf.bool), "pending")
            self._nonzero = variable(tf.zeros([padded], tf.bool), "nonzero")
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
        # The per-weight work of a measured step runs as one XLA-compiled function on all
        # weights at once: a few operations to trace and compile however many variables.
        self._events = tf.function(
            functools.partial(_events, blocks=self._blocks, zero_threshold=zero_threshold,
                              release_threshold=release_threshold),
            jit_compile=True, autograph=False,
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
        measure = phase == 0
        remember = tf.logical_or(phase == self._every_n_steps - 1, self._remember_all)

        def measure_or_remember():
            sums, weights = _sums(grads), [tf.convert_to_tensor(v) for v in variables]
            tf.cond(measure, lambda: self._measure(sums, weights, step), tf.no_op)
            tf.cond(remember, lambda: self._remember(sums, weights, step), tf.no_op)
            return tf.no_op()

        # Few operations on the other steps (each costs microseconds). Keeping this one `If` op from
        # being lowered to `Switch`/`Merge` ops (a private TensorFlow attribute) measured no faster.
        tf.cond(tf.logical_or(measure, remember), measure_or_remember, tf.no_op)
        if self._sampled.shape[1]:
            self._record_samples(grads, step)
        self._step.assign(step + 1)

    def _remember(self, grads, weights, step):
        """Keeps the step before a measured one, to compare with."""
        self._previous_grads.assign(self._blocks.join(grads))
        self._previous.assign(self._blocks.join(weights))
        self._previous_step.assign(step)
        return tf.no_op()

    def _measure(self, grads, weights, step):
        """Adds a measured step, compared with the one before if that one was kept."""
        has_previous = tf.equal(self._previous_step, step - 1)
        state = [v.value() for v in (self._previous_grads, self._previous, self._pending, self._nonzero)]
        if not self._fused_join:
            grads, weights = self._blocks.join(grads), self._blocks.join(weights)
        rows, pending, nonzero = self._events(grads, weights, *state, has_previous)
        self._pending.assign(pending)
        self._nonzero.assign(nonzero)
        sums = tf.matmul(self._groups, rows)  # Sums over each group's variables.
        num_counts = len(COUNT_COLUMNS)
        norms = tf.sqrt(sums[:, num_counts:]) * tf.stack([1.0, tf.cast(has_previous, tf.float64)])
        self._totals.assign_add(tf.concat([sums[:, :num_counts], norms], 1))
        slot = tf.minimum(self._counters[_MEASURED], self.heatmap_steps)  # Spare row: overflow.
        self._step_stats.scatter_update(
            tf.IndexedSlices(tf.cast(tf.stack([sums[:, 0], norms[:, 0]], 1), tf.float32)[None], slot[None])
        )
        self._counters.assign_add(tf.stack([tf.constant(1, tf.int64), tf.cast(has_previous, tf.int64)]))
        return tf.no_op()

    def _record_samples(self, grads, step):
        """Writes the sampled gradients to row `epoch step // stride`: each row ends with the
        last step of its `stride` steps; steps past `heatmap_steps` rows go to a spare row."""
        # Not XLA-compiled: XLA takes seconds to compile hundreds of small gathers.
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
            "nonzero": self._blocks.split(self._nonzero.numpy()),
            "stride": stride,
            "sampled": self._sampled[:rows].numpy(),
            "sampled_steps": [first_step + min((r + 1) * stride, steps) - 1 for r in range(rows)],
            "step_stats": self._step_stats[: min(measured, self.heatmap_steps)].numpy(),
        }
        self._reset_epoch()
        return raw

    def _reset_epoch(self):
        self._epoch_start.assign(self._step)
        for state in (self._totals, self._counters, self._nonzero):
            state.assign(tf.zeros_like(state))


def _tensors(grads):
    """The tensors that make up `grads` (lists of parts, dense or `tf.IndexedSlices`)."""
    return [t for parts in grads for part in parts
            for t in ((part.values, part.indices) if isinstance(part, tf.IndexedSlices) else (part,))]


def _sum(parts):
    return parts[0] if len(parts) == 1 else tf.add_n(parts)


def _sums(grads):
    """Each gradient's parts added up, dense."""
    return [_sum([tf.convert_to_tensor(part) for part in parts]) for parts in grads]


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
    """Flat, dense and float32."""
    return tf.reshape(tf.cast(tf.convert_to_tensor(tensor), tf.float32), [-1])


class _Blocks:
    """The layout of all variables' weights in one flat array: each variable starts a new
    block of `BLOCK` weights, and the rest of its last block is padding; then padding
    blocks up to a whole number of chunks of `CHUNK` blocks (at most one chunk). A sum per
    variable is then a sum per block (a fused reduction) and a short sum over blocks, and
    the work goes chunk by chunk, so that its temporaries are those of one chunk."""

    BLOCK = 256
    CHUNK = 4096  # Blocks: a million weights.

    def __init__(self, sizes):
        self.sizes = sizes
        blocks = [-(-n // self.BLOCK) for n in sizes]
        self.starts = np.cumsum([0] + blocks[:-1], dtype=np.int64) * self.BLOCK
        self.pads = [b * self.BLOCK - n for b, n in zip(blocks, sizes)]
        self.chunk = max(1, min(sum(blocks), self.CHUNK))
        tail = -sum(blocks) % self.chunk
        self.num_chunks = (sum(blocks) + tail) // self.chunk
        self.tail = tail * self.BLOCK
        self.padded_size = int((sum(blocks) + tail) * self.BLOCK)
        # Each block's variable (padding blocks: `len(sizes)`), and its weights (not padding).
        self.variable_of_block = np.repeat(np.arange(len(sizes) + 1, dtype=np.int32), blocks + [tail])
        self.filled = np.concatenate(
            [np.minimum(n - self.BLOCK * np.arange(b), self.BLOCK) for n, b in zip(sizes, blocks)] + [[0] * tail]
        ).astype(np.int32)

    def join(self, tensors):
        """`[padded_size]` float32: the tensors of each variable, flat, in the layout (padding 0)."""
        flats = [tf.reshape(tf.cast(t, tf.float32), [-1]) for t in tensors]
        pieces = [p for flat, pad in zip(flats, self.pads) for p in ((flat, tf.zeros([pad])) if pad else (flat,))]
        return tf.concat(pieces + ([tf.zeros([self.tail])] if self.tail else []), 0)

    def chunks(self, flat):
        """`[chunks, chunk, BLOCK]` view of a flat array in the layout."""
        return tf.reshape(flat, [-1, self.chunk, self.BLOCK])

    def per_variable(self, block_sums):
        """`[V, ...]` sums of the `[blocks, ...]` sums of each variable's blocks."""
        sums = tf.math.unsorted_segment_sum(block_sums, tf.constant(self.variable_of_block), len(self.sizes) + 1)
        return sums[:-1]

    def split(self, flat):
        """NumPy: each variable's part of a flat array in the layout."""
        return [flat[start:start + n] for start, n in zip(self.starts, self.sizes)]


def _events(grads, weights, previous_grads, previous, pending, nonzero, has_previous, blocks, zero_threshold,
            release_threshold):
    """One measured step (pure, for XLA) of the gradients and weights (each a list of
    tensors to join, or joined): per variable the `COUNT_COLUMNS` counts and the squared
    norms of `g` and `dw` (float64 `[V, 7]`), and the new pending and nonzero flags.

    A flip needs both gradients nonzero, and the step before (`has_previous`). Counts are
    exact (sums of integers below 2**24 in float32, then int32 per variable).
    """
    grads, weights = (blocks.join(a) if isinstance(a, (list, tuple)) else a for a in (grads, weights))
    arrays = [blocks.chunks(a) for a in (grads, weights, previous_grads, previous, pending, nonzero)]
    filled = tf.reshape(tf.constant(blocks.filled), [-1, blocks.chunk])

    def digit(flag, k):
        return tf.where(flag, _BASE ** k, 0.0)

    def chunk(args):
        g, w, g0, w0, p, nz, filled = args
        valid = tf.range(blocks.BLOCK)[None, :] < filled[:, None]
        magnitude = tf.abs(g)
        zero, large = tf.logical_and(magnitude < zero_threshold, valid), magnitude > release_threshold
        both_nonzero = tf.logical_and(tf.logical_not(zero), tf.abs(g0) >= zero_threshold)
        flip = tf.logical_and(tf.logical_and(g * g0 < 0, both_nonzero), has_previous)
        dw = w - w0
        curvature = dw * g
        minimum, maximum = tf.logical_and(flip, curvature > 0), tf.logical_and(flip, curvature < 0)
        # Per block, in one matrix-vector product (XLA's CPU reductions are several times
        # slower): the flags two to a float32, as digits in base `_BASE`, and the norms.
        columns = tf.stack([digit(zero, 0) + digit(flip, 1), digit(minimum, 0) + digit(maximum, 1),
                            digit(tf.logical_and(p, large), 0), g * g, dw * dw], 1)
        sums = tf.linalg.matvec(columns, tf.ones([blocks.BLOCK]))
        pairs = sums[:, :3]
        counts = tf.stack([pairs % _BASE, pairs // _BASE], 2)  # Per pair: its first flag, its second.
        counts = tf.cast(tf.reshape(counts, [-1, 6])[:, :len(COUNT_COLUMNS)], tf.int32)
        new_pending = tf.logical_and(tf.logical_or(p, zero), tf.logical_not(large))
        new_nonzero = tf.logical_or(nz, tf.logical_and(tf.logical_not(zero), valid))
        return counts, sums[:, 3:], new_pending, new_nonzero

    counts, norms, new_pending, new_nonzero = tf.map_fn(
        chunk, arrays + [filled], fn_output_signature=(tf.int32, tf.float32, tf.bool, tf.bool)
    )
    rows = tf.concat([tf.cast(blocks.per_variable(tf.reshape(counts, [-1, len(COUNT_COLUMNS)])), tf.float64),
                      tf.cast(blocks.per_variable(tf.reshape(norms, [-1, len(NORM_COLUMNS)])), tf.float64)], 1)
    return rows, tf.reshape(new_pending, [-1]), tf.reshape(new_nonzero, [-1])
