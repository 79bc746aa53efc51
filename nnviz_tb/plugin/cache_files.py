"""The analyses' disk cache: one validated `.npz` file per result, named by a digest.

A result is stored under the SHA-256 of everything it depends on: the
activation bytes, the labels, the analysis (name and parameters), the cache
version and, for a frame started from another frame's layout, that frame's
digest. So a new epoch never invalidates older results, a rewritten run never
serves stale ones, and a restarted TensorBoard or `nnviz-tb precompute` find
each other's work. Files hold plain arrays (no pickles), are written to a
temporary file and renamed into place; one that cannot be read or does not
hold the arrays and shapes its analysis promises (what a crash or a full disk
leaves) is recomputed and replaced; a failed write is logged once and retried.
"""

import contextlib
import hashlib
import logging
import os
import tempfile
import zipfile

import numpy as np

logger = logging.getLogger(__name__)

CACHE_VERSION = 5  # 5: t-SNE warm frames weight each point's pull by how little it moved.


def default_cache_dir():
    """`$NNVIZ_TB_CACHE_DIR`, else `$XDG_CACHE_HOME/nnviz_tb`, else `~/.cache/nnviz_tb`."""
    if os.environ.get("NNVIZ_TB_CACHE_DIR"):
        return os.environ["NNVIZ_TB_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnviz_tb")


def digest(frames, labels, analysis_key, parent_digest=None):
    """Hex SHA-256 of a result's inputs: `frames` is an iterable of `[N, D]` arrays (read one at a time)."""
    hasher = hashlib.sha256()
    for data in frames:
        data = np.ascontiguousarray(data)
        hasher.update(data.data)  # The buffer itself: no copy.
        hasher.update(("%s|%s|" % (data.shape, data.dtype)).encode())
    hasher.update(("%s|%d|%s" % (analysis_key, CACHE_VERSION, parent_digest)).encode())
    hasher.update(np.ascontiguousarray(labels, dtype=np.int32).tobytes())
    return hasher.hexdigest()


class CacheFiles:
    """Reads and writes results in `directory` (None: nothing is stored)."""

    def __init__(self, directory):
        self._directory = directory
        self._write_failed = False  # Warn about a failing disk cache once.

    def read(self, key, shapes):
        """The result stored under `key` if it holds exactly the arrays of `shapes`, else None."""
        path = self._path(key)
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

    def write(self, key, result):
        """Stores `result` under `key` atomically; a failure is logged (once) and retried next time."""
        path = self._path(key)
        if path is None:
            return
        tmp = None
        try:
            os.makedirs(self._directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **result)
            os.replace(tmp, path)
            self._write_failed = False
        except OSError as e:
            if not self._write_failed:
                logger.warning("nnviz_tb: cannot write the analysis cache in %s (results stay in "
                               "memory; retrying with the next result): %s", self._directory, e)
            self._write_failed = True
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.remove(tmp)

    def _path(self, key):
        return None if self._directory is None else os.path.join(self._directory, key + ".npz")
