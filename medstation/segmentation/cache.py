"""A bounded LRU of image embeddings, so a new box on a slice never re-runs the encoder.

Keys are ``(series_uid, slice_index, model_version, window)``: the same slice shown
through another window, or embedded by another model version, is a different
image to the network. A LiteMedSAM embedding is (1, 256, 64, 64) float32 = 4 MiB.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


def embedding_key(series_uid: str, slice_index: int, model_version: str, window) -> tuple:
    """Canonical cache key; ``window`` (center, width) is rounded so float noise does not miss."""
    win = None if window is None else (round(float(window[0]), 2), round(float(window[1]), 2))
    return (str(series_uid), int(slice_index), str(model_version), win)


class EmbeddingCache:
    """Thread-safe LRU; ``hits``/``misses`` count lookups (the tests and the benchmark read them)."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = max(1, int(capacity))
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the cached value or compute, store and return it (compute runs outside the lock)."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
