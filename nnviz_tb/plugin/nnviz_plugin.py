"""The nnviz TensorBoard plugin: routes of the tab (documented in README.md, "HTTP API").

Each `*_impl` method returns plain data and is tested without HTTP; each
route only parses its request and responds with JSON. Bad parameters give a
JSON `{"error": ...}` with status 400, unknown runs/layers/epochs 404.
"""

import functools
import hashlib
import importlib.resources
import io
import json
import logging
import re
import threading

import numpy as np
from PIL import Image
from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from nnviz_tb import metadata
from nnviz_tb.analysis import bundling, metrics, neurons, projection
from nnviz_tb.plugin import analyses, correlations, gradients, jobs, run_data

logger = logging.getLogger(__name__)

_FRONTEND_PACKAGE = "nnviz_tb.plugin_frontend"
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css"}
_MAX_PARAM_LENGTH = 1024
_INT_PATTERN = re.compile(r"^[0-9]{1,9}$")
_BUNDLE_POINTS = 64  # Most sample points of a bundled trail between its first and last frame.
_BUNDLE_CACHE_ENTRIES = 8


def _frontend_files():
    """`{relative path: bytes}` of every file the tab may load."""
    files = {}

    def walk(folder, prefix):
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, prefix + item.name + "/")
            elif item.name[item.name.rfind(".") :] in _CONTENT_TYPES:
                files[prefix + item.name] = item.read_bytes()

    walk(importlib.resources.files(_FRONTEND_PACKAGE), "")
    return files


def _json_response(request, value, code=200):
    body = json.dumps(value, allow_nan=False, separators=(",", ":"))
    return http_util.Respond(request, body, "application/json", code=code)


def _job_response(request, result):
    """200 for a ready result, 202 while its job is still computing."""
    return _json_response(request, result, 200 if result["status"] == "ready" else 202)


def _route(handler):
    """Wraps a handler so every error becomes a JSON response, never a stack trace."""

    @functools.wraps(handler)
    @wrappers.Request.application
    def app(self, request):
        try:
            return handler(self, request)
        except errors.PublicError as e:
            return _json_response(request, {"error": str(e)}, e.http_code)
        except Exception:  # A bug: log it, answer without internals.
            logger.exception("nnviz_tb: error serving %s", request.path)
            return _json_response(request, {"error": "Internal error; see the TensorBoard log."}, 500)

    return app


def _param(request, name, required=True):
    value = request.args.get(name)
    if value is None or value == "":
        if required:
            raise errors.InvalidArgumentError("Missing parameter %r." % name)
        return None
    if len(value) > _MAX_PARAM_LENGTH:
        raise errors.InvalidArgumentError("Parameter %r is too long." % name)
    return value


def _int_param(request, name, required=True):
    value = _param(request, name, required)
    if value is None:
        return None
    if not _INT_PATTERN.match(value):
        raise errors.InvalidArgumentError(
            "Parameter %r must be a non-negative integer; got %r." % (name, value)
        )
    return int(value)


def _choice_param(request, name, choices, default):
    value = _param(request, name, required=False) or default
    if value not in choices:
        raise errors.InvalidArgumentError(
            "Parameter %r must be one of %s; got %r." % (name, list(choices), value)
        )
    return value


def _record_params(request):
    """`(run, layer, epoch)`: the parameters that name one activations record."""
    return _param(request, "run"), _param(request, "layer"), _int_param(request, "epoch")


def _list_param(request, name):
    value = _param(request, name, required=False)
    return None if value is None else [v for v in value.split(",") if v]


def _points_json(points):
    return np.round(points.astype(np.float64), 4).tolist()


class NnvizPlugin(base_plugin.TBPlugin):
    """Serves the nnviz tab and its data."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._data = run_data.RunData(context.data_provider)
        self._correlations = correlations.Correlations(self._data)
        self._gradients = gradients.Gradients(self._data)
        self._jobs = jobs.Jobs(jobs.default_cache_dir())
        self._files = _frontend_files()
        self._bundles = {}
        self._bundles_lock = threading.Lock()

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_static,
            "/static/*": self._serve_static,
            "/runs": self._serve_runs,
            "/projection": self._serve_projection,
            "/evolution": self._serve_evolution,
            "/neurons": self._serve_neurons,
            "/discriminative": self._serve_discriminative,
            "/thumbnail": self._serve_thumbnail,
            "/thumbnails": self._serve_thumbnails,
            "/correlations": self._serve_correlations,
            "/feature_correlations": self._serve_feature_correlations,
            "/gradients": self._serve_gradients,
            "/gradient_signs": self._serve_gradient_signs,
            "/augmentation_variance": self._serve_augmentation_variance,
        }

    def is_active(self):
        return False  # TensorBoard activates the tab when nnviz data exists.

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="nnviz")

    # Plain-data implementations.

    def runs_impl(self, ctx, experiment_id):
        """`{run: {has_activations, layers, epochs, num_points, class_names, layer_info, has_thumbnails}}`.

        Runs written only by other loggers are listed with no layers or epochs.
        """
        result = {}
        for run, entry in self._data.index(ctx, experiment_id).items():
            try:
                result[run] = self._activations_summary(ctx, experiment_id, run, entry)
                result[run]["correlations"] = correlations.summary(entry)
                result[run]["gradients"] = gradients.summary(entry)
            except errors.PublicError as e:
                logger.warning("nnviz_tb: skipping run %r: %s", run, e)
        return result

    def projection_impl(self, ctx, experiment_id, run, layer, epoch, method):
        """One projection: `{"status": "ready", points, labels, ...}` or computing."""
        entry = self._data.run(ctx, experiment_id, run)
        frames, progress, labels = self._frames(ctx, experiment_id, run, entry, [(layer, epoch)], method)
        if frames is None:
            return {"status": "computing", "progress": progress}
        frame = frames[0]
        frame["points"] = _points_json(frame["points"])
        return dict(
            status="ready",
            labels=labels.tolist(),
            predictions=self._predictions(ctx, experiment_id, run, entry, epoch),
            k=metrics.DEFAULT_K,
            **frame,
        )

    def evolution_impl(self, ctx, experiment_id, run, over, layer, epoch, method, subset, bundle=False):
        """Aligned projections of one epoch across layers, or one layer across epochs.

        With `bundle`, also each point's trail through the frames, bundled per
        class (`trails`: `{"samples": S, "points": [N][(F - 1) * S + 1][2]}`).
        """
        entry = self._data.run(ctx, experiment_id, run)
        if over == "layers":
            if epoch is None:
                raise errors.InvalidArgumentError("Parameter 'epoch' is required.")
            layers = subset or _layer_order(self._data.probe(ctx, experiment_id, run, entry)[0], entry)
            keys = [(name, epoch) for name in layers if epoch in entry.activations.get(name, {})]
        else:
            if layer is None:
                raise errors.InvalidArgumentError("Parameter 'layer' is required.")
            if layer not in entry.activations:
                raise errors.NotFoundError("Unknown layer %r in run %r." % (layer, run))
            epochs = sorted(entry.activations[layer])
            if subset is not None:
                wanted = {_parse_epoch(e) for e in subset}
                epochs = [e for e in epochs if e in wanted]
            keys = [(layer, e) for e in epochs]
        if not keys:
            raise errors.NotFoundError("No recorded data matches this request.")
        frames, progress, labels = self._frames(ctx, experiment_id, run, entry, keys, method)
        if frames is None:
            return {"status": "computing", "progress": progress, "frames_total": len(keys)}
        aligned = projection.align_sequence([frame["points"] for frame in frames])
        result = {"status": "ready", "over": over, "labels": labels.tolist(), "frames": frames, "k": metrics.DEFAULT_K}
        if bundle and len(frames) > 1:
            result["trails"] = self._bundled_trails(aligned, labels)
        for frame, points in zip(frames, aligned):
            frame["points"] = _points_json(points)
            frame["predictions"] = self._predictions(ctx, experiment_id, run, entry, frame["epoch"])
        return result

    def neurons_impl(self, ctx, experiment_id, run, layer, epoch, method):
        """Neurons of one layer in 2-D: `{"status": "ready", points (None if dead), dead}` or computing."""
        entry = self._data.run(ctx, experiment_id, run)
        analysis = analyses.neuron_projection(method)
        result, progress = self._analyse(ctx, experiment_id, run, entry, layer, epoch, analysis)
        if result is None:
            return {"status": "computing", "progress": progress}
        dead = result["dead"].astype(bool)
        points = _points_json(np.nan_to_num(result["points"]))
        return {
            "status": "ready",
            "layer": layer,
            "epoch": epoch,
            "points": [None if d else p for p, d in zip(points, dead)],
            "dead": dead.tolist(),
        }

    def discriminative_impl(self, ctx, experiment_id, run, layer, epoch):
        """ExtraTrees importance of each neuron per class, and its best class (-1 if dead)."""
        entry = self._data.run(ctx, experiment_id, run)
        info, labels, _ = self._data.probe(ctx, experiment_id, run, entry)
        names = list(info.get("class_names", []))
        num_classes = max(len(names), int(labels.max(initial=-1)) + 1, 1)
        names += [str(c) for c in range(len(names), num_classes)]
        analysis = analyses.discriminative(num_classes)
        result, progress = self._analyse(ctx, experiment_id, run, entry, layer, epoch, analysis)
        if result is None:
            return {"status": "computing", "progress": progress}
        return {
            "status": "ready",
            "layer": layer,
            "epoch": epoch,
            "importance": np.round(result["importance"].astype(np.float64), 5).tolist(),
            "best_class": result["best_class"].tolist(),
            "class_names": names,
        }

    def thumbnail_impl(self, ctx, experiment_id, run, index=None):
        """PNG bytes of one probe point's thumbnail, or with no `index` of them all.

        All thumbnails come as one atlas: tiles in row-major order, `ceil(sqrt(N))`
        tiles per row (the tab draws thumbnails at projected positions from it).
        """
        entry = self._data.run(ctx, experiment_id, run)
        _, _, thumbnails = self._data.probe(ctx, experiment_id, run, entry)
        if thumbnails is None:
            raise errors.NotFoundError("Run %r has no thumbnails." % (run,))
        if index is None:
            return _png(_atlas(thumbnails))
        if index >= len(thumbnails):
            raise errors.NotFoundError("No probe point %d in run %r." % (index, run))
        return _png(thumbnails[index])

    # Helpers.

    def _bundled_trails(self, aligned, labels):
        """Trails through the `aligned` frames, bundled per class (cached in memory)."""
        samples = int(np.clip(_BUNDLE_POINTS // (len(aligned) - 1), 2, bundling.SAMPLES))
        key = hashlib.sha256(np.ascontiguousarray(aligned).tobytes() + labels.tobytes()).hexdigest()
        with self._bundles_lock:
            trails = self._bundles.get(key)
        if trails is None:
            trails = bundling.bundle(aligned, labels, samples=samples)
            with self._bundles_lock:
                self._bundles[key] = trails
                while len(self._bundles) > _BUNDLE_CACHE_ENTRIES:
                    self._bundles.pop(next(iter(self._bundles)))
        return {"samples": samples, "points": np.round(trails.astype(np.float64), 3).tolist()}

    def _activations_summary(self, ctx, experiment_id, run, entry):
        """The `runs` fields that describe a run's recorded activations."""
        if entry.probe is None:
            info, labels, thumbnails = {}, [], None
        else:
            info, labels, thumbnails = self._data.probe(ctx, experiment_id, run, entry)
        described = {layer["name"]: layer for layer in info.get("layers", [])}
        layers = _layer_order(info, entry)
        return {
            "has_activations": bool(layers),
            "layers": layers,
            "epochs": entry.epochs(),
            "num_points": int(len(labels)),
            "class_names": info.get("class_names", []),
            "layer_info": [described.get(n, {"name": n}) for n in layers],
            "has_thumbnails": thumbnails is not None,
            "thumbnail_shape": None if thumbnails is None else list(thumbnails.shape[1:3]),
        }

    def _frames(self, ctx, experiment_id, run, entry, keys, method):
        """Projections of `[(layer, epoch)]`: `(frames or None, progress, labels)`.

        Frames hold `layer`, `epoch`, `points` (`[N, 2]` array) and `neighborhood_hit`.
        """
        _, labels, _ = self._data.probe(ctx, experiment_id, run, entry)
        analysis = analyses.point_projection(method)
        requests = []
        for layer, epoch in keys:
            # In a t-SNE sequence each frame starts from the layout of the one before.
            init = requests[-1] if requests and method == "tsne" else None
            requests.append(self._request(ctx, experiment_id, run, entry, layer, epoch, analysis, labels, init))
        results, progress = self._jobs.get(requests)
        if results is None:
            return None, progress, labels
        frames = [
            {"layer": layer, "epoch": epoch, "points": r["points"], "neighborhood_hit": float(r["neighborhood_hit"])}
            for (layer, epoch), r in zip(keys, results)
        ]
        return frames, 1.0, labels

    def _analyse(self, ctx, experiment_id, run, entry, layer, epoch, analysis):
        """One analysis of one record: `(result dict or None, progress)`."""
        _, labels, _ = self._data.probe(ctx, experiment_id, run, entry)
        request = self._request(ctx, experiment_id, run, entry, layer, epoch, analysis, labels)
        results, progress = self._jobs.get([request])
        return (None, progress) if results is None else (results[0], 1.0)

    def _request(self, ctx, experiment_id, run, entry, layer, epoch, analysis, labels, init=None):
        """The `jobs.Request` of `analysis` on the activations of `layer` at `epoch`."""
        record = entry.activations.get(layer, {}).get(epoch)
        if record is None:
            raise errors.NotFoundError(
                "No activations of layer %r at epoch %d in run %r." % (layer, epoch, run)
            )
        identity = (experiment_id, run, record.tag, record.wall_time, analysis.key)
        return jobs.Request(
            identity=identity if init is None else identity + (init.identity,),
            load=functools.partial(self._data.read_array, ctx, experiment_id, run, record),
            analysis=analysis,
            labels=labels,
            description="%s of run %r, layer %r, epoch %d" % (analysis.title, run, layer, epoch),
            init=init,
        )

    def _predictions(self, ctx, experiment_id, run, entry, epoch):
        record = entry.predictions.get(epoch)
        if record is None:
            return None
        return self._data.read_array(ctx, experiment_id, run, record).tolist()

    # Routes.

    @wrappers.Request.application
    def _serve_static(self, request):
        name = request.path.rsplit("/plugin/nnviz/", 1)[-1]
        name = name[len("static/") :] if name.startswith("static/") else name
        if name not in self._files:
            return http_util.Respond(request, "Not found", "text/plain", code=404)
        content_type = _CONTENT_TYPES[name[name.rfind(".") :]]
        return http_util.Respond(request, self._files[name], content_type)

    @_route
    def _serve_runs(self, request):
        ctx, eid = _context(request)
        return _json_response(request, self.runs_impl(ctx, eid))

    @_route
    def _serve_projection(self, request):
        ctx, eid = _context(request)
        method = _choice_param(request, "method", projection.METHODS, "pca")
        return _job_response(request, self.projection_impl(ctx, eid, *_record_params(request), method))

    @_route
    def _serve_evolution(self, request):
        ctx, eid = _context(request)
        over = _choice_param(request, "over", ("layers", "epochs"), "layers")
        return _job_response(request, self.evolution_impl(
            ctx,
            eid,
            _param(request, "run"),
            over,
            _param(request, "layer", required=False),
            _int_param(request, "epoch", required=False),
            _choice_param(request, "method", projection.METHODS, "pca"),
            _list_param(request, "layers" if over == "layers" else "epochs"),
            _choice_param(request, "bundle", ("0", "1"), "0") == "1",
        ))

    @_route
    def _serve_neurons(self, request):
        ctx, eid = _context(request)
        method = _choice_param(request, "method", neurons.NEURON_METHODS, "mds")
        return _job_response(request, self.neurons_impl(ctx, eid, *_record_params(request), method))

    @_route
    def _serve_discriminative(self, request):
        ctx, eid = _context(request)
        return _job_response(request, self.discriminative_impl(ctx, eid, *_record_params(request)))

    @_route
    def _serve_thumbnail(self, request):
        ctx, eid = _context(request)
        png = self.thumbnail_impl(ctx, eid, _param(request, "run"), _int_param(request, "index"))
        return http_util.Respond(request, png, "image/png")

    @_route
    def _serve_thumbnails(self, request):
        ctx, eid = _context(request)
        return http_util.Respond(request, self.thumbnail_impl(ctx, eid, _param(request, "run")), "image/png")

    @_route
    def _serve_correlations(self, request):
        ctx, eid = _context(request)
        measure = _choice_param(request, "measure", correlations.MEASURES, "cka")
        return _json_response(request, self._correlations.cross_layer_impl(ctx, eid, _param(request, "run"), measure))

    @_route
    def _serve_feature_correlations(self, request):
        ctx, eid = _context(request)
        over = _choice_param(request, "over", correlations.OVER, "features")
        return _json_response(
            request, self._correlations.feature_correlations_impl(ctx, eid, *_record_params(request), over)
        )

    @_route
    def _serve_augmentation_variance(self, request):
        ctx, eid = _context(request)
        return _json_response(request, self._correlations.augmentation_variance_impl(
            ctx, eid, _param(request, "run"), _int_param(request, "epoch")
        ))

    @_route
    def _serve_gradients(self, request):
        ctx, eid = _context(request)
        run = _param(request, "run")
        if _choice_param(request, "format", ("json", "csv"), "json") == "csv":
            return http_util.Respond(request, self._gradients.stats_csv(ctx, eid, run), "text/csv")
        return _json_response(request, self._gradients.stats_impl(ctx, eid, run))

    @_route
    def _serve_gradient_signs(self, request):
        ctx, eid = _context(request)
        return _json_response(request, self._gradients.signs_impl(ctx, eid, *_record_params(request)))


def _layer_order(info, entry):
    """Recorded layers in the order the callback described them, then any others."""
    described = [layer["name"] for layer in info.get("layers", [])]
    layers = [name for name in described if name in entry.activations]
    return layers + sorted(name for name in entry.activations if name not in described)


def _atlas(thumbnails):
    """`[N, h, w(, 3)]` images as one grid of `ceil(sqrt(N))` columns (unused tiles black)."""
    n, h, w = thumbnails.shape[:3]
    cols = max(1, int(np.ceil(np.sqrt(n))))
    rows = -(-n // cols)
    padded = np.zeros((rows * cols,) + thumbnails.shape[1:], thumbnails.dtype)
    padded[:n] = thumbnails
    grid = padded.reshape((rows, cols) + thumbnails.shape[1:]).swapaxes(1, 2)
    return grid.reshape((rows * h, cols * w) + thumbnails.shape[3:])


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _context(request):
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def _parse_epoch(text):
    if not _INT_PATTERN.match(text):
        raise errors.InvalidArgumentError("Epochs must be non-negative integers; got %r." % text)
    return int(text)
