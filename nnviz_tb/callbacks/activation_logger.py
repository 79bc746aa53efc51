"""`ActivationLogger`: records hidden-layer activations of a probe set while training."""

from nnviz_tb import probe as probe_lib
from nnviz_tb.callbacks.epoch_recorder import ProbeRecorder


class ActivationLogger(ProbeRecorder):
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
        super().__init__(
            log_dir, probe, layers, every_n_epochs, class_names, reduction, max_dim, batch_memory_mb
        )
        self.thumbnails = (
            probe_lib.make_thumbnails(self.probe_x, image_shape) if thumbnails else None
        )

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None and self._writer is not None:  # Once per fit.
            info = {
                "num_points": len(self.probe_labels),
                "class_names": self.class_names,
                "layers": self._outputs.describe(),
            }
            self._writer.write_probe(epoch, info, self.probe_labels, self.thumbnails)
        super().on_epoch_begin(epoch, logs)

    def _record(self, step):
        activations, predictions = self._outputs(self.probe_x)
        reductions = dict(zip(self._outputs.names, self._outputs.reductions))
        self._writer.write_epoch(step, activations, predictions, reductions)
