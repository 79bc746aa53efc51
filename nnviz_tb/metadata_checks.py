"""Checks of what the plugin and the readers decode from nnviz summaries (see `nnviz_tb.metadata`).

Every check raises `metadata.FormatError` (or returns a problem) with a
message a user can act on; readers skip (and report) the record instead of
failing on it later.
"""

import json

import numpy as np

from nnviz_tb.metadata import (
    FORMAT_VERSION,
    FormatError,
    KIND_ACTIVATIONS,
    KIND_AUGMENTATION_VARIANCE,
    KIND_CONFUSION,
    KIND_CORRELATIONS,
    KIND_FEATURE_CORRELATIONS,
    KIND_GRADIENT_STATS,
    KIND_PREDICTIONS,
    KIND_SALIENCY,
)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def _is_name(value):
    return isinstance(value, str) and 0 < len(value) <= 1024


def _is_names(value):
    return isinstance(value, list) and all(_is_name(v) for v in value)


def _is_strings(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_counts(value):
    return isinstance(value, list) and all(_is_count(v) for v in value)


# Field of the plugin content -> (check, what it must be).
_CONTENT_FIELDS = {
    "kind": (_is_name, "a non-empty string"),
    "version": (_is_count, "a non-negative integer"),
    "epoch": (_is_count, "a non-negative integer"),
    "layer": (_is_name, "a non-empty string"),
    "layers": (_is_names, "a list of non-empty strings"),
    "measures": (_is_names, "a list of non-empty strings"),
    "shape": (_is_counts, "a list of non-negative integers"),
    "class_names": (_is_strings, "a list of strings"),
    "num_points": (_is_count, "a non-negative integer"),
    "num_features": (_is_count, "a non-negative integer"),
    "method": (_is_name, "a non-empty string"),
    "num_images": (_is_count, "a non-negative integer"),
}
# Fields each kind must have (other kinds: only `kind`).
_REQUIRED_FIELDS = {
    KIND_ACTIVATIONS: ("layer", "epoch"),
    KIND_PREDICTIONS: ("epoch",),
    KIND_CORRELATIONS: ("epoch", "layers", "measures"),
    KIND_FEATURE_CORRELATIONS: ("epoch", "layer"),
    KIND_AUGMENTATION_VARIANCE: ("epoch", "layers"),
    KIND_GRADIENT_STATS: ("epoch",),
    KIND_CONFUSION: ("epoch", "class_names", "num_points"),
    KIND_SALIENCY: ("epoch", "method", "num_images"),
}


def _loads(data):
    """JSON from UTF-8 bytes; NaN and Infinity (which JSON has not) become None."""
    try:
        return json.loads(bytes(data).decode("utf-8"), parse_constant=lambda name: None)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise FormatError("not UTF-8 JSON (%s)" % e) from e


def read_plugin_content(content):
    """Parses and checks `plugin_data.content`: `(content dict, None)` or `(None, problem)`.

    The problem is a sentence saying what is wrong, e.g. "'epoch' must be a
    non-negative integer; got '3'", or that a newer nnviz_tb wrote it.
    """
    try:
        parsed = _loads(content)
    except FormatError as e:
        return None, "its metadata is %s" % e
    if not isinstance(parsed, dict):
        return None, "its metadata is a JSON %s, not an object" % type(parsed).__name__
    for field, (check, expected) in _CONTENT_FIELDS.items():
        if field in parsed and not check(parsed[field]):
            return None, "its metadata's %r must be %s; got %s" % (field, expected, _shown(parsed[field]))
    for field in ("kind",) + _REQUIRED_FIELDS.get(parsed.get("kind"), ()):
        if field not in parsed:
            return None, "its metadata has no %r" % field
    if parsed.get("version", 0) > FORMAT_VERSION:
        return None, "a newer nnviz_tb wrote it (format %d; this one reads %d): upgrade nnviz_tb" % (
            parsed["version"], FORMAT_VERSION)
    return parsed, None


def parse_plugin_content(content):
    """Parses `plugin_data.content` into a dict, or None if it is unusable.

    None for content that is not valid nnviz JSON, that breaks the format, or
    that was written by a newer format version, so readers can skip it
    (`read_plugin_content` also says why).
    """
    return read_plugin_content(content)[0]


def read_probe_info(data):
    """Decodes the probe description: `(info dict, problems)`.

    Fields that break the format (`class_names` not a list of strings, a
    layer without a name, ...) are dropped, each with a sentence in `problems`.

    Raises:
      FormatError: if the description is not a JSON object.
    """
    info = _loads(data)
    if not isinstance(info, dict):
        raise FormatError("the probe description is a JSON %s, not an object" % type(info).__name__)
    problems = []
    if "class_names" in info and not _is_strings(info["class_names"]):
        problems.append("class_names must be a list of strings; got %s (numbers are shown instead)"
                        % _shown(info.pop("class_names")))
    layers = info.get("layers", [])
    if not isinstance(layers, list):
        problems.append("layers must be a list; got %s" % _shown(layers))
        layers = []
    info["layers"] = [layer for layer in layers if isinstance(layer, dict) and _is_name(layer.get("name"))]
    if len(info["layers"]) < len(layers):
        problems.append("%d layer descriptions without a name were ignored" % (len(layers) - len(info["layers"])))
    return info, problems


def check_labels(labels):
    """`[N]` non-negative int32 class ids; raises `FormatError` otherwise."""
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or not len(labels):
        raise FormatError("the labels must be a non-empty 1-D integer array; got %s" % _described(labels))
    if labels.min() < 0 or labels.max() >= 2**31:
        raise FormatError("the labels must lie in [0, 2**31); got %d..%d" % (labels.min(), labels.max()))
    return labels.astype(np.int32)


def check_activations(values, num_points):
    """`[N, D]` real values as float32 (overflow becomes inf); raises `FormatError` otherwise."""
    if values.ndim != 2 or values.dtype.kind not in "fiu" or values.size == 0:
        raise FormatError("activations must be a non-empty 2-D array of numbers; got %s" % _described(values))
    if len(values) != num_points:
        raise FormatError("activations have %d rows but the probe has %d points" % (len(values), num_points))
    with np.errstate(over="ignore"):
        return values.astype(np.float32, copy=False)


def check_predictions(predictions, num_points):
    """`[N]` int32 predicted classes (-1 where out of range); raises `FormatError` otherwise."""
    if predictions.shape != (num_points,) or predictions.dtype.kind not in "iu":
        raise FormatError("predictions must be %d integers; got %s" % (num_points, _described(predictions)))
    return np.where((predictions >= 0) & (predictions < 2**31), predictions, -1).astype(np.int32)


def check_confusion(counts, num_classes):
    """int64 `[C, C]` non-negative counts, `C = num_classes`; raises `FormatError` otherwise."""
    if not num_classes or counts.shape != (num_classes, num_classes) or counts.dtype.kind not in "iu":
        raise FormatError("the confusion matrix must be %d x %d integers (one row and column per class name); got %s"
                          % (num_classes, num_classes, _described(counts)))
    counts = counts.astype(np.int64)  # uint64 beyond 2**63 turns negative: refused below.
    if counts.min() < 0:
        raise FormatError("the confusion matrix's counts must be >= 0; got %d" % counts.min())
    return counts


def check_thumbnails(thumbnails, num_points):
    """`[N, h, w]` or `[N, h, w, 3]` uint8 images; raises `FormatError` otherwise."""
    shape = thumbnails.shape
    if (thumbnails.dtype != np.uint8 or len(shape) not in (3, 4) or shape[0] != num_points
            or min(shape[1:3]) < 1 or (len(shape) == 4 and shape[3] != 3)):
        raise FormatError("thumbnails must be uint8 [%d, h, w] or [%d, h, w, 3]; got %s"
                          % (num_points, num_points, _described(thumbnails)))
    return thumbnails


def check_saliency_info(info, num_images):
    """`(targets, labels or None)` of a saliency summary's JSON, `num_images` class ids each;
    raises `FormatError` otherwise."""
    if not isinstance(info, dict):
        raise FormatError("its description is a JSON %s, not an object" % type(info).__name__)
    for field in ("targets", "labels"):
        value = info.get(field)
        if not (value is None and field == "labels") and not (_is_counts(value) and len(value) == num_images):
            raise FormatError("its %r must be %d class ids; got %s" % (field, num_images, _shown(value)))
    return info["targets"], info.get("labels")


def _described(array):
    return "%s [%s]" % (array.dtype, ", ".join(map(str, array.shape)))


def _shown(value):
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
