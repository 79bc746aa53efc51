"""`ActivationLogger`: records hidden-layer activations of a probe set while training."""

import keras

from nnviz_tb import layer_outputs, probe as probe_lib
from nnviz_tb.callbacks import distribution
from nnviz_tb.summary import NnvizWriter


class ActivationLogger(keras.callbacks.Callback):
    """Writes the hidden activity of a fixed probe set for the nnviz tab.

    Before training (step 0) and after every `every_n_epochs` epochs (step =
    number of epochs trained), the output of each recorded layer for every
    probe point is written to `log_dir` as nnviz summaries (see
    `nnviz_tb.metadata`). The probe labels, class names and thumbnails of image
    inputs are written once per `fit` call. Only the chief worker of a
    `tf.distribute` cluster writes.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL such as
        `gs://...`). Other callbacks may write to the same directory.
      probe: `(x, labels)`: a fixed set of inputs and their integer class ids
        (or one-hot rows). 1,000 to 5,000 points are typical.
      layers: Names of the layers to record. Defaults to every layer that
        produces a hidden representation (Dense, convolution, pooling,
        activation, normalisation, recurrent and embedding layers, nested
        models) plus the output layer. The k-th further call of a shared
        layer is named `"<name>@<k>"`.
      every_n_epochs: Record every this many epochs. The last epoch of a fit
        is always recorded. Defaults to 1.
      class_names: Names of the classes, indexed by label. Defaults to the
        label numbers.
      reduction: How a layer output with spatial axes (a conv feature map,
        a sequence) becomes one vector per point: `"mean"` (global average
        pooling, one value per channel), `"max"` (global max pooling) or
        `"flatten"` (average pooling with the smallest window that brings it
        under `max_dim` values, then flattening). Recorded with the data.
        Defaults to `"mean"`.
      max_dim: Dimension cap of `"flatten"`. Defaults to 2048.
      batch_memory_mb: Memory budget in MB for the layer outputs of one batch
        of probe points; the probe goes through the model in batches that fit
        it, whatever its size. Defaults to 64.
      thumbnails: Whether to store small images of image-like probe inputs
        (shown when hovering a point). Defaults to True.
      image_shape: Shape `(H, W)` or `(H, W, C)` of one image when the inputs
        are flat vectors that are not square images. Defaults to None.

    Example:

    ```python
    logger = nnviz_tb.ActivationLogger("logs/mlp", probe=(x_test[:2000], y_test[:2000]))
    model.fit(x_train, y_train, epochs=20, callbacks=[logger])
    # then: tensorboard --logdir logs  (nnviz tab)
    ```
    """

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
    ):
        super().__init__()
        if not isinstance(log_dir, (str, bytes)) and not hasattr(log_dir, "__fspath__"):
            raise ValueError(
                "The 'log_dir' parameter must be a path. Got %r instead." % (log_dir,)
            )
        self.log_dir = str(log_dir)
        self.probe_x, self.probe_labels, self.class_names = probe_lib.check_probe(
            probe, class_names
        )
        if layers is not None and (
            isinstance(layers, str) or not all(isinstance(n, str) for n in layers)
        ):
            raise ValueError(
                "The 'layers' parameter must be a list of layer names. Got %r instead."
                % (layers,)
            )
        self.layers = None if layers is None else list(layers)
        self.every_n_epochs = probe_lib.check_positive_int("every_n_epochs", every_n_epochs)
        if reduction not in layer_outputs.REDUCTIONS:
            raise ValueError(
                "The 'reduction' parameter must be one of %s. Got %r instead."
                % (layer_outputs.REDUCTIONS, reduction)
            )
        self.reduction = reduction
        self.max_dim = probe_lib.check_positive_int("max_dim", max_dim)
        self.batch_memory_mb = probe_lib.check_positive_int("batch_memory_mb", batch_memory_mb)
        self.thumbnails = (
            probe_lib.make_thumbnails(self.probe_x, image_shape) if thumbnails else None
        )
        self._outputs = None
        self._writer = None

    def set_model(self, model):
        super().set_model(model)
        self._outputs = None
        if model.built:  # Fail before training starts on bad layer names.
            self._outputs = self._layer_outputs()

    def _layer_outputs(self):
        return layer_outputs.LayerOutputs(
            self.model, self.layers, self.reduction, self.max_dim, self.batch_memory_mb
        )

    def on_train_begin(self, logs=None):
        self._first_epoch = None
        self._last_epoch = None
        self._last_recorded = None
        if self._outputs is None:
            self._outputs = self._layer_outputs()
        if self._writer is None and distribution.is_chief(self.model):
            self._writer = NnvizWriter(self.log_dir)

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is not None:
            return
        self._first_epoch = epoch
        if self._writer is None:
            return
        info = {
            "num_points": len(self.probe_labels),
            "class_names": self.class_names,
            "layers": self._outputs.describe(),
        }
        self._writer.write_probe(epoch, info, self.probe_labels, self.thumbnails)
        if epoch == 0:  # Resumed runs (initial_epoch > 0) recorded this already.
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self._record(epoch + 1)
        self._last_epoch = epoch + 1

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_recorded != self._last_epoch:
            self._record(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _record(self, step):
        self._last_recorded = step
        if self._writer is None:
            return
        activations, predictions = self._outputs(self.probe_x)
        reductions = dict(zip(self._outputs.names, self._outputs.reductions))
        self._writer.write_epoch(step, activations, predictions, reductions)
