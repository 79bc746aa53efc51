"""`ConfusionMatrixLogger`: per-class metrics and the confusion matrix of validation data."""

import os

from keras.src.utils import io_utils

from nnviz_tb import class_metrics, layer_outputs, metadata, probe as probe_lib
from nnviz_tb.callbacks.epoch_recorder import EpochRecorder, check_log_dir


class ConfusionMatrixLogger(EpochRecorder):
    """Writes the precision, recall and F1 of each class on validation data.

    Before training (step 0), after every `every_n_epochs` epochs (step =
    number of epochs trained) and at the end of each `fit`, the model
    predicts the classes of `validation_data` in batches, and the precision,
    recall and F1 of every class and their macro averages are written as
    scalars (`precision/<class>`, `recall/<class>`, `f1/<class>`,
    `macro_avg/<metric>`; at most `nnviz_tb.class_metrics.MAX_CLASS_CHARTS`
    classes get charts of their own), with the confusion matrix as an nnviz
    summary (`nnviz/confusion/epoch_<EEEEE>`, see `nnviz_tb.metadata`). They
    go to `<log_dir>/validation`, the run of Keras' validation scalars, while
    `ActivationLogger` writes the same tags for its probe to `log_dir`: each
    chart shows both. The predicted class is that of `ActivationLogger`
    (`nnviz_tb.prediction`). Only the chief worker of a `tf.distribute`
    cluster writes.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL); the
        summaries go to its `validation` subdirectory.
      validation_data: `(x, labels)`: inputs (an array, or a list or dict of
        arrays) and their class ids (integers, or one-hot rows).
      class_names: Names of the classes, indexed by label. Defaults to the
        label numbers.
      every_n_epochs: Record every this many epochs. The last epoch of a fit
        is always recorded. Defaults to 1.
      batch_size: Points per forward pass. Defaults to 256.

    Example:

    ```python
    callbacks = [nnviz_tb.ConfusionMatrixLogger("logs/mlp", (x_val, y_val)),
                 nnviz_tb.TensorBoard("logs/mlp")]
    model.fit(x_train, y_train, epochs=20, validation_data=(x_val, y_val), callbacks=callbacks)
    ```
    """

    def __init__(self, log_dir, validation_data, class_names=None, every_n_epochs=1, batch_size=256):
        super().__init__(os.path.join(check_log_dir(log_dir), metadata.VALIDATION_RUN), every_n_epochs)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "The 'validation_data' parameter must be a tuple (x, labels) of arrays. Got %r instead."
                % (type(validation_data).__name__,)
            )
        try:
            self.x, self.labels, self.class_names = probe_lib.check_probe(validation_data, class_names)
        except ValueError as e:  # Its messages speak of a probe.
            raise ValueError(str(e).replace("'probe' parameter", "'validation_data' parameter")
                             .replace("probe", "validation")) from None
        self.batch_size = probe_lib.check_positive_int("batch_size", batch_size)
        self._outputs = None

    def set_model(self, model):
        super().set_model(model)
        self._outputs = None

    def on_train_begin(self, logs=None):
        if self._outputs is None:
            self._outputs = layer_outputs.LayerOutputs(
                self.model, layers=[], probe_x=self.x, num_classes=len(self.class_names)
            )
            self._outputs.batch_size = self.batch_size
        super().on_train_begin(logs)
        if self._writer is not None:
            io_utils.print_msg(
                "nnviz_tb ConfusionMatrixLogger -> %s: %d points, %d classes; predicted classes: output %r, %s."
                % (self.log_dir, len(self.labels), len(self.class_names), self._outputs.output_name,
                   self._outputs.rule)
            )

    def _record(self, step):
        _, predictions = self._outputs(self.x)
        num_classes = len(self.class_names)
        self._writer.write_scalars(step, class_metrics.scalars(self.labels, predictions, self.class_names))
        self._writer.write_confusion(
            step, class_metrics.confusion_matrix(self.labels, predictions, num_classes), self.class_names
        )
