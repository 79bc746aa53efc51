"""`EmbeddingLogger`: hidden-layer activations of a probe set for TensorBoard's Projector tab."""

import functools
import logging

import numpy as np

from nnviz_tb import probe as probe_lib
from nnviz_tb import projector
from nnviz_tb.callbacks.epoch_recorder import ProbeRecorder

logger = logging.getLogger(__name__)


class EmbeddingLogger(ProbeRecorder):
    """Writes the chosen layers' activations of a probe set for the Projector tab.

    Keras' own `TensorBoard(embeddings_freq=...)` shows nothing in Keras 3
    (keras-team/keras#20210) and only covers `Embedding` weights. This
    logger records, before training (step 0) and after every
    `every_n_epochs` epochs (step = epochs trained; the last epoch of a
    fit too), each recorded layer's output for every probe point, as one
    Projector embedding named `"<layer> @ epoch <step>"` (e.g.
    `"dense_1 @ epoch 005"`), with no TensorFlow checkpoint. Each point
    carries metadata the Projector can colour and label by: `label` (true
    class name), `predicted` (predicted class name), `correct` (`yes`/`no`)
    and `index` (position in the probe). When the probe inputs are images,
    their thumbnails form the Projector's sprite (at most 32 x 32 pixels
    each, smaller if that is needed for all of them to fit the Projector's
    8192 x 8192 sheet); other inputs (tabular, sequences, token ids) get no
    sprite. See `nnviz_tb.projector` for the files.

    The files of an epoch are written on a background thread while the
    next epoch trains, and the config is rewritten atomically after them,
    so a crash loses at most the epoch being written. A new logger whose
    `fit` starts at epoch 0 replaces the embeddings of an earlier run in
    `log_dir`; one resuming (`initial_epoch > 0`) adds to them. The run
    gets an event file with no summaries, as TensorBoard lists (and the
    Projector reads) only runs that have one. Only the chief worker of a
    `tf.distribute` cluster writes.

    TensorBoard's Projector reads each run's config once per TensorBoard
    process (and when a new run appears): epochs recorded after it first
    read them show after TensorBoard is restarted.

    Storage: `N * D * 4` bytes per recorded epoch for `N` probe points and
    `D` recorded values per point (the sum of the recorded layers' widths,
    each at most `max_dim`), plus the metadata and the sprite. The
    Projector computes projections in the browser: t-SNE on at most 10,000
    points, UMAP 5,000, PCA 50,000; it loads at most 100,000.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL). Other
        loggers may write to the same directory.
      probe: `(x, labels)`: fixed inputs (an array, or a list or dict of
        arrays) and their class ids (or one-hot rows), e.g. 5,000 test
        images.
      layers: Names of the layers to record, or `"all"`, as for
        `ActivationLogger`. Defaults to `ActivationLogger`'s default
        choice (at most 12 layers).
      every_n_epochs: Record every this many epochs. Defaults to 1.
      class_names: Names of the classes, indexed by label (tabs and line
        breaks become spaces in the metadata). Defaults to the label
        numbers.
      reduction: How a layer output with spatial axes (a conv feature map,
        a sequence) becomes one vector per point: `"mean"`, `"max"` or
        `"flatten"`, as for `ActivationLogger`. Defaults to `"mean"`.
      max_dim: Most values per point of a recorded layer: `"flatten"`
        pools to stay under it, and a wider layer is recorded as `max_dim`
        evenly spaced features, the same at every epoch. Defaults to 2048.
      batch_memory_mb: Memory budget in MB for the layer outputs of one
        batch of probe points. Defaults to 64.
      sprite: Whether to write the probe images as the Projector's sprite
        when they are images (`[N, H, W]`, `[N, H, W, C]` with C in 1, 3,
        4, flat square images, or any shape with `image_shape`). Defaults
        to True.
      image_shape: Shape `(H, W)` or `(H, W, C)` of one image when the
        inputs are images that do not look like one (flat vectors that are
        not square). Defaults to None.
      output: Name of the model output the labels belong to. Defaults to
        the only output whose width fits the classes, else the first.
      from_logits: Whether a one-unit output gives a logit rather than a
        probability, as for `ActivationLogger`. Defaults to None (read from
        the compiled loss and the output's activation).

    Example:

    ```python
    logger = nnviz_tb.EmbeddingLogger("logs/mlp", probe=(x_test[:5000], y_test[:5000]),
                                      layers=["dense_1", "dense_2"])
    model.fit(x_train, y_train, epochs=20, callbacks=[logger])
    # then: tensorboard --logdir logs  (Projector tab: "dense_2 @ epoch 020")
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
        sprite=True,
        image_shape=None,
        output=None,
        from_logits=None,
    ):
        super().__init__(
            log_dir, probe, layers, every_n_epochs, class_names, reduction, max_dim, batch_memory_mb,
            output=output, from_logits=from_logits,
        )
        if not isinstance(sprite, bool):
            raise ValueError("The 'sprite' parameter must be True or False. Got %r instead." % (sprite,))
        image_shape = probe_lib.check_image_shape(image_shape)
        self.thumbnails = probe_lib.make_thumbnails(self.probe_x, image_shape) if sprite else None
        self._projector = None
        self._warned_nonfinite = False

    def _layer_outputs(self):
        outputs = super()._layer_outputs()
        self._columns = outputs.kept_columns(self.max_dim)
        return outputs

    def _plan(self):
        dims = [self.max_dim if kept is not None else d for d, kept in zip(self._outputs.dims, self._columns)]
        size = len(self.probe_labels) * sum(dims) * 4
        sprite = ("sprite of %d thumbnails of %d x %d px" % self.thumbnails.shape[:3]
                  if self.thumbnails is not None else "no sprite (the inputs are not images)")
        return "\n".join([
            super()._plan(),
            "  Projector: %d embeddings per recorded epoch, %.1f MB (%d points x %d values x 4 bytes), %s."
            % (len(dims), size / 1e6, len(self.probe_labels), sum(dims), sprite),
        ])

    def _record(self, step):
        if self._projector is None or self._projector.log_dir != self.log_dir:  # A new run unless resumed.
            self._projector = projector.ProjectorWriter(self.log_dir, self.class_names, resume=step > 0)
            if self.thumbnails is not None:
                self._writer.submit(functools.partial(self._projector.write_sprite, self.thumbnails))
        self._writer.submit(functools.partial(self._write_epoch, step, self._probe_pass(self._columns)))

    def _write_epoch(self, step, probe_pass):
        """Writes one epoch's embeddings (on the writer thread: the pass runs there, see `ProbePass`)."""
        activations, predictions = probe_pass()
        self._warn_nonfinite(step, activations)
        self._projector.write_epoch(step, self._outputs.names, activations, self.probe_labels, predictions)

    def _warn_nonfinite(self, step, activations):
        bad = [name for name, values in activations.items() if not np.isfinite(values).all()]
        if bad and not self._warned_nonfinite:
            self._warned_nonfinite = True
            logger.warning(
                "nnviz_tb: layers %s have NaN or infinite activations at epoch %d; they are written "
                "as they are and the Projector cannot project them.", bad, step,
            )
