"""The nnviz on-disk format: plugin name, tags, summary metadata and array encoding.

Writers (`nnviz_tb.summary`) and readers (`nnviz_tb.plugin`) both import this
module, and nothing else spells a tag or a format detail. It imports no
TensorFlow, so TensorBoard can load it without TensorFlow installed.

Every nnviz summary is a *blob sequence* (`DATA_CLASS_BLOB_SEQUENCE`) whose
`plugin_data.content` is UTF-8 JSON describing it:

* ``nnviz/probe`` (step = first epoch of the `fit` call), three blobs:
  probe description (JSON), labels (``.npy`` int32, shape ``[N]``) and
  thumbnails (``.npy`` uint8, ``[N, h, w]`` or ``[N, h, w, 3]``; empty if none).
* ``nnviz/activations/<layer>/epoch_<EEEEE>`` (step = epoch), one blob: the
  layer's (reduced) output for the probe set, ``.npy`` float16 (float32 if the
  values overflow float16), shape ``[N, D]``.
* ``nnviz/predictions/epoch_<EEEEE>`` (step = epoch), one blob: the model's
  predicted class per probe point, ``.npy`` int32 ``[N]``.

Layer correlations (`CorrelationLogger`; measures in `nnviz_tb.analysis.correlation`):

* ``nnviz/correlations/epoch_<EEEEE>`` (step = epoch), one blob per measure
  named in the content's ``measures``: the layer-pair scores, ``.npy``
  float32 ``[L, L]`` (NaN where undefined). Content: ``layers``, ``dims``,
  ``reductions``, ``live_features`` (per layer), ``measures``.
* ``nnviz/feature_correlations/<layer>/epoch_<EEEEE>`` (step = epoch), five
  blobs (indices `FEATURE_MATRIX` ...): feature x feature Pearson r, float16
  ``[F, F]``; the features' indices, int32 ``[F]``; sample x sample Pearson
  r, float16 ``[S, S]``; the samples' probe indices and labels, int32
  ``[S]``. NaN rows and columns: dead features, flat samples. Content:
  ``layer``, ``num_features``, ``num_points``, ``class_names`` and the
  sampling rules ``feature_sampling``, ``sample_sampling``.
* ``nnviz/augmentation_variance/epoch_<EEEEE>`` (step = epoch), one blob per
  layer named in the content's ``layers``: float32 ``[2, D]``, the variance
  of each feature over the augmentations (row 0) and over the probe set
  (row 1). Content: ``layers``, ``input_index``, ``num_augmentations``,
  ``augmentation``, ``threshold`` (of invariance).

Gradient statistics (`GradientStatsLogger`; rules in
`nnviz_tb.callbacks.gradient_tracking`):

* ``nnviz/gradients/epoch_<EEEEE>`` (step = epoch: the e-th epoch of
  training), three blobs (indices `GRADIENT_INFO` ...): the epoch's
  statistics, JSON (see `nnviz_tb.gradient_stats.epoch_record`); the sign
  codes (`SIGN_*`) of the sampled weights at the recorded steps, uint8
  ``[T, S]``; per measured step the zero count and gradient norm of each
  variable, then each layer, float32 ``[M, V + L, 2]``. Content: ``epoch``,
  ``layers``.
* Scalars (TensorBoard's Scalars tab) ``gradients/<layer>/<stat>`` (step =
  epoch), tags from `gradient_scalar_tag`.

Per-class metrics (`ActivationLogger` of its probe, `ConfusionMatrixLogger`
of the validation data in ``<log_dir>/validation``; `nnviz_tb.class_metrics`):

* Scalars ``precision/<class>``, ``recall/<class>``, ``f1/<class>`` and
  ``macro_avg/<metric>`` (step = epoch), tags from `class_metric_tag`,
  `macro_metric_tag`.
* ``nnviz/confusion/epoch_<EEEEE>`` (step = epoch; `ConfusionMatrixLogger`),
  one blob: int32 ``[C, C]`` counts, row = true class, column = predicted
  class. Content: ``epoch``, ``class_names``, ``num_points``.

Saliency maps (`SaliencyLogger`; maths in `nnviz_tb.saliency`):

* ``nnviz/saliency/<method>/epoch_<EEEEE>`` (step = epoch), ``2 + I`` blobs
  (indices `SALIENCY_INFO` ...): JSON ``targets`` (the class explained per
  image), ``labels`` (per image, or null), ``scale`` (the colour scale of
  this epoch's maps) and ``layer`` (Grad-CAM's, or null); the images' keys,
  uint8 ``[I, k, k]`` or ``[I, k, k, 3]`` (`nnviz_tb.probe.thumbnail_keys`;
  empty if they are not images), by which the plugin finds the probe point
  each image is; then one PNG per image, its saliency map coloured (red
  positive, blue negative, white zero at ``+-scale``). Content:
  ``method``, ``epoch``, ``num_images``.

One tag per epoch keeps every epoch visible: TensorBoard's loader keeps only a
sample of the steps of each tag, but never drops a tag.
"""

import io
import json
import math

import numpy as np
from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "nnviz"
FORMAT_VERSION = 1

PROBE_TAG = "nnviz/probe"
KIND_PROBE = "probe"
KIND_ACTIVATIONS = "activations"
KIND_PREDICTIONS = "predictions"

# Most classes a probe may have: the tab gives each its own colour, row and column. The
# callbacks refuse more; the plugin compacts runs written with more class ids to those used.
MAX_CLASSES = 1000

# Indices of the blobs in the probe summary.
PROBE_INFO, PROBE_LABELS, PROBE_THUMBNAILS = 0, 1, 2

_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class FormatError(ValueError):
    """A summary whose content or blobs do not follow the nnviz format."""


def activations_tag(layer, epoch):
    """Tag of one layer's activations at one epoch."""
    return "nnviz/activations/%s/epoch_%05d" % (layer, epoch)


def predictions_tag(epoch):
    """Tag of the model's predicted classes at one epoch."""
    return "nnviz/predictions/epoch_%05d" % epoch


def create_summary_metadata(kind, **fields):
    """Returns a `SummaryMetadata` proto for an nnviz blob-sequence summary.

    Args:
      kind: One of the `KIND_*` constants.
      **fields: JSON-serialisable details stored in the plugin content
        (e.g. `layer`, `epoch`, `reduction`).
    """
    content = dict(fields, kind=kind, version=FORMAT_VERSION)
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME,
            content=json.dumps(content, sort_keys=True).encode("utf-8"),
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def encode_array(array):
    """Encodes a NumPy array as `.npy` bytes (no pickles)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def decode_array(data, copy=True):
    """Decodes `.npy` bytes written by `encode_array`, checking the header first.

    The header's shape and dtype must account for exactly the bytes that
    follow it, so a damaged header never makes the reader allocate what it
    claims (e.g. 10**12 rows). With `copy=False` the array is a read-only
    view of `data` (no second copy of a large blob).

    Raises:
      FormatError: (a `ValueError`) if `data` is not a valid `.npy` payload.
    """
    data = bytes(data)
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in _NPY_HEADER_READERS:
            raise ValueError("unsupported .npy version %s" % (version,))
        shape, fortran_order, dtype = _NPY_HEADER_READERS[version](stream)
    except Exception as e:  # NumPy's header parser raises many types on damaged bytes.
        raise FormatError("Invalid nnviz array payload: %s" % e) from e
    if dtype.hasobject:
        raise FormatError("Invalid nnviz array payload: it holds Python objects")
    count = math.prod(shape)
    payload = len(data) - stream.tell()
    if count * dtype.itemsize != payload:
        raise FormatError(
            "Invalid nnviz array payload: its header claims %s %s (%d bytes), but %d bytes follow"
            % ("x".join(map(str, shape)) or "scalar", dtype, count * dtype.itemsize, payload)
        )
    array = np.frombuffer(data, dtype, count=count, offset=stream.tell())
    array = array.reshape(shape, order="F" if fortran_order else "C")
    return array.copy() if copy else array


def encode_activations(array, to_float16=None):
    """Encodes activations compactly: float16 unless that would overflow.

    Args:
      array: `[N, D]` values.
      to_float16: Optional faster float32 -> float16 converter with NumPy's
        rounding (the writer passes TensorFlow's cast). Defaults to NumPy.
    """
    array = np.asarray(array, dtype=np.float32)
    if _finite_peak(array) < float(np.finfo(np.float16).max):
        array = to_float16(array) if to_float16 else array.astype(np.float16)
    return encode_array(array)


def _finite_peak(array, chunk_values=2**22):
    """Largest finite magnitude, over row chunks of about `chunk_values` values (16 MB of temporaries)."""
    if array.size == 0:
        return 0.0
    flat = array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)
    rows = max(1, chunk_values // max(flat.shape[1], 1))
    peak = 0.0
    for start in range(0, len(flat), rows):
        chunk = np.abs(flat[start : start + rows])
        peak = max(peak, float(chunk[np.isfinite(chunk)].max(initial=0.0)))
    return peak


def encode_json(value):
    return json.dumps(value, sort_keys=True).encode("utf-8")


def decode_json(data):
    return json.loads(bytes(data).decode("utf-8"))


# --- Layer correlations (CorrelationLogger) --------------------------------

KIND_CORRELATIONS = "correlations"
KIND_FEATURE_CORRELATIONS = "feature_correlations"
KIND_AUGMENTATION_VARIANCE = "augmentation_variance"

# Indices of the blobs in a feature-correlations summary.
FEATURE_MATRIX, FEATURE_INDICES, SAMPLE_MATRIX, SAMPLE_INDICES, SAMPLE_LABELS = range(5)


def correlations_tag(epoch):
    """Tag of the cross-layer correlation scores at one epoch."""
    return "nnviz/correlations/epoch_%05d" % epoch


def feature_correlations_tag(layer, epoch):
    """Tag of one layer's feature and sample correlation matrices at one epoch."""
    return "nnviz/feature_correlations/%s/epoch_%05d" % (layer, epoch)


def augmentation_variance_tag(epoch):
    """Tag of every layer's feature variance over augmentations at one epoch."""
    return "nnviz/augmentation_variance/epoch_%05d" % epoch


# --- Gradient statistics (GradientStatsLogger) -------------------------------

KIND_GRADIENT_STATS = "gradient_stats"

# Indices of the blobs in a gradient-statistics summary.
GRADIENT_INFO, GRADIENT_SIGNS, GRADIENT_STEP_STATS = range(3)

# Codes of the gradient-sign heatmaps: |g| < zero_threshold; small negative and
# small positive gradients; |g| > release_threshold (large), negative and positive.
SIGN_ZERO, SIGN_NEGATIVE, SIGN_POSITIVE, SIGN_LARGE_NEGATIVE, SIGN_LARGE_POSITIVE = range(5)
SIGN_NAMES = ("zero", "small negative", "small positive", "large negative", "large positive")


def gradient_stats_tag(epoch):
    """Tag of the gradient statistics of one epoch."""
    return "nnviz/gradients/epoch_%05d" % epoch


def gradient_scalar_tag(layer, stat):
    """Scalars-tab tag of one statistic of one layer (grouped by layer)."""
    return "gradients/%s/%s" % (layer, stat)


# --- Per-class metrics (ActivationLogger, ConfusionMatrixLogger) -------------

KIND_CONFUSION = "confusion_matrix"
CLASS_METRICS = ("precision", "recall", "f1")
# Subdirectory of a log dir where `ConfusionMatrixLogger` writes: run `<run>/validation`.
VALIDATION_RUN = "validation"


def class_metric_tag(metric, class_name):
    """Scalars-tab tag of one class's metric (one group per metric), e.g. `precision/cat`."""
    return "%s/%s" % (metric, class_name)


def macro_metric_tag(metric):
    """Scalars-tab tag of a metric's macro average over the classes."""
    return "macro_avg/%s" % metric


def confusion_tag(epoch):
    """Tag of the confusion matrix of the validation data at one epoch."""
    return "nnviz/confusion/epoch_%05d" % epoch


# --- Saliency maps (SaliencyLogger) ------------------------------------------

KIND_SALIENCY = "saliency"
SALIENCY_METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")

# Indices of the blobs in a saliency summary: then one PNG per image.
SALIENCY_INFO, SALIENCY_KEYS, SALIENCY_IMAGES = range(3)


def saliency_tag(method, epoch):
    """Tag of one saliency method's maps at one epoch."""
    return "nnviz/saliency/%s/epoch_%05d" % (method, epoch)
