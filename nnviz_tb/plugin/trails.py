"""Bundled trails of aligned frames, kept in a small in-memory cache."""

import hashlib
import threading

import numpy as np

from nnviz_tb.analysis import bundling

_BUNDLE_POINTS = 64  # Most sample points of a bundled trail between its first and last frame.


class TrailCache:
    """Bundles each point's trail through a sequence of frames, per class (cached).

    Args:
      entries: How many bundled sequences to keep.
    """

    def __init__(self, entries=8):
        self._entries = entries
        self._bundles = {}
        self._lock = threading.Lock()

    def bundled(self, aligned, labels):
        """`{"samples": S, "points": [N][(F - 1) * S + 1][2]}` of `[F][N, 2]` aligned frames."""
        samples = int(np.clip(_BUNDLE_POINTS // (len(aligned) - 1), 2, bundling.SAMPLES))
        key = hashlib.sha256(np.ascontiguousarray(aligned).tobytes() + labels.tobytes()).hexdigest()
        with self._lock:
            trails = self._bundles.get(key)
        if trails is None:
            trails = bundling.bundle(aligned, labels, samples=samples)
            with self._lock:
                self._bundles[key] = trails
                while len(self._bundles) > self._entries:
                    self._bundles.pop(next(iter(self._bundles)))
        return {"samples": samples, "points": np.round(trails.astype(np.float64), 3).tolist()}
