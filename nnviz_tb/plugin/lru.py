"""A bounded, thread-safe memo: the least recently used entries are dropped beyond a count."""

import collections
import threading


class Lru:
    """`get(key, compute)` returns the kept value of `key`, else keeps and returns `compute()`.

    Args:
      entries: How many values are kept.
    """

    def __init__(self, entries):
        self._entries = entries
        self._values = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, compute):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()  # Outside the lock: other keys are served meanwhile.
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._entries:
                self._values.popitem(last=False)
        return value
