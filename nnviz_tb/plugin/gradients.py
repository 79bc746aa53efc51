"""The `GradientStatsLogger`'s data for the routes (plain data; see README.md, "HTTP API").

Reads the summaries described in `nnviz_tb.metadata` ("Gradient
statistics") through `run_data.RunData`. Undefined values (fractions of an
epoch without a measured step, dead units of a layer without ReLU) are None.
"""

import collections
import csv
import io
import threading

import numpy as np
from tensorboard import errors

from nnviz_tb import gradient_stats, metadata
from nnviz_tb.plugin.corrupt import CorruptDataError

_CACHE_ENTRIES = 512  # Decoded JSON records (a few kB each).


def _records(entry):
    """`[(content, Record)]` of a run's gradient statistics, by epoch."""
    found = [item for item in entry.others.get(metadata.KIND_GRADIENT_STATS, []) if "epoch" in item[0]]
    return sorted(found, key=lambda item: item[0]["epoch"])


def summary(entry):
    """The `gradients` field of a run in the `runs` route: `{epochs, layers}`, or None."""
    records = _records(entry)
    if not records:
        return None
    return {"epochs": [c["epoch"] for c, _ in records], "layers": records[-1][0].get("layers", [])}


class Gradients:
    """Answers the gradient routes of the runs in `data` (a `run_data.RunData`)."""

    def __init__(self, data):
        self._data = data
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()

    def stats_impl(self, ctx, experiment_id, run):
        """All statistics of a run, per epoch.

        Returns a dict: `epochs`; `layers` and `variables` (names, of the
        latest epoch); the latest epoch's `zero_threshold`,
        `release_threshold` and `every_n_steps`; per epoch `steps` and
        `measured` (steps measured); `layer_stats` and `variable_stats`
        `{stat: [[value per epoch] per layer or variable]}` (None where
        undefined or not recorded); `layer_info` (per layer `name`, `size`,
        `units`); `problems`: one sentence per epoch left out because its
        summary is corrupt.

        Raises:
          CorruptDataError: if no epoch's summary can be read.
        """
        records, failures = [], []
        for _, record in self._run_records(ctx, experiment_id, run):
            try:
                records.append(self._read(ctx, experiment_id, run, record)[0])
            except CorruptDataError as e:
                failures.append(e)
        if not records:
            raise failures[0]
        latest = records[-1]
        layers = [layer["name"] for layer in latest["layers"]]
        variables = [v["name"] for v in latest["variables"]]
        return {
            "epochs": [r["epoch"] for r in records],
            "layers": layers,
            "variables": variables,
            "layer_info": [{k: layer[k] for k in ("name", "size", "units")} for layer in latest["layers"]],
            "zero_threshold": latest["zero_threshold"],
            "release_threshold": latest["release_threshold"],
            "every_n_steps": latest["every_n_steps"],
            "steps": [r["steps"] for r in records],
            "measured": [r["measured"] for r in records],
            "layer_stats": _by_name(records, "layers", "layer_stats", layers, gradient_stats.LAYER_STATS),
            "variable_stats": _by_name(records, "variables", "variable_stats", variables, gradient_stats.STATS),
            "problems": [str(e) for e in failures],
        }

    def stats_csv(self, ctx, experiment_id, run):
        """The statistics as CSV text: one row per epoch and layer, then per epoch and variable."""
        stats = self.stats_impl(ctx, experiment_id, run)
        columns = gradient_stats.LAYER_STATS
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("epoch", "scope", "name", "steps", "measured") + columns)
        for scope, key in (("layer", "layers"), ("variable", "variables")):
            table = stats[scope + "_stats"]
            for e, epoch in enumerate(stats["epochs"]):
                for n, name in enumerate(stats[key]):
                    values = [table[stat][n][e] if stat in table else None for stat in columns]
                    writer.writerow([epoch, scope, name, stats["steps"][e], stats["measured"][e]]
                                    + ["" if v is None else repr(v) for v in values])
        return out.getvalue()

    def signs_impl(self, ctx, experiment_id, run, layer, epoch):
        """The sign heatmap of one layer at one epoch.

        Returns a dict: `codes` `[weights][steps]` (`metadata.SIGN_*`),
        `weights` (row labels), `steps` (fit step index of each column),
        `stride`, `steps_in_epoch`, `first_step`, `layer_size`,
        `code_names`, the thresholds, and per measured step
        (`measured_steps`) the layer's `zero_fraction` and `grad_norm`.
        """
        found = [r for c, r in self._run_records(ctx, experiment_id, run) if c["epoch"] == epoch]
        if not found:
            raise errors.NotFoundError("No gradient statistics of epoch %d in run %r." % (epoch, run))
        info, codes, step_stats = self._read(ctx, experiment_id, run, found[-1], arrays=True)
        names = [entry["name"] for entry in info["layers"]]
        if layer not in names:
            raise errors.NotFoundError("No layer %r in the gradient statistics of run %r." % (layer, run))
        index = names.index(layer)
        rows = info["heatmap"]["layers"][index]
        size = info["layers"][index]["size"]
        group = step_stats[:, len(info["variables"]) + index] if len(step_stats) else np.zeros((0, 2))
        return {
            "layer": layer,
            "epoch": epoch,
            "codes": codes.reshape(len(codes), -1)[:, rows["columns"]].T.astype(int).tolist(),
            "weights": rows["weights"],
            "steps": info["heatmap"]["steps"],
            "stride": info["heatmap"]["stride"],
            "steps_in_epoch": info["steps"],
            "first_step": info["first_step"],
            "layer_size": size,
            "code_names": list(metadata.SIGN_NAMES),
            "zero_threshold": info["zero_threshold"],
            "release_threshold": info["release_threshold"],
            "measured_steps": info["measured_steps"],
            "zero_fraction": _finite(group[:, 0] / size),
            "grad_norm": _finite(group[:, 1]),
        }

    def _run_records(self, ctx, experiment_id, run):
        records = _records(self._data.run(ctx, experiment_id, run))
        if not records:
            raise errors.NotFoundError("Run %r has no gradient statistics." % (run,))
        return records

    def _read(self, ctx, experiment_id, run, record, arrays=False):
        """`(JSON record, codes, step stats)` of one epoch, checked; the arrays only if asked.

        The JSON records are cached; the arrays are read on each call.

        Raises:
          CorruptDataError: if the summary is damaged or malformed.
        """
        key = (experiment_id, run, record.tag, record.wall_time)
        with self._lock:
            info = self._cache.get(key)
            if info is not None:
                self._cache.move_to_end(key)
        if info is not None and not arrays:
            return info, None, None
        blobs = self._data.read_blobs(ctx, experiment_id, run, record)
        try:
            if len(blobs) < 3:
                raise metadata.FormatError("it holds %d blobs instead of 3" % len(blobs))
            info = gradient_stats.check_record(metadata.decode_json(blobs[metadata.GRADIENT_INFO]))
            codes, step_stats = (
                metadata.decode_array(blobs[i]) if arrays else None
                for i in (metadata.GRADIENT_SIGNS, metadata.GRADIENT_STEP_STATS)
            )
            if arrays:
                gradient_stats.check_arrays(info, codes, step_stats)
        except (ValueError, RecursionError) as e:  # FormatError, and JSON or UTF-8 errors.
            raise CorruptDataError(run, record.tag, e) from e
        with self._lock:
            self._cache[key] = info
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return info, codes, step_stats


def _by_name(records, listing, key, names, stats):
    """`{stat: [[value per epoch] per name]}`, None where an epoch lacks the name or value."""
    result = {stat: [[None] * len(records) for _ in names] for stat in stats}
    row = {name: i for i, name in enumerate(names)}
    for e, record in enumerate(records):
        for i, item in enumerate(record[listing]):
            if item["name"] not in row:
                continue
            for stat in stats:
                values = record[key].get(stat) or []
                result[stat][row[item["name"]]][e] = values[i] if i < len(values) else None
    return result


def _finite(values):
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]
