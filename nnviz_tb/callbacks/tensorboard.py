"""`TensorBoard`: Keras' TensorBoard callback on nnviz's steps (step = epochs trained)."""

import keras
import tensorflow as tf

from nnviz_tb.callbacks import steps


class TensorBoard(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` whose epoch summaries use nnviz's steps.

    Keras writes the summaries of the e-th epoch (`epoch_loss`, ...,
    weight histograms and images) at step `e - 1`, so step 0 is "after one
    epoch", while nnviz's step 0 is "before training". This callback writes
    them at step `e`, the number of epochs trained, so that one x value is
    one moment of training in the Scalars, Images, Histograms and nnviz tabs.
    With `histogram_freq`, the weights are also written before training
    (step 0), and then after every `histogram_freq`-th epoch.

    Resumed training (`fit(..., initial_epoch=k)`) continues at step `k + 1`.
    Batch-level summaries (`update_freq="batch"` or an integer: the
    `batch_*` tags) keep Keras' step, the number of batches trained in this
    `fit`, and `evaluation_*_vs_iterations` the optimizer's step; they are
    separate charts. See docs/steps.md.

    With `update_freq="epoch"`, Keras still calls `tf.summary.scalar` for
    every metric after every batch, to no writer; this callback skips those
    calls when no summary writer is set (about 45 us each: 2-3 % of an epoch
    of the MNIST MLP with batches of 64).

    Takes the arguments of `keras.callbacks.TensorBoard`.

    Example:

    ```python
    callbacks = [nnviz_tb.ActivationLogger("logs/mlp", probe=(x_test[:2000], y_test[:2000])),
                 nnviz_tb.TensorBoard("logs/mlp")]
    model.fit(x_train, y_train, epochs=20, validation_data=(x_test, y_test), callbacks=callbacks)
    ```
    """

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._started = False

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        if self._started:
            return
        self._started = True
        steps.warn_if_trained_before(self.model, epoch)
        if epoch == 0 and self.histogram_freq:
            self._log_weights(0)

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" and not self.write_steps_per_second \
                and not tf.summary.should_record_summaries():
            logs = None  # Keras then only writes the graph and traces.
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)
