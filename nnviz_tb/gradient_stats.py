"""Gradient statistics on the host: which weights are tracked, and each epoch's record (NumPy).

`GradientStatsLogger` describes the model's trainable variables with a
`Layout`; at the end of each epoch `epoch_record` turns the raw sums of
`nnviz_tb.callbacks.gradient_tracking.GradientTracker.read_epoch` into the
JSON record stored in the event file (see `nnviz_tb.metadata`), and
`layer_scalars` picks what goes to TensorBoard's Scalars tab.

Rules (the per-step ones are in `gradient_tracking`):

* Fractions: `zero_fraction` = zero gradients / (weights x measured steps);
  `retained` = weights whose gradient was zero at every measured step of the
  epoch, `retained_fraction` = retained / weights.
* `grad_norm`: mean over the measured steps of the L2 norm of the gradient;
  `weight_change`: mean over the measured steps with a step before them of
  the L2 norm of the weights' change since that step.
* Dead units, for Dense and convolution layers with `activation="relu"`: a
  unit (output channel) is dead in an epoch when its bias and every weight
  of its kernel column (`kernel[..., unit]`) had a zero gradient at every
  measured step: no input of the measured batches activated it.
* Heatmap rows: per layer, up to `heatmap_weights` weights at evenly spaced
  positions of the layer's weights (its variables concatenated in order).
"""

import dataclasses

import numpy as np

from nnviz_tb import metadata

# Columns of the tracker's per-group sums: counts, then sums of per-step norms.
COUNT_COLUMNS = ("zero_count", "sign_flips", "minima", "maxima", "released")
NORM_COLUMNS = ("grad_norm", "weight_change")
# Columns of the record of each measured step, per group.
STEP_COLUMNS = ("zero_count", "grad_norm")
# Statistics of each variable and layer, in the records and the exports.
STATS = (
    "zero_count", "zero_fraction", "released", "retained", "retained_fraction",
    "sign_flips", "minima", "maxima", "grad_norm", "weight_change",
)
LAYER_STATS = STATS + ("dead_units", "dead_fraction")
# Statistics written to the Scalars tab, per layer.
SCALARS = (
    "zero_fraction", "retained_fraction", "released", "sign_flips", "minima", "maxima",
    "grad_norm", "weight_change", "dead_fraction",
)


@dataclasses.dataclass
class Layout:
    """The tracked variables, grouped by layer, and the heatmap's sampled weights.

    Attributes:
      variables: Per variable `{"name", "layer", "shape", "size"}`.
      layers: Per layer `{"name", "size", "variables": [indices], "units"}`;
        `units` is the number of units of a ReLU layer, else None.
      relu: `{layer index: (kernel variable index, bias index or None)}`.
      samples: Per variable, the sorted flat indices of its sampled weights.
      heatmap: Per layer `{"columns": [indices into the concatenated samples],
        "weights": [labels such as "dense/kernel[3, 17]"]}`.
    """

    variables: list
    layers: list
    relu: dict
    samples: list
    heatmap: list

    def groups(self):
        """`[V + L, V]` 0/1 matrix: each variable, then each layer, as sums of variables."""
        num = len(self.variables)
        layers = np.zeros((len(self.layers), num), dtype=np.float32)
        for row, layer in enumerate(self.layers):
            layers[row, layer["variables"]] = 1
        return np.concatenate([np.eye(num, dtype=np.float32), layers])


def make_layout(names, layer_names, shapes, relu_kernels, heatmap_weights):
    """Builds the `Layout` of variables `names` of layers `layer_names` with `shapes`.

    Args:
      relu_kernels: `{layer name: (kernel variable index, bias index or None)}`
        of the ReLU layers.
      heatmap_weights: Weights sampled per layer for the sign heatmap (0: none).
    """
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    variables = [
        {"name": n, "layer": l, "shape": [int(d) for d in s], "size": size}
        for n, l, s, size in zip(names, layer_names, shapes, sizes)
    ]
    order = list(dict.fromkeys(layer_names))
    layers = []
    for name in order:
        members = [i for i, layer in enumerate(layer_names) if layer == name]
        kernel = relu_kernels.get(name)
        layers.append({
            "name": name,
            "size": sum(sizes[i] for i in members),
            "variables": members,
            "units": None if kernel is None else int(shapes[kernel[0]][-1]),
        })
    picked = [_sample_layer(layer["variables"], sizes, heatmap_weights) for layer in layers]
    samples = [np.array(sorted(j for per_layer in picked for i, j in per_layer if i == v), dtype=np.int64)
               for v in range(len(sizes))]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in samples])])
    heatmap = [
        {
            "columns": [int(offsets[i] + np.searchsorted(samples[i], j)) for i, j in per_layer],
            "weights": [_weight_label(names[i], shapes[i], j) for i, j in per_layer],
        }
        for per_layer in picked
    ]
    relu = {order.index(name): kernel for name, kernel in relu_kernels.items() if name in order}
    return Layout(variables, layers, relu, samples, heatmap)


def _sample_layer(members, sizes, count):
    """Up to `count` evenly spaced `(variable, flat index)` pairs of a layer's weights."""
    total = sum(sizes[i] for i in members)
    positions = np.unique(np.round(np.linspace(0, total - 1, min(count, total))).astype(np.int64))
    starts = np.cumsum([0] + [sizes[i] for i in members])
    owner = np.searchsorted(starts, positions, side="right") - 1
    return [(members[o], int(p - starts[o])) for o, p in zip(owner, positions)]


def _weight_label(name, shape, flat_index):
    index = np.unravel_index(flat_index, shape) if len(shape) else ()
    return "%s[%s]" % (name, ", ".join(str(int(i)) for i in index))


def epoch_record(layout, raw, epoch, zero_threshold, release_threshold, every_n_steps):
    """The JSON record of one epoch from the tracker's raw sums.

    Args:
      layout: The `Layout`.
      raw: `GradientTracker.read_epoch()`.
      epoch: The epoch's number (1 = the first epoch of training).

    Returns:
      A dict: `epoch`, `steps`, `first_step` (index in the fit of the epoch's
      first step), `every_n_steps`, `measured`, `measured_steps` (fit step
      indices of the rows of the per-step blob), `change_steps`, the
      thresholds, `variables` and `layers` (from the layout),
      `variable_stats` and `layer_stats` (`{stat: [value per variable or
      layer]}`, None where undefined) and `heatmap` (`steps`, the fit step
      indices of the sign-code rows, `stride`, and per layer the code
      `columns` and `weights` labels).
    """
    num_vars = len(layout.variables)
    totals = raw["totals"]
    zeros_everywhere = np.array([np.size(n) - np.count_nonzero(n) for n in raw["nonzero"]], dtype=np.float64)
    var_stats = _stats(totals[:num_vars], zeros_everywhere, [v["size"] for v in layout.variables], raw)
    layer_retained = np.array([zeros_everywhere[layer["variables"]].sum() for layer in layout.layers])
    layer_stats = _stats(totals[num_vars:], layer_retained, [layer["size"] for layer in layout.layers], raw)
    dead = [_dead_units(layout, raw["nonzero"], i) if raw["measured"] else None for i in range(len(layout.layers))]
    layer_stats["dead_units"] = dead
    layer_stats["dead_fraction"] = [
        None if d is None else d / layout.layers[i]["units"] for i, d in enumerate(dead)
    ]
    first, steps, stride = raw["first_step"], raw["steps"], raw["stride"]
    measured_steps = [t for t in range(first, first + steps) if t % every_n_steps == 0]
    return {
        "epoch": int(epoch),
        "steps": steps,
        "first_step": first,
        "every_n_steps": int(every_n_steps),
        "measured": raw["measured"],
        "measured_steps": measured_steps[: len(raw["step_stats"])],
        "change_steps": raw["change_steps"],
        "zero_threshold": float(zero_threshold),
        "release_threshold": float(release_threshold),
        "variables": layout.variables,
        "layers": layout.layers,
        "variable_stats": var_stats,
        "layer_stats": layer_stats,
        "heatmap": {
            "steps": raw["sampled_steps"],
            "stride": stride,
            "layers": layout.heatmap,
        },
    }


def _stats(totals, retained, sizes, raw):
    """`{stat: [value per group]}` of groups with `totals` rows and `sizes` weights."""
    sizes = np.asarray(sizes, dtype=np.float64)
    measured, changes = raw["measured"], raw["change_steps"]
    column = {name: totals[:, i] for i, name in enumerate(COUNT_COLUMNS + NORM_COLUMNS)}
    stats = {name: column[name] for name in COUNT_COLUMNS}
    if measured:
        stats["zero_fraction"] = column["zero_count"] / (sizes * measured)
        stats["retained"] = retained
        stats["retained_fraction"] = retained / sizes
        stats["grad_norm"] = column["grad_norm"] / measured
    if changes:
        stats["weight_change"] = column["weight_change"] / changes
    count = len(sizes)
    return {name: _json_values(stats.get(name), count) for name in STATS}


def _json_values(values, count):
    if values is None:
        return [None] * count
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _dead_units(layout, nonzero, layer_index):
    """Units of a ReLU layer without a nonzero gradient all epoch, or None for other layers."""
    kernel_bias = layout.relu.get(layer_index)
    if kernel_bias is None:
        return None
    kernel, bias = kernel_bias
    shape = layout.variables[kernel]["shape"]
    alive = nonzero[kernel].reshape(-1, shape[-1]).any(axis=0)
    if bias is not None:
        alive |= nonzero[bias]
    return int(np.count_nonzero(~alive))


def sign_codes(grads, zero_threshold, release_threshold):
    """The heatmap codes (`metadata.SIGN_*`) of gradient values, uint8 of the same shape."""
    grads = np.asarray(grads)
    magnitude, negative = np.abs(grads), grads < 0
    codes = np.where(negative, metadata.SIGN_NEGATIVE, metadata.SIGN_POSITIVE)
    codes = np.where(magnitude > release_threshold,
                     np.where(negative, metadata.SIGN_LARGE_NEGATIVE, metadata.SIGN_LARGE_POSITIVE), codes)
    return np.where(magnitude < zero_threshold, metadata.SIGN_ZERO, codes).astype(np.uint8)


def layer_scalars(record):
    """`{(layer, stat): value}` of the Scalars tab; undefined values left out."""
    scalars = {}
    for i, layer in enumerate(record["layers"]):
        for stat in SCALARS:
            value = record["layer_stats"][stat][i]
            if value is not None:
                scalars[(layer["name"], stat)] = value
    return scalars


def check_record(info):
    """Checks a decoded epoch record (as `epoch_record` writes it) before a reader uses it.

    Stats a record lacks are allowed (they read as None); those it has must
    hold one finite number or None per variable or layer.

    Raises:
      metadata.FormatError: naming the first field that is missing or wrong.
    """
    if not isinstance(info, dict):
        raise metadata.FormatError("the record is a JSON %s, not an object" % type(info).__name__)
    _check_fields("the record", info, _RECORD_FIELDS)
    for listing, fields in (("variables", _VARIABLE_FIELDS), ("layers", _LAYER_FIELDS)):
        for i, item in enumerate(info[listing]):
            _check_fields("%s[%d]" % (listing, i), item, fields)
    for layer in info["layers"]:
        if any(v >= len(info["variables"]) for v in layer["variables"]):
            raise metadata.FormatError("layer %r names a variable the record has not" % layer["name"])
    for listing, key in (("variables", "variable_stats"), ("layers", "layer_stats")):
        count = len(info[listing])
        for stat, values in info[key].items():
            if not (isinstance(values, list) and len(values) == count and all(map(_is_value, values))):
                raise metadata.FormatError("%s[%r] must be a list of %d numbers or nulls; got %s"
                                           % (key, stat, count, _shown(values)))
    heatmap = info["heatmap"]
    _check_fields("heatmap", heatmap, _HEATMAP_FIELDS)
    if len(heatmap["layers"]) != len(info["layers"]):
        raise metadata.FormatError("the heatmap has %d layers, the record %d"
                                   % (len(heatmap["layers"]), len(info["layers"])))
    for i, rows in enumerate(heatmap["layers"]):
        _check_fields("heatmap layer %d" % i, rows, _HEATMAP_LAYER_FIELDS)
        if len(rows["columns"]) != len(rows["weights"]):
            raise metadata.FormatError("heatmap layer %d has %d columns and %d weight labels"
                                       % (i, len(rows["columns"]), len(rows["weights"])))
    return info


def check_arrays(info, codes, step_stats):
    """Checks the sign codes `[T, samples]` and step statistics `[M, V + L, 2]` of a checked
    record. NaN statistics are allowed (a step whose gradients were NaN).

    Raises:
      metadata.FormatError: saying which array is wrong.
    """
    columns = [c for rows in info["heatmap"]["layers"] for c in rows["columns"]]
    if codes.ndim != 2 or codes.dtype.kind not in "ui" or len(codes) != len(info["heatmap"]["steps"]) \
            or (columns and max(columns) >= codes.shape[1]) \
            or (codes.size and not 0 <= codes.min() <= codes.max() < len(metadata.SIGN_NAMES)):
        raise metadata.FormatError("the sign codes (%s %s) do not fit the record's %d heatmap steps and "
                                   "%d sampled weights" % (codes.dtype, list(codes.shape),
                                                          len(info["heatmap"]["steps"]), len(columns)))
    groups = len(info["variables"]) + len(info["layers"])
    if step_stats.dtype.kind != "f" or step_stats.shape != (len(info["measured_steps"]), groups, 2):
        raise metadata.FormatError("the step statistics (%s %s) are not [%d, %d, 2] floats"
                                   % (step_stats.dtype, list(step_stats.shape), len(info["measured_steps"]),
                                      groups))


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _is_value(value):
    return value is None or _is_number(value)


def _list_of(check):
    return lambda value: isinstance(value, list) and all(map(check, value))


def _is_name(value):
    return isinstance(value, str) and bool(value)


def _shown(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_fields(where, item, fields):
    if not isinstance(item, dict):
        raise metadata.FormatError("%s must be an object; got %s" % (where, _shown(item)))
    for field, (check, expected) in fields.items():
        if field not in item:
            raise metadata.FormatError("%s has no %r" % (where, field))
        if not check(item[field]):
            raise metadata.FormatError("%s's %r must be %s; got %s" % (where, field, expected, _shown(item[field])))


def _is_object(value):
    return isinstance(value, dict)


_COUNT, _COUNTS = (_is_count, "a non-negative integer"), (_list_of(_is_count), "a list of non-negative integers")
_OBJECT, _OBJECTS = (_is_object, "an object"), (_list_of(_is_object), "a list of objects")
_RECORD_FIELDS = {
    "epoch": _COUNT, "steps": _COUNT, "first_step": _COUNT, "measured": _COUNT, "measured_steps": _COUNTS,
    "every_n_steps": (lambda v: _is_count(v) and v > 0, "a positive integer"),
    "zero_threshold": (_is_number, "a finite number"), "release_threshold": (_is_number, "a finite number"),
    "variables": _OBJECTS, "layers": _OBJECTS, "variable_stats": _OBJECT, "layer_stats": _OBJECT,
    "heatmap": _OBJECT,
}
_VARIABLE_FIELDS = {"name": (_is_name, "a non-empty string"), "size": _COUNT}
_LAYER_FIELDS = {
    "name": (_is_name, "a non-empty string"), "size": _COUNT, "variables": _COUNTS,
    "units": (lambda v: v is None or _is_count(v), "a non-negative integer or null"),
}
_HEATMAP_FIELDS = {"steps": _COUNTS, "stride": _COUNT, "layers": _OBJECTS}
_HEATMAP_LAYER_FIELDS = {"columns": _COUNTS, "weights": (_list_of(_is_name), "a list of non-empty strings")}
