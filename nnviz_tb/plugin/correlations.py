"""The `CorrelationLogger`'s data for the routes (plain data; see README.md, "HTTP API").

Reads the summaries described in `nnviz_tb.metadata` ("Layer correlations")
through `run_data.RunData`. Scores that are undefined (a layer or feature
without live features, a flat sample) are `None` in the answers, never NaN
or a made-up 0.
"""

import numpy as np
from tensorboard import errors

from nnviz_tb import metadata
from nnviz_tb.analysis import correlation

MEASURES = correlation.MEASURES
OVER = ("features", "samples")
# Content fields each kind needs; a record without them is skipped.
_REQUIRED = {
    metadata.KIND_CORRELATIONS: ("epoch", "layers", "measures", "live_features"),
    metadata.KIND_FEATURE_CORRELATIONS: ("epoch", "layer"),
    metadata.KIND_AUGMENTATION_VARIANCE: ("epoch", "layers", "threshold"),
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


def _records(entry, kind):
    """`[(content, Record)]` of one kind with all its fields, by epoch."""
    found = [item for item in entry.others.get(kind, []) if all(k in item[0] for k in _REQUIRED[kind])]
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
    cross = _records(entry, metadata.KIND_CORRELATIONS)
    matrices = _records(entry, metadata.KIND_FEATURE_CORRELATIONS)
    variance = _records(entry, metadata.KIND_AUGMENTATION_VARIANCE)
    if not (cross or matrices or variance):
        return None
    layers = _layer_union([c["layers"] for c, _ in reversed(cross + variance)])
    matrix_epochs = {}
    for content, _ in matrices:
        matrix_epochs.setdefault(content["layer"], []).append(content["epoch"])
    order = {name: i for i, name in enumerate(layers)}
    return {
        "epochs": [c["epoch"] for c, _ in cross],
        "layers": layers,
        "measures": cross[-1][0]["measures"] if cross else [],
        "matrix_layers": sorted(matrix_epochs, key=lambda n: (order.get(n, len(order)), n)),
        "matrix_epochs": matrix_epochs,
        "augmentation_epochs": [c["epoch"] for c, _ in variance],
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

    def _read(self, ctx, experiment_id, run, record):
        """The blobs of a record, decoded as arrays."""
        blobs = self._data.read_blobs(ctx, experiment_id, run, record)
        try:
            return [metadata.decode_array(blob) for blob in blobs]
        except ValueError as e:
            raise errors.FailedPreconditionError(
                "The summary %r of run %r is corrupt: %s" % (record.tag, run, e)
            )

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
        epochs, matrices, means, live = [], [], [], []
        for content, record in records:
            scores = self._read(ctx, experiment_id, run, record)[content["measures"].index(measure)]
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
        }

    def feature_correlations_impl(self, ctx, experiment_id, run, layer, epoch, over):
        """One layer's feature x feature or sample x sample matrix at one epoch."""
        entry = self._data.run(ctx, experiment_id, run)
        kind = metadata.KIND_FEATURE_CORRELATIONS
        content, record = _find(entry, kind, run, "correlation matrices of", layer=layer, epoch=epoch)
        arrays = self._read(ctx, experiment_id, run, record)
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
            "sampling": sampling,
        }

    def augmentation_variance_impl(self, ctx, experiment_id, run, epoch):
        """Every layer's feature variances over the augmentations at one epoch."""
        entry = self._data.run(ctx, experiment_id, run)
        content, record = _find(
            entry, metadata.KIND_AUGMENTATION_VARIANCE, run, "augmentation variance at", epoch=epoch
        )
        threshold = content["threshold"]
        layers = []
        for name, variances in zip(content["layers"], self._read(ctx, experiment_id, run, record)):
            invariant, dead, ratio = correlation.invariant_features(variances, threshold)
            live = int((~dead).sum())
            layers.append({
                "name": name,
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


def _field(content, key, layer):
    """A per-layer field of a record's content, for one layer (None if absent)."""
    if layer not in content["layers"]:
        return None
    return content.get(key, [None] * len(content["layers"]))[content["layers"].index(layer)]
