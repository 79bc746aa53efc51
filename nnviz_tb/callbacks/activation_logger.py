"""`ActivationLogger`: records hidden-layer activations of a probe set while training."""

import functools

from nnviz_tb import class_metrics, probe as probe_lib
from nnviz_tb.callbacks.epoch_recorder import ProbeRecorder


class ActivationLogger(ProbeRecorder):
    """Writes the hidden activity of a fixed probe set for the nnviz tab.

    Before training (step 0) and after every `every_n_epochs` epochs (step =
    number of epochs trained), the output of each recorded layer for every
    probe point is written to `log_dir` as nnviz summaries (see
    `nnviz_tb.metadata`), with the class the model predicts for each point;
    the precision, recall and F1 of those predictions per class and their
    macro averages go to the Scalars tab (`precision/<class>`, ...,
    `macro_avg/f1`; see `nnviz_tb.class_metrics`).
    The probe labels, class names, thumbnails of image inputs and which
    output gave the predictions are written once per `fit` call, and the
    recorded layers, the output used and the storage estimate are printed
    when `fit` starts. Only the chief worker of a `tf.distribute` cluster
    writes.

    Functional and Sequential models, subclassed `keras.Model`s and nested
    models (e.g. a `keras.applications` backbone inside a Sequential model)
    all work. Layers in the model's own graph are computed by an extra
    functional model; the sublayers of subclassed models and the layers
    inside nested models are captured during a forward pass of the model on
    the probe (their `call` is wrapped for that pass only).

    Storage: one recorded epoch takes about `N * (2 * D + 4)` bytes for `N`
    probe points and `D` recorded values per point (the sum of the recorded
    layers' dimensions, each at most `max_dim`, stored as float16, plus an
    int32 predicted class);
    the probe itself is written once (`4 * N` bytes of labels plus the
    thumbnails, at most 32 x 32 pixels per point).

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL such as
        `gs://...`). Other callbacks may write to the same directory.
      probe: `(x, labels)`: a fixed set of inputs (an array, or a list or
        dict of arrays for a model with several inputs) and their class ids:
        integers, floats with integral values (binary 0./1. labels) or
        one-hot rows, below `nnviz_tb.metadata.MAX_CLASSES` (1,000). 1,000 to
        5,000 points are typical.
      layers: Names of the layers to record, or `"all"` for every layer that
        produces a hidden representation (Dense, convolution, pooling,
        activation, normalisation, recurrent, embedding and custom layers,
        nested models) plus the outputs. Defaults to those layers when there
        are at most 12 of them; for deeper models, to the output of each
        stage (the last layer at each spatial resolution, e.g. ResNet's
        `convN_blockM_out`), the layers without spatial axes (pooled
        representations, dense layers) and the outputs, at most 12. The
        k-th further call of a shared layer is named `"<name>@<k>"`, a layer
        inside a nested model or layer `"<outer>/<name>"`.
      every_n_epochs: Record every this many epochs. The last epoch of a fit
        is always recorded. Defaults to 1.
      class_names: Names of the classes, indexed by label. Defaults to the
        label numbers.
      reduction: How a layer output with spatial axes (a conv feature map,
        a sequence) becomes one vector per point: `"mean"` (global average
        pooling, one value per channel), `"max"` (global max pooling) or
        `"flatten"` (average pooling with the smallest window that brings it
        under `max_dim` values, then flattening; an axis of unknown length,
        as of `keras.Input((None, 8))`, takes the probe's length). Recorded
        with the data. Defaults to `"mean"`.
      max_dim: Feature cap of every recorded layer: `"flatten"` pools to stay
        under it, and a layer still wider (a `Dense(100000)`) is recorded as
        `max_dim` evenly spaced features, the same at every epoch (its
        description says which: `total_dim`, `features`; the tab says so).
        Defaults to 2048.
      batch_memory_mb: Memory budget in MB for the layer outputs of one batch
        of probe points; the probe goes through the model in batches that fit
        it, whatever its size. Defaults to 64.
      thumbnails: Whether to store small images of the probe inputs when
        they are images (shown when hovering a point): `[N, H, W]`,
        `[N, H, W, C]` with C in 1, 3, 4, or flat square images, with sides
        of at least 8 pixels and an aspect ratio of at most 4. Defaults to
        True.
      image_shape: Shape `(H, W)` or `(H, W, C)` of one image when the inputs
        are images that do not look like one (flat vectors that are not
        square, small or elongated images). Defaults to None.
      output: Name of the model output the labels belong to (a key of a
        dict output, else an output layer's name). Defaults to the only
        output whose number of units fits the classes, else the first (with
        a warning).
      from_logits: Whether a one-unit output gives a logit (predicted class
        `output > 0`) rather than a probability (`output > 0.5`). Outputs of
        several units predict their largest unit. Defaults to None: the
        compiled loss's `from_logits` (e.g. `BinaryCrossentropy(from_logits=True)`),
        else 0.5 for a sigmoid output or a regression loss and 0 for a
        linear one.

    Example:

    ```python
    logger = nnviz_tb.ActivationLogger("logs/mlp", probe=(x_test[:2000], y_test[:2000]))
    model.fit(x_train, y_train, epochs=20, callbacks=[logger])
    # then: tensorboard --logdir logs  (nnviz tab)
    ```
    """

    _records_predictions = True

    def __init__(
        self,
        log_dir,
        probe,
        layers=None,
        every_n_epochs=1,
        class_names=None,
        reduction="mean",
        max_dim=2048,
        batch_memory_mb=64,
        thumbnails=True,
        image_shape=None,
        output=None,
        from_logits=None,
    ):
        super().__init__(
            log_dir, probe, layers, every_n_epochs, class_names, reduction, max_dim, batch_memory_mb,
            output=output, from_logits=from_logits,
        )
        image_shape = probe_lib.check_image_shape(image_shape)
        self.thumbnails = (
            probe_lib.make_thumbnails(self.probe_x, image_shape) if thumbnails else None
        )

    def _layer_outputs(self):
        outputs = super()._layer_outputs()
        self._columns = outputs.kept_columns(self.max_dim)
        return outputs

    def _describe_layers(self):
        """The layers' descriptions, with the features kept of layers wider than `max_dim`."""
        described = self._outputs.describe()
        for layer, kept in zip(described, self._columns):
            if kept is not None:
                layer.update(dim=len(kept), total_dim=layer["dim"], features=kept.tolist())
        return described

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None and self._writer is not None:  # Once per fit.
            info = {
                "num_points": len(self.probe_labels),
                "class_names": self.class_names,
                "layers": self._describe_layers(),
                "prediction": {"output": self._outputs.output_name, "rule": self._outputs.rule},
            }
            self._writer.write_probe(epoch, info, self.probe_labels, self.thumbnails)
        super().on_epoch_begin(epoch, logs)

    def _plan(self):
        described = self._describe_layers()
        dims = sum(layer["dim"] for layer in described)
        lines = [super()._plan(), "  Storage: about %s per recorded epoch (%d points x (%d values x 2 bytes + 4))."
                 % (_megabytes(len(self.probe_labels) * (2 * dims + 4)), len(self.probe_labels), dims)]
        sampled = ["%s (%d of %d)" % (layer["name"], layer["dim"], layer["total_dim"])
                   for layer in described if "total_dim" in layer]
        if sampled:
            lines.append("  Wider than max_dim=%d, recorded as evenly spaced features: %s."
                         % (self.max_dim, ", ".join(sampled)))
        return "\n".join(lines)

    def _record(self, step):
        self._writer.submit(functools.partial(self._write_epoch, step, self._probe_pass(self._columns)))

    def _write_epoch(self, step, probe_pass):
        """Writes one epoch (on the writer thread: the pass runs there, see `ProbePass`)."""
        activations, predictions = probe_pass()
        reductions = dict(zip(self._outputs.names, self._outputs.reductions))
        self._writer.write_epoch(step, activations, predictions, reductions)
        self._writer.write_scalars(step, class_metrics.scalars(self.probe_labels, predictions, self.class_names))


def _megabytes(size):
    return "%.1f MB" % (size / 1e6) if size >= 1e5 else "%.0f KB" % (size / 1e3)
