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

One tag per epoch keeps every epoch visible: TensorBoard's loader keeps only a
sample of the steps of each tag, but never drops a tag.
"""

import io
import json

import numpy as np
from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "nnviz"
FORMAT_VERSION = 1

PROBE_TAG = "nnviz/probe"
KIND_PROBE = "probe"
KIND_ACTIVATIONS = "activations"
KIND_PREDICTIONS = "predictions"

# Indices of the blobs in the probe summary.
PROBE_INFO, PROBE_LABELS, PROBE_THUMBNAILS = 0, 1, 2


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


def parse_plugin_content(content):
    """Parses `plugin_data.content` into a dict.

    Returns None for content that is not valid nnviz JSON or that was written
    by a newer format version, so readers can skip it.
    """
    try:
        parsed = json.loads(bytes(content).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("kind"), str):
        return None
    if parsed.get("version", 0) > FORMAT_VERSION:
        return None
    return parsed


def encode_array(array):
    """Encodes a NumPy array as `.npy` bytes (no pickles)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def decode_array(data):
    """Decodes `.npy` bytes written by `encode_array`.

    Raises:
      ValueError: if `data` is not a valid `.npy` payload.
    """
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, EOFError) as e:  # np.load reports bad data as OSError.
        raise ValueError("Invalid nnviz array payload: %s" % e) from e


def encode_activations(array, to_float16=None):
    """Encodes activations compactly: float16 unless that would overflow.

    Args:
      array: `[N, D]` values.
      to_float16: Optional faster float32 -> float16 converter with NumPy's
        rounding (the writer passes TensorFlow's cast). Defaults to NumPy.
    """
    array = np.asarray(array, dtype=np.float32)
    peak = np.abs(array[np.isfinite(array)]).max(initial=0.0)
    if peak < np.finfo(np.float16).max:
        array = to_float16(array) if to_float16 else array.astype(np.float16)
    return encode_array(array)


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
