"""The `CorrelationLogger`'s data for the routes (plain data; see README.md, "HTTP API").

Reads the summaries described in `nnviz_tb.metadata` ("Layer correlations")
through `run_data.RunData`. Scores that are undefined (a layer or feature
without live features, a flat sample) are `None` in the answers, never NaN
or a made-up 0. A record whose content lacks a field or has one of the
wrong type is skipped, with a sentence in the summary's `notes`; arrays of
the wrong shape, infinite values or undecodable blobs answer
`CorruptDataError` (422) for one record and are skipped with a note where
a route answers for every epoch.
"""

import numbers
import re

import numpy as np
from tensorboard import errors

from nnviz_tb import metadata, metadata_checks
from nnviz_tb.analysis import correlation
from nnviz_tb.plugin.corrupt import CorruptDataError

MEASURES = correlation.MEASURES
OVER = ("features", "samples")
# Sampling rules as files before 2026-12 named them ("evenly_spaced(256)"), in words.
_OLD_SAMPLING = {"evenly_spaced": "evenly spaced", "class_balanced": "balanced across classes"}


def _sampling_words(rule):
    """A matrix's sampling rule in words ("evenly spaced"), from new or old files; None if unknown."""
    if not isinstance(rule, str):
        return None
    old = re.fullmatch(r"(\w+)\(\d+\)", rule)
    return _OLD_SAMPLING.get(old.group(1), rule) if old else rule


def _is_count(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _counts_per_layer(content, key):
    value = content.get(key)
    return isinstance(value, list) and len(value) == len(content["layers"]) and all(map(_is_count, value))


def _is_threshold(content, key):
    value = content.get(key)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0


# Content fields each kind needs (beyond those `metadata_checks.read_plugin_content` checks), with
# their check and what it expects; a record without them is skipped with a note.
_REQUIRED = {
    metadata.KIND_CORRELATIONS: (
        ("epoch", lambda c, k: _is_count(c.get(k)), "a non-negative integer"),
        ("layers", lambda c, k: isinstance(c.get(k), list), "a list of layer names"),
        ("measures", lambda c, k: isinstance(c.get(k), list), "a list of measures"),
        ("live_features", _counts_per_layer, "a count per layer"),
    ),
    metadata.KIND_FEATURE_CORRELATIONS: (
        ("epoch", lambda c, k: _is_count(c.get(k)), "a non-negative integer"),
        ("layer", lambda c, k: isinstance(c.get(k), str), "a layer name"),
    ),
    metadata.KIND_AUGMENTATION_VARIANCE: (
        ("epoch", lambda c, k: _is_count(c.get(k)), "a non-negative integer"),
        ("layers", lambda c, k: isinstance(c.get(k), list), "a list of layer names"),
        ("threshold", _is_threshold, "a number > 0"),
    ),
}
_DECIMALS = 4  # Of scores stored as float32.
_MATRIX_DECIMALS = 3  # Of feature and sample matrices, stored as float16.
_DIGITS = 4  # Significant digits of variances.


def _json_array(values):
    """Nested lists of an array's values, `None` where they are not finite."""
    values = np.asarray(values, dtype=np.float64)
    result = values.astype(object)
    result[~np.isfinite(values)] = None
    return result.tolist()


def _rounded(values, decimals=_DECIMALS):
    return _json_array(np.round(np.asarray(values, dtype=np.float64), decimals))


def _significant(values):
    """Values rounded to `_DIGITS` significant digits (for the JSON's size)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(values)))
    shift = np.clip(np.nan_to_num(_DIGITS - 1 - exponent), -300, 22)
    up, down = 10.0 ** np.maximum(shift, 0), 10.0 ** np.maximum(-shift, 0)
    return _json_array(np.where(values == 0, 0.0, np.round(values * up / down) / up * down))


def _problem(content, kind):
    """Why a record's content cannot be used, or None."""
    for key, check, expected in _REQUIRED[kind]:
        if key not in content:
            return "its metadata has no %r" % key
        if not check(content, key):
            return "its metadata's %r must be %s" % (key, expected)
    return None


def _records(entry, kind, notes=None):
    """`[(content, Record)]` of one kind with all its fields, by epoch; the others are
    skipped, with a sentence each in `notes` (a list) if given."""
    found = []
    for content, record in entry.others.get(kind, []):
        problem = _problem(content, kind)
        if problem is None:
            found.append((content, record))
        elif notes is not None:
            notes.append("Summary %r skipped: %s." % (record.tag, problem))
    return sorted(found, key=lambda item: item[0]["epoch"])


def _find(entry, kind, run, description, **wanted):
    """The record of `kind` whose content matches `wanted`, or `NotFoundError`."""
    for content, record in _records(entry, kind):
        if all(content.get(k) == v for k, v in wanted.items()):
            return content, record
    raise errors.NotFoundError(
        "No %s %s in run %r." % (description, " ".join("%s %r" % kv for kv in wanted.items()), run)
    )


def summary(entry):
    """The `correlations` field of a run in the `runs` route, or None if it has none."""
    notes = []
    cross = _records(entry, metadata.KIND_CORRELATIONS, notes)
    matrices = _records(entry, metadata.KIND_FEATURE_CORRELATIONS, notes)
    variance = _records(entry, metadata.KIND_AUGMENTATION_VARIANCE, notes)
    if not (cross or matrices or variance or notes):
        return None
    layers = _layer_union([c["layers"] for c, _ in reversed(cross + variance)])
    matrix_epochs = {}
    for content, _ in matrices:
        matrix_epochs.setdefault(content["layer"], []).append(content["epoch"])
    order = {name: i for i, name in enumerate(layers)}
    latest = cross[-1][0] if cross else {}
    note = latest.get("augmentation_note")
    return {
        "epochs": [c["epoch"] for c, _ in cross],
        "layers": layers,
        "measures": latest.get("measures", []),
        "matrix_layers": sorted(matrix_epochs, key=lambda n: (order.get(n, len(order)), n)),
        "matrix_epochs": matrix_epochs,
        "augmentation_epochs": [c["epoch"] for c, _ in variance],
        "augmentation_note": note if isinstance(note, str) else None,
        "notes": notes,
    }


def _layer_union(layer_lists):
    """Names in the order of the first list, then the new ones of each further list."""
    names = []
    for layers in layer_lists:
        names += [n for n in layers if n not in names]
    return names


class Correlations:
    """Answers of the correlation routes.

    Args:
      data: The plugin's `run_data.RunData`.
    """

    def __init__(self, data):
        self._data = data

    def _read(self, ctx, experiment_id, run, record, shapes):
        """The blobs of a record as arrays of the given `shapes` (None: any length on that axis).

        Raises:
          CorruptDataError: for undecodable blobs, other counts or shapes, or infinite values.
        """
        blobs = self._data.read_blobs(ctx, experiment_id, run, record)
        try:
            if len(blobs) != len(shapes):
                raise ValueError("it holds %d arrays instead of %d" % (len(blobs), len(shapes)))
            arrays = [metadata.decode_array(blob) for blob in blobs]
            for k, (array, shape) in enumerate(zip(arrays, shapes)):
                if array.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, array.shape)):
                    raise ValueError("array %d has shape %s instead of %s" % (
                        k, list(array.shape), ["any" if s is None else s for s in shape]))
                if array.dtype.kind == "f" and np.isinf(array).any():
                    raise ValueError("array %d holds infinite values" % k)
        except ValueError as e:
            raise CorruptDataError(run, record.tag, e)
        return arrays

    def cross_layer_impl(self, ctx, experiment_id, run, measure):
        """Every recorded epoch's layer-pair scores under one measure, and their means."""
        entry = self._data.run(ctx, experiment_id, run)
        records = [
            (c, r) for c, r in _records(entry, metadata.KIND_CORRELATIONS) if measure in c.get("measures", [])
        ]
        if not records:
            raise errors.NotFoundError("Run %r has no %r layer correlations." % (run, measure))
        latest = records[-1][0]
        layers = _layer_union([c["layers"] for c, _ in reversed(records)])
        epochs, matrices, means, live, notes = [], [], [], [], []
        for content, record in records:
            size = len(content["layers"])
            try:
                arrays = self._read(ctx, experiment_id, run, record, [(size, size)] * len(content["measures"]))
            except CorruptDataError as e:
                notes.append("Epoch %d skipped: %s" % (content["epoch"], e))
                continue
            scores = arrays[content["measures"].index(measure)]
            position = [content["layers"].index(n) if n in content["layers"] else -1 for n in layers]
            matrix = np.full((len(layers), len(layers)), np.nan)
            kept = np.array([p >= 0 for p in position], dtype=bool)
            index = np.array(position)[kept]
            matrix[np.ix_(kept, kept)] = scores[np.ix_(index, index)]
            epochs.append(content["epoch"])
            matrices.append(_rounded(matrix))
            means.append(correlation.mean_off_diagonal(scores))
            live.append([content["live_features"][p] if p >= 0 else None for p in position])
        return {
            "run": run,
            "measure": measure,
            "layers": layers,
            "dims": [_field(latest, "dims", n) for n in layers],
            "reductions": [_field(latest, "reductions", n) for n in layers],
            "epochs": epochs,
            "matrices": matrices,
            "mean": [None if m is None else round(m, _DECIMALS) for m in means],
            "live_features": live,
            "sampled_dims": [_field(latest, "sampled_dims", n) for n in layers],
            "num_points": latest.get("num_points"),
            "score_points": latest.get("score_points"),
            "pearson_features": latest.get("pearson_features"),
            "notes": notes,
        }

    def feature_correlations_impl(self, ctx, experiment_id, run, layer, epoch, over):
        """One layer's feature x feature or sample x sample matrix at one epoch."""
        entry = self._data.run(ctx, experiment_id, run)
        kind = metadata.KIND_FEATURE_CORRELATIONS
        content, record = _find(entry, kind, run, "correlation matrices of", layer=layer, epoch=epoch)
        arrays = self._read(ctx, experiment_id, run, record, [(None, None), (None,), (None, None), (None,), (None,)])
        _check_square(run, record, arrays[metadata.FEATURE_MATRIX], arrays[metadata.FEATURE_INDICES])
        _check_square(run, record, arrays[metadata.SAMPLE_MATRIX], arrays[metadata.SAMPLE_INDICES],
                      arrays[metadata.SAMPLE_LABELS])
        if over == "features":
            matrix, indices, labels = arrays[metadata.FEATURE_MATRIX], arrays[metadata.FEATURE_INDICES], None
            total, sampling = content.get("num_features"), content.get("feature_sampling")
        else:
            matrix, indices = arrays[metadata.SAMPLE_MATRIX], arrays[metadata.SAMPLE_INDICES]
            labels = arrays[metadata.SAMPLE_LABELS].tolist()
            total, sampling = content.get("num_points"), content.get("sample_sampling")
        return {
            "run": run,
            "layer": layer,
            "epoch": epoch,
            "over": over,
            "matrix": _rounded(matrix, _MATRIX_DECIMALS),
            "dead": np.isnan(np.diagonal(matrix)).tolist(),
            "indices": indices.tolist(),
            "labels": labels,
            "class_names": content.get("class_names", []),
            "total": total,
            "sampling": _sampling_words(sampling),
        }

    def augmentation_variance_impl(self, ctx, experiment_id, run, epoch):
        """Every layer's feature variances over the augmentations at one epoch."""
        entry = self._data.run(ctx, experiment_id, run)
        content, record = _find(
            entry, metadata.KIND_AUGMENTATION_VARIANCE, run, "augmentation variance at", epoch=epoch
        )
        threshold = content["threshold"]
        layers = []
        arrays = self._read(ctx, experiment_id, run, record, [(2, None)] * len(content["layers"]))
        for position, (name, variances) in enumerate(zip(content["layers"], arrays)):
            invariant, dead, ratio = correlation.invariant_features(variances, threshold)
            live = int((~dead).sum())
            layers.append({
                "name": name,
                "indices": _sampled_indices(content, position, variances.shape[1]),
                "variance": _significant(variances[0]),
                "probe_variance": _significant(variances[1]),
                "relative_variance": _significant(ratio),
                "invariant": invariant.tolist(),
                "dead": dead.tolist(),
                "invariant_fraction": round(invariant.sum() / live, _DECIMALS) if live else None,
            })
        return {
            "run": run,
            "epoch": epoch,
            "input_index": content.get("input_index"),
            "num_augmentations": content.get("num_augmentations"),
            "augmentation": content.get("augmentation"),
            "threshold": threshold,
            "layers": layers,
        }


def _check_square(run, record, matrix, *rows):
    """Raises CorruptDataError unless `matrix` is K x K for K the length of each of `rows`."""
    if matrix.shape[0] != matrix.shape[1] or any(len(r) != matrix.shape[0] for r in rows):
        raise CorruptDataError(run, record.tag, "a %s matrix with %s labels" % (
            "x".join(map(str, matrix.shape)), "/".join(str(len(r)) for r in rows)))


def _sampled_indices(content, position, width):
    """The feature indices of a sampled layer's `width` columns (evenly spaced), or None if all."""
    dims = content.get("dims")
    if not isinstance(dims, list) or len(dims) != len(content["layers"]) or not _is_count(dims[position]):
        return None
    if dims[position] <= width:
        return None
    return correlation.evenly_spaced(dims[position], width).tolist()


def _field(content, key, layer):
    """A per-layer field of a record's content, for one layer (None if absent)."""
    values = content.get(key)
    if layer not in content["layers"] or not isinstance(values, list) or len(values) != len(content["layers"]):
        return None
    return values[content["layers"].index(layer)]
