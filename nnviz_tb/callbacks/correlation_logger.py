"""`CorrelationLogger`: how layers, features and samples correlate while a model trains."""

import functools
import logging
import numbers
import threading

import numpy as np

from nnviz_tb import augment as augment_lib
from nnviz_tb import probe as probe_lib
from nnviz_tb.analysis import correlation
from nnviz_tb.callbacks.epoch_recorder import ProbeRecorder, check_layer_names
from nnviz_tb.correlation_summaries import CorrelationSummaries

logger = logging.getLogger(__name__)


class CorrelationLogger(ProbeRecorder):
    """Writes layer correlations over a fixed probe set for the nnviz tab.

    Before training (step 0), every `every_n_epochs` epochs and at the last
    epoch, the probe set goes through the model once (in batches) and the
    writer thread computes from the recorded layers' outputs
    (`nnviz_tb.analysis.correlation` defines every number):

    * the score of every pair of layers under each of `measures` (linear CKA,
      best-match |Pearson r|), and their mean over distinct pairs as scalars
      `correlation/mean_<measure>` in TensorBoard's Scalars tab;
    * for each of `matrix_layers`, the feature x feature and the sample x
      sample Pearson correlation matrices (at most `max_features` features,
      evenly spaced; at most `max_samples` probe points, balanced over the
      classes and ordered by class);
    * the variance of every feature over `num_augmentations` random
      augmentations of probe point `augment_index`, next to its variance over
      the probe set, which tells invariant features from reacting ones. The
      default augmentation varies only floating-point inputs: for a model
      on integers alone (token ids) it is skipped, with one warning at the
      start of `fit` and a note stored with the data and shown in the tab;
      if the model fails on the augmented copies, likewise.

    Bounds, whatever the model (each recorded with the data and shown in
    the tab where it applies):

    * Features: outputs with spatial axes are reduced as by
      `ActivationLogger` (`reduction`, `max_dim`); a layer that is still
      wider than `max_dim` (a `Dense(100000)`) is represented by `max_dim`
      evenly spaced features, the same at every epoch, in every analysis.
      Best-match |r| and the feature x feature matrices use at most
      `max_features` of those (evenly spaced).
    * Work per record: linear CKA comes from the feature products or, when
      cheaper, from N x N Gram matrices (the same number), over every
      probe point as long as that costs at most
      `correlation.CKA_WORK` = 5e10 multiply-adds and 256 MB of Gram
      matrices, else over a class-balanced sample of points, fixed for the
      run, that does (all 176 layers of ResNet50: 617 of 2,000 points).
      Best-match |r| uses fewer features per layer where `max_features`
      would cost more than `correlation.PEARSON_WORK` = 2e10 (those 176
      layers: 45). So a record's memory grows linearly with the probe size
      and the layers' widths, never with their squares.
    * Lag: the correlations are computed on the writer thread (at the
      lowest CPU priority, NumPy's BLAS on one thread) while the next epoch
      trains, but at most one record at a time: `on_epoch_end` waits for the
      previous one first. A killed run loses at most the record being
      computed; `on_train_end` returns once every record is written.

    Only the chief worker of a `tf.distribute` cluster writes.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL).
      probe: `(x, labels)`: fixed inputs and their integer class ids (or
        one-hot rows), e.g. 2,000 test images.
      layers: Names of the layers to compare. Defaults to the layers
        `ActivationLogger` records by default.
      every_n_epochs: Record every this many epochs. Defaults to 1.
      measures: Cross-layer measures, from `("cka", "pearson")`. Defaults to
        both.
      matrix_layers: Recorded layers whose feature and sample matrices are
        written. Defaults to all of them.
      max_features: Largest side of a feature x feature matrix, and most
        features per layer that best-match |r| compares. Defaults to 256.
      max_samples: Largest side of a sample x sample matrix. Defaults to 256.
      augment: Callable `augment(x, rng) -> x'` returning a random variant of
        one input (a NumPy `Generator` is passed as `rng`). Defaults to
        `nnviz_tb.augment.RandomAugmentation(image_shape=image_shape)`:
        shifts of up to 2 pixels, rotations of up to 10 degrees and noise,
        of floating-point inputs only. For several inputs, `x` is a list
        or dict of one sample of each (like the probe).
      num_augmentations: Number of augmented copies; 0 turns the
        augmentation variance off. Defaults to 300.
      augment_index: Index of the probe point that is augmented. Defaults
        to 0.
      invariance_threshold: A feature is invariant when its variance over
        the augmentations is at most this times its variance over the probe
        set. Defaults to 0.01.
      class_names: Names of the classes, indexed by label. Defaults to the
        label numbers.
      reduction: `"mean"`, `"max"` or `"flatten"`, as for
        `ActivationLogger`. Defaults to `"mean"`.
      max_dim: Feature cap of `"flatten"`, and of any layer (wider ones are
        sampled). Defaults to 2048.
      batch_memory_mb: Memory budget in MB for one batch of layer outputs.
        Defaults to 64.
      image_shape: `(H, W)` or `(H, W, C)` of flat inputs that are not square
        images, for the default augmentation. Defaults to None.
      seed: Seed of the augmentations (the same copies at every epoch).
        Defaults to 0.

    Example:

    ```python
    logger = nnviz_tb.CorrelationLogger("logs/mlp", probe=(x_test[:2000], y_test[:2000]))
    model.fit(x_train, y_train, epochs=20, callbacks=[logger])
    # then: tensorboard --logdir logs  (Scalars: correlation/mean_cka; nnviz tab)
    ```
    """

    def __init__(
        self,
        log_dir,
        probe,
        layers=None,
        every_n_epochs=1,
        measures=correlation.MEASURES,
        matrix_layers=None,
        max_features=256,
        max_samples=256,
        augment=None,
        num_augmentations=300,
        augment_index=0,
        invariance_threshold=0.01,
        class_names=None,
        reduction="mean",
        max_dim=2048,
        batch_memory_mb=64,
        image_shape=None,
        seed=0,
    ):
        super().__init__(
            log_dir, probe, layers, every_n_epochs, class_names, reduction, max_dim, batch_memory_mb
        )
        self.matrix_layers = check_layer_names("matrix_layers", matrix_layers)
        if isinstance(measures, str) or not measures or not set(measures) <= set(correlation.MEASURES):
            raise ValueError(
                "The 'measures' parameter must be a non-empty list of %s. Got %r instead."
                % (correlation.MEASURES, measures)
            )
        self.measures = tuple(measures)
        self.max_features = probe_lib.check_positive_int("max_features", max_features)
        self.max_samples = probe_lib.check_positive_int("max_samples", max_samples)
        if not isinstance(invariance_threshold, numbers.Real) or not invariance_threshold > 0:
            raise ValueError(
                "The 'invariance_threshold' parameter must be a number > 0. Got %r instead."
                % (invariance_threshold,)
            )
        self.invariance_threshold = float(invariance_threshold)
        self.augment = augment_lib.RandomAugmentation(image_shape=image_shape) if augment is None else augment
        self.num_augmentations = num_augmentations
        self.augment_index = augment_index
        self.seed = seed
        augmented, self._augmentation_note = self._augmented_copies(default=augment is None)
        self._set_inputs(augmented)
        self._summaries = None
        self._pending = None

    def _set_inputs(self, augmented):
        """The probe and its augmented copies (if any) go through the model in one pass."""
        self._augmenting = augmented is not None
        self._inputs = augment_lib.concatenate(self.probe_x, augmented) if self._augmenting else self.probe_x

    def _augmented_copies(self, default):
        """`(augmented inputs or None, note or None)`: the copies are the same at every epoch."""
        if not callable(self.augment):
            raise ValueError("The 'augment' parameter must be callable. Got %r instead." % (self.augment,))
        num = self.num_augmentations
        if not _is_int(num) or num < 0 or num == 1:
            raise ValueError(
                "The 'num_augmentations' parameter must be 0 (off) or an integer >= 2. "
                "Got %r instead." % (num,)
            )
        if num == 0:
            return None, None
        index = self.augment_index
        num_points = len(self.probe_labels)
        if not _is_int(index) or not 0 <= index < num_points:
            raise ValueError(
                "The 'augment_index' parameter must be the index of a probe point, "
                "0 to %d. Got %r instead." % (num_points - 1, index)
            )
        note = None
        if default:
            fixed = [name for name, array in augment_lib.named_inputs(self.probe_x) if not augment_lib.is_float(array)]
            if len(fixed) == len(augment_lib.named_inputs(self.probe_x)):
                return None, (
                    "No augmentation variance: the probe inputs are integers (e.g. token ids), which "
                    "the default augmentation cannot vary. Pass augment= a callable that varies them, "
                    "or num_augmentations=0."
                )
            if fixed:
                note = "Only the float inputs are augmented; %s (integers) stay as they are." % ", ".join(fixed)
        copies = augment_lib.augmented_copies(augment_lib.sample(self.probe_x, index), self.augment, num, self.seed)
        return copies, note

    def _layer_outputs(self):
        outputs = super()._layer_outputs()
        unknown = [n for n in self.matrix_layers or () if n not in outputs.names]
        if unknown:
            raise ValueError(
                "The 'matrix_layers' parameter names layers that are not recorded: %s. "
                "Recorded layers: %s." % (unknown, outputs.names)
            )
        return outputs

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._pending = threading.Semaphore(1)
        self._summaries = self._describe_summaries()
        if self._augmentation_note:
            logger.warning("nnviz_tb CorrelationLogger: %s", self._augmentation_note)

    def _describe_summaries(self):
        outputs = self._outputs
        return CorrelationSummaries(
            layers=outputs.names,
            dims=outputs.dims,
            columns=outputs.kept_columns(self.max_dim),
            reductions=outputs.reductions,
            measures=self.measures,
            matrix_layers=outputs.names if self.matrix_layers is None else self.matrix_layers,
            labels=self.probe_labels,
            class_names=self.class_names,
            max_features=self.max_features,
            max_samples=self.max_samples,
            augmentation=_describe(self.augment) if self._augmenting else None,
            augmentation_note=self._augmentation_note,
            input_index=self.augment_index,
            num_augmentations=self.num_augmentations,
            threshold=self.invariance_threshold,
        )

    def _record(self, step):
        # At most one record is computed behind training: a crash loses at most that one.
        self._pending.acquire()
        try:
            outputs = self._forward()
        except BaseException:
            self._pending.release()
            raise
        num = len(self.probe_labels)
        activations = {name: values[:num] for name, values in outputs.items()}
        augmented = {name: values[num:] for name, values in outputs.items()} if self._augmenting else None
        self._writer.submit(functools.partial(self._write, step, activations, augmented))

    def _sampled_outputs(self):
        """`{layer: [N + A, F]}`: the kept features of the probe's and the copies' layer outputs.

        The inputs go through in chunks whose full outputs fit in
        `batch_memory_mb`, so a layer wider than `max_dim` never is whole in memory.
        """
        total = len(self.probe_labels) + (self.num_augmentations if self._augmenting else 0)
        chunk = max(self._outputs.batch_size, self.batch_memory_mb * 2**20 // (4 * max(sum(self._outputs.dims), 1)))
        kept = {name: np.empty((total, d), np.float32) for name, d in zip(self._summaries.layers, self._summaries.sampled_dims)}
        for start in range(0, total, chunk):
            part = self._summaries.sampled(self._outputs(augment_lib.rows(self._inputs, start, start + chunk))[0])
            for name, values in part.items():
                kept[name][start : start + len(values)] = values
        return kept

    def _forward(self):
        """The layer outputs of the probe (and the augmented copies, unless the model fails on them)."""
        try:
            return self._sampled_outputs()
        except Exception as e:
            if not self._augmenting:
                raise
            self._augmentation_note = (
                "No augmentation variance: the model failed on the augmented copies (%s)." % _telling_line(e))
            logger.warning("nnviz_tb CorrelationLogger: %s", self._augmentation_note)
            self._set_inputs(None)
            self._summaries = self._describe_summaries()
            return self._sampled_outputs()

    def _write(self, step, activations, augmented):
        try:
            self._summaries.write(step, activations, augmented)
        finally:
            self._pending.release()


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _telling_line(error):
    """The line of an exception's message that says what failed (TensorFlow's start with a traceback)."""
    lines = [line for line in str(error).splitlines() if line.strip() and not line[0].isspace()]
    lines = [line for line in lines if not line.startswith(("Graph execution error", "Detected at node"))]
    return lines[-1].strip() if lines else type(error).__name__


def _describe(augment):
    """A function's name, or the repr of a callable object."""
    return getattr(augment, "__name__", None) or repr(augment)
