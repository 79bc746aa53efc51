"""Background computation of analyses, with progress and a two-level cache.

An analysis (a projection of the probe points, a projection of the neurons,
discriminative scores, ...) is computed once per *data*: results are stored
on disk under a hash of the activation bytes, the labels and the analysis
(name and parameters), so a new epoch never invalidates older results, a
rewritten run never serves stale ones, and a restarted TensorBoard finds
its work again. A bounded in-memory map from the record's identity (run,
tag, wall time, analysis) to the result makes repeated requests cheap.

Results are dicts of plain NumPy arrays (scalars as 0-d arrays), stored as
`.npz` files without pickles, written to a temporary file and renamed into
place. A cache file that cannot be read or does not hold the arrays and
shapes the analysis promises (what a crash or a full disk leaves) is
recomputed and replaced; a failed write is logged once and retried next time.
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
import zipfile

import numpy as np

logger = logging.getLogger(__name__)

CACHE_VERSION = 3


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What to compute from one record's activations.

    Attributes:
      key: Name and parameters, e.g. `"projection|tsne"`; part of the cache key.
      title: Short name for progress messages, e.g. `"tsne"`.
      compute: `compute(data [N, D], labels [N], progress, init)` returning a
        dict of NumPy arrays; `progress(fraction)` reports how far it is,
        `init` is the result of the `Request.init` job, or None.
      shapes: `shapes(N, D)` returning `{name: shape}` of every array a
        result of `[N, D]` activations holds (checks cached results).
    """

    key: str
    title: str
    compute: object
    shapes: object


@dataclasses.dataclass(frozen=True)
class Request:
    """One analysis of one record.

    Attributes:
      identity: Hashable key of the record and analysis (the memory-cache key).
      load: Callable returning the `[N, D]` activations (runs in the job).
      analysis: The `Analysis` to run.
      labels: `[N]` class labels of the probe points.
      description: Human-readable name for progress messages.
      init: A `Request` whose result the analysis starts from (it must be
        queued first, e.g. the neighbouring frame of a t-SNE sequence), or None.
    """

    identity: tuple
    load: object
    analysis: Analysis
    labels: object
    description: str
    init: "Request | None" = None


def default_cache_dir():
    """`$NNVIZ_TB_CACHE_DIR`, else `$XDG_CACHE_HOME/nnviz_tb`, else `~/.cache/nnviz_tb`."""
    if os.environ.get("NNVIZ_TB_CACHE_DIR"):
        return os.environ["NNVIZ_TB_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnviz_tb")


class Jobs:
    """Runs analyses off the request thread, one at a time, and caches their results.

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
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nnviz-analysis")
        self._write_failed = False  # Warn about a failing disk cache once.

    def get(self, requests):
        """Returns `(results, progress)`; `results` is None until all are ready.

        Args:
          requests: List of `Request`s. Jobs for the ones not cached are
            queued (once each, however often they are asked for).

        Returns:
          `([result dict, ...], 1.0)` when every result is ready, else
          `(None, mean fraction done)`.

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
        data = np.ascontiguousarray(request.load())
        init = None
        if request.init is not None:  # Computed before: the single worker runs jobs in order.
            with self._lock:
                init = self._memory.get(request.init.identity)
        path = self._path(_digest(data, request.labels, request.analysis.key, init))
        result = self._read_disk(path, request.analysis.shapes(*data.shape))
        if result is None:
            result = self._run(request, data, progress, init)
            self._write_disk(path, result)
        with self._lock:
            self._memory[request.identity] = result
            self._running.pop(request.identity, None)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)
        return result

    @staticmethod
    def _run(request, data, progress, init):
        start = time.time()
        reported = [0.0]
        description = request.description

        def on_progress(fraction):
            progress[0] = fraction
            if fraction - reported[0] >= 0.25 and fraction < 1.0:
                reported[0] = fraction
                _report("%s: %d%%" % (description, 100 * fraction))

        _report("%s: started (%s activations)" % (description, " x ".join(map(str, data.shape))))
        result = request.analysis.compute(data, request.labels, on_progress, init)
        _report("%s: done in %.1f s" % (description, time.time() - start))
        return {name: np.asarray(value) for name, value in result.items()}

    def _path(self, digest):
        return None if self._cache_dir is None else os.path.join(self._cache_dir, digest + ".npz")

    @staticmethod
    def _read_disk(path, shapes):
        """The cached result at `path` if it holds exactly the arrays of `shapes`, else None."""
        if path is None or not os.path.exists(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                result = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            logger.info("nnviz_tb: recomputing the damaged cache file %s: %s", path, e)
            return None
        if set(result) != set(shapes) or any(result[k].shape != s or result[k].dtype.kind not in "biuf"
                                              for k, s in shapes.items()):
            logger.info("nnviz_tb: recomputing the cache file %s: it does not match its analysis", path)
            return None
        return result

    def _write_disk(self, path, result):
        """Writes `result` to `path` atomically; a failure is logged (once) and retried next time."""
        if path is None:
            return
        tmp = None
        try:
            os.makedirs(self._cache_dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **result)
            os.replace(tmp, path)
            self._write_failed = False
        except OSError as e:
            if not self._write_failed:
                logger.warning("nnviz_tb: cannot write the analysis cache in %s (results stay in "
                               "memory; retrying with the next result): %s", self._cache_dir, e)
            self._write_failed = True
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.remove(tmp)


def _digest(data, labels, analysis_key, init):
    """Hex SHA-256 of everything a result depends on."""
    digest = hashlib.sha256(np.ascontiguousarray(data).data)  # The buffer itself: no copy.
    digest.update(("%s|%s|%d|%s" % (analysis_key, data.shape, CACHE_VERSION, data.dtype)).encode())
    digest.update(np.ascontiguousarray(labels, dtype=np.int32).tobytes())
    for name in sorted(init or {}):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(init[name]).tobytes())
    return digest.hexdigest()


def _report(message):
    """Progress on the command line that runs TensorBoard."""
    sys.stderr.write("nnviz: %s\n" % message)
    sys.stderr.flush()
