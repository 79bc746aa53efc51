"""Serves the ready JSON answers of routes again, serialized and gzipped, while their data is unchanged.

An answer is kept under its route, query string, experiment and the
`RunData.generation` of its `run` parameter (of all runs without one), so
a new epoch of one run invalidates the answers of that run only (and
`/runs`). Only 200 answers to GET requests are kept: errors and "computing"
answers (202) are recomputed every time. The least recently used answers
are dropped beyond `max_bytes`.
"""

import collections
import functools
import gzip
import threading

from tensorboard.backend import http_util

from nnviz_tb.plugin import routing, run_data

MAX_BYTES = 64 * 2**20
_JSON = "application/json"


class AnswerCache:
    """Answers kept per `(route, query, experiment, generation)`.

    Args:
      data: The plugin's `run_data.RunData` (gives the generations).
      max_bytes: Most gzipped bytes kept; 0 keeps none. Defaults to
        `MAX_BYTES`, or 0 when `run_data.caches_enabled()` is False.
    """

    def __init__(self, data, max_bytes=None):
        self._data = data
        self._max_bytes = (MAX_BYTES if run_data.caches_enabled() else 0) if max_bytes is None else max_bytes
        self._answers = collections.OrderedDict()  # {key: gzipped body}
        self._bytes = 0
        self._lock = threading.Lock()

    def serve(self, request, respond):
        """The kept answer to `request`, else `respond()`'s response (kept if ready)."""
        if request.method != "GET" or not self._max_bytes:
            return respond()
        ctx, experiment_id = routing.context(request)
        generation = self._data.generation(ctx, experiment_id, request.args.get("run"))
        key = (request.path, request.query_string, experiment_id, generation)
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
        if body is not None:
            return http_util.Respond(request, body, _JSON, content_encoding="gzip")
        response = respond()
        if response.status_code == 200 and response.mimetype == _JSON and not response.direct_passthrough:
            body = response.get_data()
            if response.headers.get("Content-Encoding") != "gzip":
                body = gzip.compress(body, compresslevel=3, mtime=0)
            self._keep(key, body)
        return response

    def _keep(self, key, body):
        if _size(key, body) > self._max_bytes // 4:
            return
        with self._lock:
            if key in self._answers:
                self._bytes -= _size(key, self._answers[key])
            self._answers[key] = body
            self._bytes += _size(key, body)
            while self._bytes > self._max_bytes:
                self._bytes -= _size(*self._answers.popitem(last=False))


def _size(key, body):
    """Bytes an answer holds: its body and its query string (up to a request line long)."""
    return len(body) + len(key[1])


def cached(handler):
    """Wraps a route handler of an object whose `_answers` is an `AnswerCache` (inside `routing.route`)."""

    @functools.wraps(handler)
    def app(self, request):
        return self._answers.serve(request, lambda: handler(self, request))

    return app
