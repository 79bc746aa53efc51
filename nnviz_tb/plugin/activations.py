"""The data of the ActivationLogger's views: projections, neurons, thumbnails.

Each `*_impl` returns plain data (no HTTP). Ready answers hold `notes`:
sentences about what the tab shows differently from what was recorded
(non-finite values drawn as 0, sampled neurons, unreadable predictions).
"""

import hashlib

import numpy as np
from tensorboard import errors

from nnviz_tb import png
from nnviz_tb.analysis import metrics, projection
from nnviz_tb.plugin import analyses, frames, lru, routing, thumbnails, trails
from nnviz_tb.plugin.corrupt import CorruptDataError


_POINT_LISTS = lru.Lru(256)  # sha1 of points -> their JSON lists, for answers polled again


def _preview_json(frame):
    """A partial frame's provisional layout: its own so far, or (`stand_in_epoch`) an earlier epoch's."""
    preview = {"points": _points_json(frame.points)}
    if frame.stand_in is not None:
        preview["stand_in_epoch"] = frame.stand_in
    return preview


def _points_json(points):
    """`[[x, y], ...]` rounded to 4 decimals; the same lists again for the same points (a sequence
    is polled every 0.5 s while it computes: building N small lists each time costs ~20 ms a frame)."""
    points = np.ascontiguousarray(points, np.float32)
    key = hashlib.sha1(points.data).digest() + str(points.shape).encode()
    return _POINT_LISTS.get(key, lambda: np.round(points.astype(np.float64), 4).tolist())


class Activations:
    """Answers the activation routes of the runs in `data` (a `run_data.RunData`), computing in `jobs`."""

    def __init__(self, data, analysis_jobs):
        self._data = data
        self._jobs = analysis_jobs
        self._trails = trails.TrailCache()
        self._precomputed = {}  # (experiment, run, probe wall time) -> {(layer, epoch)} queued in the background

    def summary(self, ctx, experiment_id, run, entry):
        """The `/runs` fields of a run's activations, and its `problems` (sentences)."""
        problems = list(entry.problems)
        probe = None
        if entry.probe is not None:
            try:
                probe = self._data.probe(ctx, experiment_id, run, entry)
                problems += probe.problems
            except CorruptDataError as e:
                problems.append("%s; its activations are not shown." % e)
        info = probe.info if probe else {}
        described = {layer["name"]: layer for layer in info.get("layers", [])}
        layers = _layer_order(info, entry) if probe else []
        thumbs = probe.thumbnails if probe else None
        return {
            "has_activations": bool(layers),
            "layers": layers,
            "epochs": entry.epochs() if probe else [],
            "num_points": int(len(probe.labels)) if probe else 0,
            "class_names": probe.class_names if probe else [],
            "layer_info": [described.get(n, {"name": n}) for n in layers],
            "has_thumbnails": thumbs is not None,
            "thumbnail_shape": None if thumbs is None else list(thumbs.shape[1:3]),
            "problems": problems,
        }

    def projection_impl(self, ctx, experiment_id, run, layer, epoch, params):
        """One projection: `{"status": "ready", points, labels, predictions, notes, ...}`, or
        `{"status": "computing", progress, eta_seconds, preview}` (`preview`: the layout so far, or None)."""
        entry, probe, run_frames = self._run_frames(ctx, experiment_id, run)
        keys = [(layer, epoch)]
        if params.method == "joint_pca":  # Axes fitted on every epoch of the layer.
            keys = [(layer, e) for e in sorted(entry.activations.get(layer, {}))] or keys
        status = run_frames.poll(self._jobs, keys, params)
        frame = next((f for f in status.frames if f is not None and f.epoch == epoch), None)
        notes = self._notes(probe, status, keys) + status.notes
        if frame is None or frame.partial:
            return {"status": "computing", "progress": status.progress.fraction,
                    "eta_seconds": _seconds(status.progress.eta_seconds),
                    "preview": None if frame is None else _preview_json(frame)}
        return dict(status="ready", labels=probe.labels.tolist(), k=metrics.DEFAULT_K, notes=notes,
                    **self._frame_json(ctx, experiment_id, run, entry, probe, frame, frame.points, notes))

    def evolution_impl(self, ctx, experiment_id, run, over, layer, epoch, params, subset, bundle=False):
        """Aligned projections of one epoch across layers, or one layer across epochs.

        While computing (`"status": "computing"`), `frames` holds the frames
        finished so far (None for the others; `"partial": true` for a t-SNE
        still being optimised), aligned in order, `frame_keys` naming every
        frame (`{"layer", "epoch"}`), with `frames_done`,
        `frames_total` and `eta_seconds`. With `bundle`, a ready answer also
        holds each point's trail through the frames, bundled per class
        (`trails`: `{"samples": S, "points": [N][(F - 1) * S + 1][2]}`).
        """
        entry, probe, run_frames = self._run_frames(ctx, experiment_id, run)
        keys = _evolution_keys(run, entry, probe, over, layer, epoch, subset)
        status = run_frames.poll(self._jobs, keys, params)
        notes = self._notes(probe, status, keys) + status.notes
        shown = [f for f in status.frames if f is not None]
        points = [f.points for f in shown]
        if not status.shared_axes:  # Else the frames share their axes already.
            points = projection.align_sequence(points)
        drawn = iter(self._frame_json(ctx, experiment_id, run, entry, probe, f, p, notes)
                     for f, p in zip(shown, points))
        result = {"status": "ready" if status.ready else "computing", "over": over,
                  "labels": probe.labels.tolist(), "k": metrics.DEFAULT_K, "notes": notes,
                  "frame_keys": [{"layer": layer, "epoch": e} for layer, e in keys],
                  "frames": [None if f is None else next(drawn) for f in status.frames]}
        if not status.ready:
            result.update(progress=status.progress.fraction, eta_seconds=_seconds(status.progress.eta_seconds),
                          frames_total=len(keys), frames_done=sum(f is not None and not f.partial
                                                                  for f in status.frames))
        elif bundle and len(shown) > 1:
            result["trails"] = self._trails.bundled(points, probe.labels)
        return result

    def precompute(self, ctx, experiment_id, runs, methods=("pca", "tsne")):
        """Queues, in the background, the default frames of every record of `runs` not queued before.

        `runs` is `{run: RunIndex}`; a run whose probe cannot be read is skipped.
        """
        for run, entry in runs.items():
            if entry.probe is None:
                continue
            records = {(layer, epoch) for layer, by_epoch in entry.activations.items() for epoch in by_epoch}
            new = sorted(records - self._precomputed.get((experiment_id, run, entry.probe.wall_time), set()),
                         key=lambda k: (k[1], k[0]))
            if not new:
                continue
            try:
                _, _, run_frames = self._run_frames(ctx, experiment_id, run, entry)
                for method in methods:
                    run_frames.poll(self._jobs, new, frames.Params(method), background=True)
            except (errors.PublicError, CorruptDataError):
                continue
            self._precomputed[(experiment_id, run, entry.probe.wall_time)] = records

    def neurons_impl(self, ctx, experiment_id, run, layer, epoch, method):
        """Neurons of one layer in 2-D: `{"status": "ready", points (None if dead), dead, neurons, ...}`.

        `neurons` are the indices of the neurons shown: all of them, or
        `neurons.MAX_NEURONS` sampled ones of a wider layer (then said in `notes`).
        """
        result, progress, notes = self._analyse(ctx, experiment_id, run, layer, epoch,
                                                lambda probe: analyses.neuron_projection(method))
        if result is None:
            return {"status": "computing", "progress": progress}
        dead = result["dead"].astype(bool)
        points = _points_json(np.nan_to_num(result["points"]))
        return dict(
            _neuron_fields(result, layer, epoch, notes),
            points=[None if d else p for p, d in zip(points, dead)],
            dead=dead.tolist(),
        )

    def discriminative_impl(self, ctx, experiment_id, run, layer, epoch):
        """ExtraTrees importance of each neuron shown per class, and its best class (-1 if dead)."""
        names = []

        def analysis(probe):
            names.extend(probe.class_names)
            return analyses.discriminative(max(len(probe.class_names), 1))

        result, progress, notes = self._analyse(ctx, experiment_id, run, layer, epoch, analysis)
        if result is None:
            return {"status": "computing", "progress": progress}
        return dict(
            _neuron_fields(result, layer, epoch, notes),
            importance=np.round(result["importance"].astype(np.float64), 5).tolist(),
            best_class=result["best_class"].tolist(),
            class_names=names,
        )

    def neuron_impl(self, ctx, experiment_id, run, layer, epoch, neuron):
        """One neuron's activations over the probe (the colour scale of "colour by neuron"):
        `{"status": "ready", layer, epoch, neuron, num_neurons, values: [N], min, max}`.

        `neuron` counts the recorded features of the layer (a conv layer's channels after
        its reduction); non-finite values are sent as 0.
        """
        entry = self._data.run(ctx, experiment_id, run)
        probe = self._data.probe(ctx, experiment_id, run, entry)
        record = entry.activations.get(layer, {}).get(epoch)
        if record is None:
            raise errors.NotFoundError("No activations of layer %r at epoch %d in run %r." % (layer, epoch, run))
        activations = self._data.read_activations(ctx, experiment_id, run, record, probe)
        if neuron >= activations.shape[1]:
            raise errors.InvalidArgumentError("Parameter 'neuron' must be below %d (the features of layer %r); got %d." % (
                activations.shape[1], layer, neuron))
        values = np.nan_to_num(activations[:, neuron].astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        return {"status": "ready", "layer": layer, "epoch": epoch, "neuron": neuron,
                "num_neurons": int(activations.shape[1]), "values": np.round(values, 5).tolist(),
                "min": float(values.min()), "max": float(values.max())}

    def thumbnail_impl(self, ctx, experiment_id, run, index=None):
        """PNG bytes of one probe point's thumbnail, or with no `index` of them all.

        All thumbnails come as one atlas: tiles in row-major order, `ceil(sqrt(N))`
        tiles per row (the tab draws thumbnails at projected positions from it).
        """
        entry = self._data.run(ctx, experiment_id, run)
        images = self._data.probe(ctx, experiment_id, run, entry).thumbnails
        if images is None:
            raise errors.NotFoundError("Run %r has no thumbnails." % (run,))
        if index is None:
            return png.encode(thumbnails.atlas(images))
        if index >= len(images):
            raise errors.NotFoundError("No probe point %d in run %r." % (index, run))
        return png.encode(images[index])

    # Helpers.

    def _run_frames(self, ctx, experiment_id, run, entry=None):
        """`(RunIndex, Probe, frames.RunFrames)` of a run."""
        entry = entry or self._data.run(ctx, experiment_id, run)
        probe = self._data.probe(ctx, experiment_id, run, entry)
        return entry, probe, run_frames(self._data, ctx, experiment_id, run, entry, probe)

    @staticmethod
    def _notes(probe, status, keys):
        """Notes on non-finite values drawn as 0 and on layers recorded in part."""
        notes = [_non_finite_note(f.non_finite, f.layer, f.epoch) for f in status.frames if f and f.non_finite]
        layers = dict.fromkeys(layer for layer, _ in keys)
        return notes + [note for note in (_sampled_note(probe, layer) for layer in layers) if note]

    def _frame_json(self, ctx, experiment_id, run, entry, probe, frame, points, notes):
        """The JSON fields of one frame drawn at `points`."""
        result = {"layer": frame.layer, "epoch": frame.epoch, "points": _points_json(points),
                  "neighborhood_hit": frame.neighborhood_hit,
                  "predictions": self._predictions(ctx, experiment_id, run, entry, probe, frame.epoch, notes)}
        if frame.partial:
            result["partial"] = True
        if frame.stand_in is not None:
            result["stand_in_epoch"] = frame.stand_in
        return result

    def _analyse(self, ctx, experiment_id, run, layer, epoch, make_analysis):
        """One analysis (`make_analysis(probe)`) of one record: `(result or None, progress, notes)`."""
        entry = self._data.run(ctx, experiment_id, run)
        probe = self._data.probe(ctx, experiment_id, run, entry)
        request = frames.RunFrames(self._data, ctx, experiment_id, run, entry, probe, []).record_request(
            (layer, epoch), make_analysis(probe))
        results, progress = self._jobs.get([request])
        if results is None:
            return None, progress, []
        result = dict(results[0], recorded_features=_recorded_features(probe, layer))
        notes = [_non_finite_note(result["non_finite"], layer, epoch)] if result["non_finite"] else []
        return result, 1.0, notes


    def _predictions(self, ctx, experiment_id, run, entry, probe, epoch, notes):
        """The predicted classes at `epoch` as a list, or None (unreadable ones noted in `notes`)."""
        record = entry.predictions.get(epoch)
        if record is None:
            return None
        try:
            return self._data.read_predictions(ctx, experiment_id, run, record, probe).tolist()
        except CorruptDataError as e:
            notes.append("%s; no predictions are shown for epoch %d." % (e, epoch))
            return None


def run_frames(data, ctx, experiment_id, run, entry, probe):
    """The `frames.RunFrames` of a run, its layers in the callback's order."""
    return frames.RunFrames(data, ctx, experiment_id, run, entry, probe, _layer_order(probe.info, entry))


def _evolution_keys(run, entry, probe, over, layer, epoch, subset):
    """The `[(layer, epoch)]` frames of an evolution request (a listed subset: each once, at most `MAX_LISTED`)."""
    if subset is not None:
        subset = list(dict.fromkeys(subset))
        if len(subset) > MAX_LISTED:
            raise errors.InvalidArgumentError(
                "At most %d layers or epochs may be listed; got %d." % (MAX_LISTED, len(subset)))
    if over == "layers":
        if epoch is None:
            raise errors.InvalidArgumentError("Parameter 'epoch' is required.")
        layers = subset or _layer_order(probe.info, entry)
        keys = [(name, epoch) for name in layers if epoch in entry.activations.get(name, {})]
    else:
        if layer is None:
            raise errors.InvalidArgumentError("Parameter 'layer' is required.")
        if layer not in entry.activations:
            raise errors.NotFoundError("Unknown layer %r in run %r." % (layer, run))
        epochs = sorted(entry.activations[layer])
        if subset is not None:
            wanted = {routing.parse_count(e, "Each epoch") for e in subset}
            epochs = [e for e in epochs if e in wanted]
        keys = [(layer, e) for e in epochs]
    if not keys:
        raise errors.NotFoundError("No recorded data matches this request.")
    return keys


# Most layers or epochs one evolution request may list: each listed frame may be a t-SNE job.
MAX_LISTED = 64


def _layer_order(info, entry):
    """Recorded layers in the order the callback described them, then any others."""
    described = [layer["name"] for layer in info.get("layers", [])]
    layers = [name for name in described if name in entry.activations]
    return layers + sorted(name for name in entry.activations if name not in described)


def _non_finite_note(count, layer, epoch):
    return "%d NaN or infinite activation values of layer %r at epoch %d are drawn as 0." % (int(count), layer, epoch)


def _seconds(value):
    return None if value is None else round(float(value), 1)


def _recorded_features(probe, layer):
    """`(feature indices [D], layer width)` of a layer the callback recorded only in part, else None."""
    described = next((d for d in probe.info.get("layers", []) if d.get("name") == layer), {})
    features, total = described.get("features"), described.get("total_dim")
    if (not isinstance(features, list) or not isinstance(total, int) or isinstance(total, bool)
            or not all(isinstance(f, int) and 0 <= f < total for f in features)):
        return None
    return np.asarray(features, np.int64), total


def _sampled_note(probe, layer):
    recorded = _recorded_features(probe, layer)
    if recorded is None:
        return None
    return ("Layer {!r} is recorded as {:,} of its {:,} features, evenly spaced (the logger's "
            "max_dim; the same at every epoch).".format(layer, len(recorded[0]), recorded[1]))


def _neuron_fields(result, layer, epoch, notes):
    """The fields the neuron routes share: which neurons are shown (indices in the
    layer), and the notes."""
    shown, num_neurons = result["neurons"], int(result["num_neurons"])
    recorded = result.get("recorded_features")
    if recorded is not None and len(recorded[0]) == num_neurons:  # Only some features were written.
        shown, num_neurons = recorded[0][shown], recorded[1]
    if len(shown) < num_neurons:
        notes = notes + ["{:,} of {:,} neurons, sampled (the same ones at every epoch).".format(len(shown), num_neurons)]
    return {"status": "ready", "layer": layer, "epoch": epoch, "neurons": shown.tolist(),
            "num_neurons": num_neurons, "notes": notes}
