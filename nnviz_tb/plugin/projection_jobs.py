"""Background computation of projections, with progress and a two-level cache.

A projection is computed once per *data*: results are stored on disk under a
hash of the activation bytes and the method, so a new epoch never
invalidates older projections, a rewritten run never serves stale ones, and
a restarted TensorBoard finds its work again. A bounded in-memory map from
the record's identity (run, tag, wall time, method) to the result makes
repeated requests cheap.
"""

import collections
import concurrent.futures
import dataclasses
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time

import numpy as np

from nnviz_tb.analysis import metrics, projection

logger = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Request:
    """One projection to compute.

    Attributes:
      identity: Hashable key of the record and method (the memory-cache key).
      load: Callable returning the `[N, D]` activations (runs in the job).
      method: A `projection.METHODS` name.
      labels: `[N]` labels for the neighborhood hit.
      description: Human-readable name for progress messages.
      init: The `Request` of the neighbouring frame whose layout t-SNE
        starts from (it must be queued first), or None.
    """

    identity: tuple
    load: object
    method: str
    labels: object
    description: str
    init: "Request | None" = None


def default_cache_dir():
    """`$NNVIZ_TB_CACHE_DIR`, else `$XDG_CACHE_HOME/nnviz_tb`, else `~/.cache/nnviz_tb`."""
    if os.environ.get("NNVIZ_TB_CACHE_DIR"):
        return os.environ["NNVIZ_TB_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnviz_tb")


class ProjectionJobs:
    """Computes projections off the request thread.

    Args:
      cache_dir: Directory of the disk cache, or None for memory only.
      memory_entries: Number of results kept in memory.
      wait_seconds: How long `get` waits for new jobs before answering
        "computing" (quick jobs and disk hits then answer at once).
    """

    def __init__(self, cache_dir=None, memory_entries=4096, wait_seconds=0.3):
        self._cache_dir = cache_dir
        self._memory = collections.OrderedDict()
        self._memory_entries = memory_entries
        self._wait = wait_seconds
        self._running = {}  # identity -> (future, progress list)
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nnviz-projection")

    def get(self, requests):
        """Returns `(results, progress)`; `results` is None until all are ready.

        Args:
          requests: List of `Request`s. Jobs for the ones not cached are
            queued (once each, however often they are asked for).

        Returns:
          `([{"points": [N, 2] float32, "neighborhood_hit": float}, ...], 1.0)`
          when every result is ready, else `(None, mean fraction done)`.

        Raises:
          Whatever a job raised (e.g. a corrupt record), once.
        """
        pending = []
        with self._lock:
            for request in requests:
                if request.identity in self._memory:
                    self._memory.move_to_end(request.identity)
                    future = concurrent.futures.Future()
                    future.set_result(self._memory[request.identity])
                    pending.append((future, [1.0]))
                    continue
                if request.identity not in self._running:
                    progress = [0.0]
                    future = self._pool.submit(self._compute, request, progress)
                    self._running[request.identity] = (future, progress)
                pending.append(self._running[request.identity])
        concurrent.futures.wait([f for f, _ in pending], timeout=self._wait)
        try:
            if all(future.done() for future, _ in pending):
                return [future.result() for future, _ in pending], 1.0
        finally:
            with self._lock:
                for request, (future, _) in zip(requests, pending):
                    if future.done():
                        self._running.pop(request.identity, None)
        return None, float(np.mean([p[0] for _, p in pending]))

    def _compute(self, request, progress):
        identity, method, labels = request.identity, request.method, request.labels
        data = np.ascontiguousarray(request.load())
        init = None
        if request.init is not None:  # Computed before: the single worker runs jobs in order.
            with self._lock:
                init = self._memory.get(request.init.identity, {}).get("points")
        digest = hashlib.sha256(data.tobytes())
        digest.update(("%s|%s|%d|%s" % (method, data.shape, CACHE_VERSION, data.dtype)).encode())
        digest.update(np.ascontiguousarray(labels, dtype=np.int32).tobytes())
        if init is not None:
            digest.update(init.tobytes())
        path = self._path(digest.hexdigest())
        result = self._read_disk(path)
        if result is None:
            result = self._project(data, method, labels, request.description, progress, init)
            self._write_disk(path, result)
        with self._lock:
            self._memory[identity] = result
            self._running.pop(identity, None)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)
        return result

    def _project(self, data, method, labels, description, progress, init):
        start = time.time()
        reported = [0.0]

        def on_progress(fraction):
            progress[0] = fraction
            if fraction - reported[0] >= 0.25 and fraction < 1.0:
                reported[0] = fraction
                _report("%s: %d%%" % (description, 100 * fraction))

        _report("%s: started (%d points)" % (description, len(data)))
        points = projection.project(data, method, progress=on_progress, init=init)
        hit = metrics.neighborhood_hit(points, labels)
        _report("%s: done in %.1f s" % (description, time.time() - start))
        return {"points": points, "neighborhood_hit": hit}

    def _path(self, digest):
        return None if self._cache_dir is None else os.path.join(self._cache_dir, digest + ".npz")

    @staticmethod
    def _read_disk(path):
        if path is None or not os.path.exists(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {
                    "points": stored["points"],
                    "neighborhood_hit": float(stored["neighborhood_hit"]),
                }
        except (OSError, ValueError, KeyError):
            return None  # A damaged cache file is recomputed.

    def _write_disk(self, path, result):
        if path is None:
            return
        try:
            os.makedirs(self._cache_dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **result)
            os.replace(tmp, path)
        except OSError as e:
            logger.warning("nnviz_tb: cannot write the projection cache in %s: %s", self._cache_dir, e)
            self._cache_dir = None


def _report(message):
    """Progress on the command line that runs TensorBoard."""
    sys.stderr.write("nnviz: %s\n" % message)
    sys.stderr.flush()
