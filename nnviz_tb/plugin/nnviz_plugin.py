"""The nnviz TensorBoard plugin: routes of the tab (documented in README.md, "HTTP API").

Each route only parses its request (`routing`) and responds with the plain
data of an `*_impl` method (`activations`, `correlations`, `gradients`, `saliency`).
Bad parameters give a JSON `{"error": ...}` with status 400, unknown
runs/layers/epochs 404, damaged summaries 422 (`corrupt.CorruptDataError`).
A summary that breaks the format is skipped and listed in its run's
`problems` in `/runs`; the other runs and records are served as usual.
"""

import functools
import importlib.resources
import logging
import os
import threading
import time

from tensorboard import context as tb_context
from tensorboard import errors
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from nnviz_tb import metadata
from nnviz_tb.analysis import neurons
from nnviz_tb.plugin import (
    activations, cache_files, confusion, correlations, frames, gradients, jobs, run_data, saliency,
)
from nnviz_tb.plugin.answer_cache import AnswerCache, cached
from nnviz_tb.plugin.routing import (
    choice_param, context, int_param, job_response, json_response, list_param, param, record_params, route,
)

logger = logging.getLogger(__name__)

_FRONTEND_PACKAGE = "nnviz_tb.plugin_frontend"
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css"}
_PRECOMPUTE_SECONDS = 10.0  # How often new records are looked for ($NNVIZ_TB_PRECOMPUTE=0: never).
_MAX_PROBLEMS = 20  # Sentences per run in /runs, which the tab polls every 10 s.


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


class NnvizPlugin(base_plugin.TBPlugin):
    """Serves the nnviz tab and its data."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._data = run_data.RunData(context.data_provider)
        self._activations = activations.Activations(self._data, jobs.Jobs(cache_files.default_cache_dir()))
        self._confusion = confusion.Confusion(self._data)
        self._correlations = correlations.Correlations(self._data)
        self._gradients = gradients.Gradients(self._data)
        self._saliency = saliency.Saliency(self._data)
        self._answers = AnswerCache(self._data)
        self._files = _frontend_files()
        if os.environ.get("NNVIZ_TB_PRECOMPUTE", "1") != "0":
            threading.Thread(target=self._precompute, daemon=True, name="nnviz-precompute").start()

    def _precompute(self):
        """Every `_PRECOMPUTE_SECONDS`, queues the default projections of new records in the background."""
        ctx = tb_context.RequestContext()
        while True:
            time.sleep(_PRECOMPUTE_SECONDS)
            try:
                self._activations.precompute(ctx, "", self._data.index(ctx, ""))
            except Exception:  # Never let it end: the next round may succeed.
                logger.exception("nnviz_tb: precomputing projections failed")

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_static,
            "/static/*": self._serve_static,
            "/runs": self._serve_runs,
            "/projection": self._serve_projection,
            "/evolution": self._serve_evolution,
            "/neurons": self._serve_neurons,
            "/discriminative": self._serve_discriminative,
            "/neuron_activations": self._serve_neuron_activations,
            "/thumbnail": self._serve_thumbnail,
            "/thumbnails": self._serve_thumbnails,
            "/correlations": self._serve_correlations,
            "/feature_correlations": self._serve_feature_correlations,
            "/gradients": self._serve_gradients,
            "/gradient_signs": self._serve_gradient_signs,
            "/augmentation_variance": self._serve_augmentation_variance,
            "/confusion": self._serve_confusion,
            "/saliency": self._serve_saliency,
            "/saliency_image": self._serve_saliency_image,
        }

    def is_active(self):
        return False  # TensorBoard activates the tab when nnviz data exists.

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="nnviz")

    def runs_impl(self, ctx, experiment_id):
        """`{run: {has_activations, layers, epochs, num_points, class_names, layer_info,
        has_thumbnails, thumbnail_shape, problems, correlations, gradients, confusion, saliency}}`.

        Runs written only by other loggers are listed with no layers or epochs;
        `problems` says which summaries of the run were skipped, and why.
        """
        result = {}
        index = self._data.index(ctx, experiment_id)
        for run, entry in sorted(index.items()):  # In name order.
            summary = self._activations.summary(ctx, experiment_id, run, entry)
            for name, summarise in (("correlations", functools.partial(correlations.summary, entry)),
                                    ("gradients", functools.partial(gradients.summary, entry)),
                                    ("confusion", functools.partial(confusion.summary, index, run)),
                                    ("saliency", functools.partial(saliency.summary, entry))):
                try:
                    summary[name] = summarise()
                except Exception:  # One logger's bug must not hide the run, or the others.
                    logger.exception("nnviz_tb: cannot list the %s of run %r", name, run)
                    summary[name] = None
                    summary["problems"].append("Its %s could not be listed (see the TensorBoard log)." % name)
            if len(summary["problems"]) > _MAX_PROBLEMS:
                more = len(summary["problems"]) - _MAX_PROBLEMS + 1
                summary["problems"] = summary["problems"][: _MAX_PROBLEMS - 1] + ["... and %d more problems." % more]
            result[run] = summary
        return result

    # Routes.

    @wrappers.Request.application
    def _serve_static(self, request):
        name = request.path.rsplit("/plugin/nnviz/", 1)[-1]
        name = name[len("static/") :] if name.startswith("static/") else name
        if name not in self._files:
            return http_util.Respond(request, "Not found", "text/plain", code=404)
        content_type = _CONTENT_TYPES[name[name.rfind(".") :]]
        return http_util.Respond(request, self._files[name], content_type)

    @route
    @cached
    def _serve_runs(self, request):
        return json_response(request, self.runs_impl(*context(request)))

    @route
    @cached
    def _serve_projection(self, request):
        result = self._activations.projection_impl(*context(request), *record_params(request),
                                                   _frame_params(request))
        return job_response(request, result)

    @route
    @cached
    def _serve_evolution(self, request):
        over = choice_param(request, "over", ("layers", "epochs"), "layers")
        return job_response(request, self._activations.evolution_impl(
            *context(request),
            param(request, "run"),
            over,
            param(request, "layer", required=False),
            int_param(request, "epoch", required=False),
            _frame_params(request),
            list_param(request, "layers" if over == "layers" else "epochs"),
            choice_param(request, "bundle", ("0", "1"), "0") == "1",
        ))

    @route
    @cached
    def _serve_neurons(self, request):
        method = choice_param(request, "method", neurons.NEURON_METHODS, "mds")
        return job_response(request, self._activations.neurons_impl(*context(request), *record_params(request), method))

    @route
    @cached
    def _serve_discriminative(self, request):
        return job_response(request, self._activations.discriminative_impl(*context(request), *record_params(request)))

    @route
    @cached
    def _serve_neuron_activations(self, request):
        return json_response(request, self._activations.neuron_impl(
            *context(request), *record_params(request), int_param(request, "neuron")))

    @route
    def _serve_thumbnail(self, request):
        png = self._activations.thumbnail_impl(*context(request), param(request, "run"), int_param(request, "index"))
        return http_util.Respond(request, png, "image/png")

    @route
    def _serve_thumbnails(self, request):
        png = self._activations.thumbnail_impl(*context(request), param(request, "run"))
        return http_util.Respond(request, png, "image/png")

    @route
    @cached
    def _serve_correlations(self, request):
        measure = choice_param(request, "measure", correlations.MEASURES, "cka")
        return json_response(request, self._correlations.cross_layer_impl(
            *context(request), param(request, "run"), measure))

    @route
    @cached
    def _serve_feature_correlations(self, request):
        over = choice_param(request, "over", correlations.OVER, "features")
        return json_response(request, self._correlations.feature_correlations_impl(
            *context(request), *record_params(request), over))

    @route
    @cached
    def _serve_augmentation_variance(self, request):
        return json_response(request, self._correlations.augmentation_variance_impl(
            *context(request), param(request, "run"), int_param(request, "epoch")))

    @route  # Not cached: the answer for a run comes from its validation run, whose generation differs.
    def _serve_confusion(self, request):
        return json_response(request, self._confusion.confusion_impl(
            *context(request), param(request, "run"), int_param(request, "epoch", required=False)))

    @route
    @cached
    def _serve_gradients(self, request):
        ctx, eid = context(request)
        run = param(request, "run")
        if choice_param(request, "format", ("json", "csv"), "json") == "csv":
            return http_util.Respond(request, self._gradients.stats_csv(ctx, eid, run), "text/csv")
        return json_response(request, self._gradients.stats_impl(ctx, eid, run))

    @route
    @cached
    def _serve_gradient_signs(self, request):
        return json_response(request, self._gradients.signs_impl(*context(request), *record_params(request)))

    @route
    @cached
    def _serve_saliency(self, request):
        return json_response(request, self._saliency.point_impl(
            *context(request), param(request, "run"), int_param(request, "index"),
            int_param(request, "epoch", required=False)))

    @route
    def _serve_saliency_image(self, request):
        png = self._saliency.image_impl(
            *context(request), param(request, "run"),
            choice_param(request, "method", metadata.SALIENCY_METHODS, None), int_param(request, "epoch"),
            int_param(request, "image"))
        return http_util.Respond(request, png, "image/png")


def _frame_params(request):
    """`frames.Params` of `method`, `perplexity` (t-SNE's, 2 to 100) and `seed` (t-SNE's, 0 to 2**31 - 1)."""
    method = choice_param(request, "method", frames.METHODS, "pca")
    text = param(request, "perplexity", required=False)
    try:
        perplexity = frames.Params.perplexity if text is None else float(text)
    except ValueError:
        perplexity = float("nan")
    if not frames.MIN_PERPLEXITY <= perplexity <= frames.MAX_PERPLEXITY:  # Also NaN.
        raise errors.InvalidArgumentError("Parameter 'perplexity' must be a number from %g to %g; got %r." % (
            frames.MIN_PERPLEXITY, frames.MAX_PERPLEXITY, text))
    seed = int_param(request, "seed", required=False) or 0
    if seed > frames.MAX_SEED:
        raise errors.InvalidArgumentError("Parameter 'seed' must be at most %d; got %d." % (frames.MAX_SEED, seed))
    return frames.Params(method, perplexity, seed)
