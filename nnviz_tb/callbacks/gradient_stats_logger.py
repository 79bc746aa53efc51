"""`GradientStatsLogger`: statistics of the gradients the optimizer applies while training."""

import logging
import math
import numbers

import keras
import tensorflow as tf

from nnviz_tb import gradient_stats, metadata
from nnviz_tb.callbacks import distribution
from nnviz_tb.callbacks.epoch_recorder import check_log_dir
from nnviz_tb.callbacks.gradient_tracking import GradientTracker
from nnviz_tb.probe import check_positive_int
from nnviz_tb.summary import NnvizWriter, write_blobs

logger = logging.getLogger(__name__)

_RELU_LAYERS = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


class GradientStatsLogger(keras.callbacks.Callback):
    """Writes statistics of the gradients of each training step for the nnviz tab.

    The callback observes the very gradients the optimizer applies: during
    `fit` it wraps the optimizer's `apply` (the inner optimizer's, below a
    `LossScaleOptimizer`, so gradients are unscaled) and rebuilds the
    compiled training step around it; `on_train_end` restores both. The
    statistics are accumulated on the device inside the compiled step and read
    once per epoch, so Keras' asynchronous batch callbacks keep working. Works
    with any optimizer, mixed precision and `steps_per_execution > 1`; a custom
    `train_step` is observed if it calls `self.optimizer.apply` or
    `apply_gradients`, and a warning says so at the end of the first epoch if
    no step was observed. With several replicas of a `tf.distribute`
    strategy on one machine (`MirroredStrategy`), the statistics are those of
    the gradients' sum over the replicas, which the optimizer applies;
    replicas on several workers are not supported (a warning, nothing
    written). Sparse gradients (`tf.IndexedSlices`, e.g. of an `Embedding`)
    are made dense only on the measured steps.

    Per epoch (step = epoch number, 1 for the first epoch of training), for
    every trainable variable and every layer: zero gradients
    (`|g| < zero_threshold`), releases (`|g| > release_threshold` after being
    zero), retained weights (zero at every measured step), sign flips,
    minima and maxima crossed, gradient norm, weight change and, for ReLU
    layers, dead units; the rules are in `nnviz_tb.callbacks.gradient_tracking`
    and `nnviz_tb.gradient_stats`. These are exact on the measured steps,
    every `every_n_steps`-th step of the fit (each compared with the step
    before it). Layer statistics also go to TensorBoard's Scalars tab as
    `gradients/<layer>/<stat>`. The nnviz tab's Gradients view shows the zero
    fraction per layer and epoch, and per layer a heatmap of the gradient
    signs of `heatmap_weights` weights at every step.

    Device memory: 10 bytes per trainable weight, plus about
    `heatmap_steps * (heatmap_weights + 8) * layers` bytes; at the measured
    steps the weights and gradients are copied once more for a moment (on a
    CPU, the peak extra was 28 bytes per weight with a Dense(100000) layer:
    `benchmarks/gradient_stats_memory.py`).

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL). Other
        callbacks may write to the same directory.
      zero_threshold: A gradient with `|g|` below this is zero. Defaults to
        1e-7.
      release_threshold: A weight with a zero gradient is released when
        `|g|` exceeds this at a later step; in the heatmaps, gradients above
        it are "large". Defaults to 1e-5.
      every_n_steps: Measure every this many optimizer steps (1: every step,
        exact but about 2x slower training on a CPU); at most the number of
        steps of an epoch, so that every epoch has a measured step. On data
        of unknown length (a generator, a filtered `tf.data.Dataset`), the
        first epoch measures its first step and keeps every step to compare
        with; from then on this is at most the length of the shortest epoch
        so far (a still shorter epoch may have no measured step). Defaults
        to 16.
      heatmap_weights: Weights per layer whose gradient sign is recorded at
        every step for the heatmaps; 0 records none. Defaults to 64.
      heatmap_steps: Most steps per epoch in the heatmaps (longer epochs
        record one step in k, the last of each k; the first epoch on data
        of unknown length, its first steps) and in the per-measured-step
        statistics. Defaults to 200.

    Example:

    ```python
    model.fit(x, y, epochs=10, callbacks=[nnviz_tb.GradientStatsLogger("logs/mlp")])
    # then: tensorboard --logdir logs  (nnviz tab, Gradients; Scalars tab)
    ```
    """

    def __init__(
        self,
        log_dir,
        zero_threshold=1e-7,
        release_threshold=1e-5,
        every_n_steps=16,
        heatmap_weights=64,
        heatmap_steps=200,
    ):
        super().__init__()
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "GradientStatsLogger needs the TensorFlow backend of Keras. Got %r instead."
                % keras.backend.backend()
            )
        self.log_dir = check_log_dir(log_dir)
        self.zero_threshold = _check_threshold("zero_threshold", zero_threshold, 0.0)
        self.release_threshold = _check_threshold("release_threshold", release_threshold, self.zero_threshold)
        self.every_n_steps = check_positive_int("every_n_steps", every_n_steps)
        if isinstance(heatmap_weights, bool) or not isinstance(heatmap_weights, numbers.Integral) \
                or heatmap_weights < 0:
            raise ValueError(
                "The 'heatmap_weights' parameter must be an integer >= 0. Got %r instead."
                % (heatmap_weights,)
            )
        self.heatmap_weights = int(heatmap_weights)
        self.heatmap_steps = check_positive_int("heatmap_steps", heatmap_steps)
        self._restore = None
        self._writer = None

    def set_model(self, model):
        super().set_model(model)
        # `fit` calls this before it makes its training step: make it anew, so
        # that it is traced with the wrapped optimizer (and not an older one).
        model.train_function = None

    def on_train_begin(self, logs=None):
        self._tracker = self._layout = None
        self._warned = False
        if distribution.num_workers(self.model) > 1:
            logger.warning("nnviz_tb: GradientStatsLogger does not support replicas on several "
                           "workers; no gradient statistics are recorded.")
            return
        if self.model.optimizer is None:
            logger.warning("nnviz_tb: the model has no optimizer; no gradient statistics are recorded.")
            return
        self._wrap(self.model.optimizer)
        if self._writer is None and distribution.is_chief(self.model):
            self._writer = NnvizWriter(self.log_dir)

    def _wrap(self, optimizer):
        """Makes `optimizer.apply` (its inner optimizer's, if it scales the loss) observe."""
        if self._restore is not None:  # A fit that failed did not restore it.
            self._restore()
        target = getattr(optimizer, "inner_optimizer", optimizer)
        original, wrapped_before = target.apply, vars(target).get("apply")

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            variables = list(target._trainable_variables if trainable_variables is None else trainable_variables)
            self._observe(grads, variables, getattr(target, "loss_scale_factor", None))
            return original(grads, variables)

        target.apply = apply
        self._restore = lambda: (
            delattr(target, "apply") if wrapped_before is None else setattr(target, "apply", wrapped_before)
        )

    def _observe(self, grads, variables, loss_scale_factor):
        """Adds the tracker's ops to the step being traced (built on the first call)."""
        if self._tracker is None:
            self._build(variables)
        if [id(v) for v in variables] != self._ids:
            self._warn_once("the optimizer was given other variables than at first; "
                            "those steps are not recorded.")
            return
        grads = [_unscaled(g, v, loss_scale_factor) for g, v in zip(grads, variables)]
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            self._tracker.observe([[g] for g in grads], variables)
        else:  # Each replica has its share; the optimizer applies their sum.
            context.merge_call(self._observe_replicas, args=(grads, variables))

    def _observe_replicas(self, strategy, grads, variables):
        self._tracker.observe([strategy.experimental_local_results(g) for g in grads], variables)

    def _build(self, variables):
        self._ids = [id(v) for v in variables]
        owners, relu = _layer_owners(self.model)
        layer_names = [owners.get(id(v), _parent_path(v)) for v in variables]
        names = _unique(["%s/%s" % (layer, v.name) for layer, v in zip(layer_names, variables)])
        index = {id(v): i for i, v in enumerate(variables)}
        relu_kernels = {
            name: (index[id(kernel)], index.get(id(bias)))
            for name, (kernel, bias) in relu.items() if id(kernel) in index
        }
        shapes = [tuple(v.shape) for v in variables]
        self._layout = gradient_stats.make_layout(names, layer_names, shapes, relu_kernels, self.heatmap_weights)
        steps = self.params.get("steps")
        self._every_n_steps = min(self.every_n_steps, steps or self.every_n_steps)
        self._tracker = GradientTracker(
            shapes, self._layout.groups(), self._layout.samples, self.zero_threshold,
            self.release_threshold, self._every_n_steps, self.heatmap_steps,
            stride=math.ceil(steps / self.heatmap_steps) if steps else 1, remember_all=not steps,
        )

    def on_epoch_end(self, epoch, logs=None):
        if self._restore is None:
            return
        raw = None if self._tracker is None else self._tracker.read_epoch()
        if raw is None or raw["steps"] == 0:
            self._warn_once(
                "no training step called the optimizer's apply() or apply_gradients() in epoch %d "
                "(a custom train_step that updates the weights otherwise?); no gradient statistics "
                "are recorded." % (epoch + 1)
            )
            return
        every_n_steps = self._every_n_steps
        if not self.params.get("steps"):  # Learnt: the length of the shortest epoch so far.
            self._tracker.set_stride(math.ceil(raw["steps"] / self.heatmap_steps))
            self._every_n_steps = min(every_n_steps, raw["steps"])
            self._tracker.set_every_n_steps(self._every_n_steps)
        if self._writer is None:
            return
        record = gradient_stats.epoch_record(
            self._layout, raw, epoch + 1, self.zero_threshold, self.release_threshold, every_n_steps
        )
        scalars = {
            metadata.gradient_scalar_tag(layer, stat): value
            for (layer, stat), value in gradient_stats.layer_scalars(record).items()
        }
        self._writer.write_scalars(epoch + 1, scalars)
        self._writer.submit(lambda: _write_record(record, raw))

    def on_train_end(self, logs=None):
        if self._restore is not None:
            self._restore()
            self._restore = None
            self.model.train_function = None  # Its graph holds the tracker: train without it next.
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _warn_once(self, message):
        if not self._warned:
            logger.warning("nnviz_tb: GradientStatsLogger: %s", message)
        self._warned = True


def _write_record(record, raw):
    epoch = record["epoch"]
    write_blobs(
        metadata.gradient_stats_tag(epoch),
        [
            metadata.encode_json(record),
            metadata.encode_array(gradient_stats.sign_codes(
                raw["sampled"], record["zero_threshold"], record["release_threshold"])),
            metadata.encode_array(raw["step_stats"].astype("float32")),
        ],
        epoch,
        metadata.create_summary_metadata(
            metadata.KIND_GRADIENT_STATS, epoch=epoch, layers=[layer["name"] for layer in record["layers"]]
        ),
    )


def _unscaled(gradient, variable, loss_scale_factor):
    """The gradient divided by the optimizer's loss scale, if any; zeros for None. Sparse
    gradients (`tf.IndexedSlices`) stay sparse."""
    if gradient is None:
        return tf.zeros_like(variable.value)
    if loss_scale_factor is None:
        return gradient if isinstance(gradient, tf.IndexedSlices) else tf.convert_to_tensor(gradient)
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values / loss_scale_factor, gradient.indices, gradient.dense_shape)
    return tf.convert_to_tensor(gradient) / loss_scale_factor


def _check_threshold(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < minimum:
        raise ValueError(
            "The '%s' parameter must be a finite number >= %g. Got %r instead." % (name, minimum, value)
        )
    return float(value)


def _layer_owners(model):
    """`({id(variable): layer name}, {ReLU layer name: (kernel, bias or None)})`.

    A variable belongs to the innermost layer that is not a model; layers of
    nested models are named `"<model>/<layer>"`.
    """
    owners, relu = {}, {}

    def walk(layers, prefix):
        for layer in layers:
            name = prefix + layer.name
            if isinstance(layer, keras.Model):
                walk(layer.layers, name + "/")
                continue
            for variable in layer.trainable_weights:
                owners[id(variable)] = name
            if isinstance(layer, _RELU_LAYERS) and layer.activation is keras.activations.relu:
                relu[name] = (layer.kernel, layer.bias)

    walk(model.layers, "")
    return owners, relu


def _parent_path(variable):
    return variable.path.rpartition("/")[0] or variable.path


def _unique(names):
    """`names`, the k-th repeat of a name suffixed with `@k`."""
    seen = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else "%s@%d" % (name, count))
    return result
