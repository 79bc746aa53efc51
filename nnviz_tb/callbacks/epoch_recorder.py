"""The loggers' bases: when they record (`EpochRecorder`), and what from a probe set (`ProbeRecorder`)."""

import hashlib
import os
import threading
import warnings

import keras
import numpy as np
from keras.src.utils import io_utils

from nnviz_tb import layer_outputs, prediction, probe as probe_lib
from nnviz_tb.callbacks import distribution, steps
from nnviz_tb.summary import NnvizWriter

# The last probe pass of any ProbeRecorder, `(key, ProbePass)`: an ActivationLogger and an EmbeddingLogger
# of the same probe and layers record at the same moment of training, and the second reuses the first's
# pass (on the MNIST MLP with 2,000 probe points, 17 ms of a 0.32 s epoch). Kept until the next pass or the
# end of the fit: N x D x 4 bytes.
_last_pass = None


def check_log_dir(log_dir):
    """Returns `log_dir` as a str, or raises ValueError if it is no path.

    Warns when the run's directory name has a character that TensorBoard's
    default (Rust) loader cannot handle: it skips such runs silently.
    """
    if isinstance(log_dir, bytes):
        log_dir = os.fsdecode(log_dir)
    if not isinstance(log_dir, str) and not hasattr(log_dir, "__fspath__"):
        raise ValueError("The 'log_dir' parameter must be a path. Got %r instead." % (log_dir,))
    log_dir = os.fspath(log_dir)
    if not log_dir.strip():
        raise ValueError(
            "The 'log_dir' parameter must be a directory path, e.g. 'logs/run1'. Got %r "
            "instead (it would write into the working directory)." % (log_dir,)
        )
    name = log_dir.rstrip("/").rsplit("/", 1)[-1]
    bad = sorted({c for c in name if c in '"\\' or ord(c) < 32 or ord(c) == 127})
    if bad:
        warnings.warn(
            "nnviz_tb: the run directory name %r contains %s; TensorBoard's default loader "
            "skips such runs without a message. Rename the directory, or start TensorBoard "
            "with --load_fast=false." % (name, ", ".join(repr(c) for c in bad)),
            stacklevel=3,
        )
    return log_dir


def check_layer_names(name, value, allow_all=False):
    """Returns `value` as a list of layer names (None, and `"all"` if allowed, stay), or raises ValueError."""
    if allow_all and value == "all":
        return value
    if value is not None and (isinstance(value, str) or not all(isinstance(n, str) for n in value)):
        raise ValueError(
            "The '%s' parameter must be a list of layer names%s. Got %r instead."
            % (name, ' or "all"' if allow_all else "", value)
        )
    return None if value is None else list(value)


class EpochRecorder(keras.callbacks.Callback):
    """Base of the loggers that record the model's state at chosen epochs.

    Steps are epochs trained (`nnviz_tb.callbacks.steps`): step 0 is
    recorded at the first `on_epoch_begin` of a `fit` that starts at epoch 0
    (before any training), then step `e` after every `every_n_epochs`-th
    epoch, and the last epoch of each `fit`. Only
    the chief worker of a `tf.distribute` cluster writes: its `NnvizWriter`
    is created in `on_train_begin` and closed in `on_train_end`.

    Subclasses implement `_record(step)`, called on the chief only.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL).
      every_n_epochs: Record every this many epochs.
    """

    def __init__(self, log_dir, every_n_epochs):
        super().__init__()
        self.log_dir = check_log_dir(log_dir)
        self.every_n_epochs = probe_lib.check_positive_int("every_n_epochs", every_n_epochs)
        self._writer = None

    def on_train_begin(self, logs=None):
        self._first_epoch = None
        self._last_epoch = None
        self._last_recorded = None
        if self._writer is None and distribution.is_chief(self.model):
            self._writer = NnvizWriter(self.log_dir)

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is not None:
            return
        self._first_epoch = epoch
        steps.warn_if_trained_before(self.model, epoch)
        if epoch == 0:  # Resumed runs (initial_epoch > 0) recorded this already.
            self._step(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self._step(epoch + 1)
        self._last_epoch = epoch + 1

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_recorded != self._last_epoch:
            self._step(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _step(self, step):
        self._last_recorded = step
        if self._writer is not None:
            self._record(step)

    def _record(self, step):
        """Records the model's state at `step` with `self._writer`."""
        raise NotImplementedError


class ProbeRecorder(EpochRecorder):
    """Base of the loggers that record chosen layers' outputs for a fixed probe set.

    Checks the probe and the layer options when created, and builds the
    `layer_outputs.LayerOutputs` (`self._outputs`) as soon as the model is
    built, so that bad layer names fail before training starts. At the start
    of each `fit` it prints which layers it records. See `ActivationLogger`
    for the arguments.
    """

    # Whether the logger records predicted classes (then a guessed output is warned about).
    _records_predictions = False

    def __init__(self, log_dir, probe, layers, every_n_epochs, class_names, reduction, max_dim,
                 batch_memory_mb, output=None, from_logits=None):
        super().__init__(log_dir, every_n_epochs)
        self.probe_x, self.probe_labels, self.class_names = probe_lib.check_probe(probe, class_names)
        self.layers = check_layer_names("layers", layers, allow_all=True)
        self.output = prediction.check_output(output)
        self.from_logits = prediction.check_from_logits(from_logits)
        if reduction not in layer_outputs.REDUCTIONS:
            raise ValueError(
                "The 'reduction' parameter must be one of %s. Got %r instead."
                % (layer_outputs.REDUCTIONS, reduction)
            )
        self.reduction = reduction
        self.max_dim = probe_lib.check_positive_int("max_dim", max_dim)
        self.batch_memory_mb = probe_lib.check_positive_int("batch_memory_mb", batch_memory_mb)
        self._outputs = None
        self._probe_digest = _digest(self.probe_x)

    def set_model(self, model):
        super().set_model(model)
        self._outputs = None
        if model.built:  # Fail before training starts on bad layer names.
            self._outputs = self._layer_outputs()

    def _layer_outputs(self):
        return layer_outputs.LayerOutputs(
            self.model, self.layers, self.reduction, self.max_dim, self.batch_memory_mb,
            probe_x=self.probe_x, num_classes=len(self.class_names), output=self.output,
            from_logits=self.from_logits, warn=self._records_predictions,
        )

    def on_train_begin(self, logs=None):
        if self._outputs is None:
            self._outputs = self._layer_outputs()
        super().on_train_begin(logs)
        if self._writer is not None:
            io_utils.print_msg(self._plan())

    def on_train_end(self, logs=None):
        global _last_pass
        super().on_train_end(logs)
        _last_pass = None

    def _probe_pass(self, columns):
        """A `ProbePass` of `self._outputs` on the probe at this moment of training (shared with another
        logger of the same probe and layers that asked at the same moment)."""
        global _last_pass
        optimizer = getattr(self.model, "optimizer", None)
        trained = None if optimizer is None else int(keras.ops.convert_to_numpy(optimizer.iterations))
        outputs = self._outputs
        key = (id(self.model), trained, self._probe_digest, self.reduction, self.max_dim, tuple(outputs.names),
               tuple(outputs.reductions), outputs.output_name, outputs.rule,
               tuple(None if c is None else tuple(c) for c in columns))
        if _last_pass is None or _last_pass[0] != key:
            _last_pass = None  # Its memory is free before the next pass.
            _last_pass = (key, ProbePass(outputs, self.probe_x, columns))
        return _last_pass[1]

    def _plan(self):
        """What this fit records, printed at its start."""
        outputs = self._outputs
        layers = ", ".join(
            "%s [%s] -> %d" % (name, "x".join(str(d) for d in shape) or "1", dim)
            for name, shape, dim in zip(outputs.names, outputs.output_shapes, outputs.dims)
        )
        lines = ["nnviz_tb %s -> %s: %d layers (%s reduction): %s."
                 % (type(self).__name__, self.log_dir, len(outputs.names), self.reduction, layers)]
        if self._records_predictions:
            lines.append("  Predicted classes: output %r, %s." % (outputs.output_name, outputs.rule))
        return "\n".join(lines)


def _digest(x):
    """A digest of probe inputs (an array, or a list or dict of arrays)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in keras.tree.flatten(x):
        array = np.ascontiguousarray(array)
        digest.update(repr((array.dtype.str, array.shape)).encode())
        digest.update(array.data)
    return digest.digest()


class ProbePass:
    """The probe's pass through `outputs` (a `layer_outputs.LayerOutputs`) at the moment this is made.

    Where the pass can run on a copy of the weights (`LayerOutputs.snapshot`), the copy is taken now
    and the pass runs at the first call (on a logger's writer thread, while training goes on: the
    forward pass of 5,000 MNIST points through the MLP took 42 ms of a 0.47 s epoch on the training
    thread); else it runs now. Calls from several threads compute it once.
    """

    def __init__(self, outputs, x, columns):
        self._lock = threading.Lock()
        self._args = (outputs, x, columns, outputs.snapshot())
        self._result = None if self._args[3] is not None else outputs(x, columns)

    def __call__(self):
        """`({layer: float32 [N, D]}, predicted classes int32 [N])`."""
        with self._lock:
            if self._result is None:
                outputs, x, columns, weights = self._args
                self._result = outputs(x, columns, weights)
                self._args = None  # The copy of the weights is freed.
            return self._result
