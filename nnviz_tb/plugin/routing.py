"""What every route shares: parsing request parameters and answering in JSON.

Bad parameters raise `InvalidArgumentError` (400); `route` turns every
`PublicError` into a JSON `{"error": ...}` with its status, and anything else
into a logged 500 without internals.
"""

import functools
import json
import logging
import re

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from werkzeug import wrappers

logger = logging.getLogger(__name__)

_MAX_PARAM_LENGTH = 1024
_INT_PATTERN = re.compile(r"^[0-9]{1,9}$")


def json_response(request, value, code=200):
    body = json.dumps(value, allow_nan=False, separators=(",", ":"))
    return http_util.Respond(request, body, "application/json", code=code)


def job_response(request, result):
    """200 for a ready result, 202 while its job is still computing."""
    return json_response(request, result, 200 if result["status"] == "ready" else 202)


def route(handler):
    """Wraps a handler so every error becomes a JSON response, never a stack trace."""

    @functools.wraps(handler)
    @wrappers.Request.application
    def app(self, request):
        try:
            return handler(self, request)
        except errors.PublicError as e:
            return json_response(request, {"error": str(e)}, e.http_code)
        except Exception:  # A bug: log it, answer without internals.
            logger.exception("nnviz_tb: error serving %s", request.path)
            return json_response(request, {"error": "Internal error; see the TensorBoard log."}, 500)

    return app


def context(request):
    """`(RequestContext, experiment id)` of a request."""
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def param(request, name, required=True):
    value = request.args.get(name)
    if value is None or value == "":
        if required:
            raise errors.InvalidArgumentError("Missing parameter %r." % name)
        return None
    if len(value) > _MAX_PARAM_LENGTH:
        raise errors.InvalidArgumentError("Parameter %r is too long." % name)
    return value


def int_param(request, name, required=True):
    value = param(request, name, required)
    return None if value is None else parse_count(value, "Parameter %r" % name)


def parse_count(text, what):
    """`int(text)` for a non-negative integer of at most 9 digits, else `InvalidArgumentError`."""
    if not _INT_PATTERN.match(text):
        raise errors.InvalidArgumentError("%s must be a non-negative integer; got %r." % (what, text))
    return int(text)


def choice_param(request, name, choices, default):
    value = param(request, name, required=False) or default
    if value not in choices:
        raise errors.InvalidArgumentError(
            "Parameter %r must be one of %s; got %r." % (name, list(choices), value)
        )
    return value


def record_params(request):
    """`(run, layer, epoch)`: the parameters that name one activations record."""
    return param(request, "run"), param(request, "layer"), int_param(request, "epoch")


def list_param(request, name):
    value = param(request, name, required=False)
    return None if value is None else [v for v in value.split(",") if v]
