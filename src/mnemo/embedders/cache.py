"""Thread-safe LRU cache in front of any Embedder, for repeated single-text queries."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from mnemo.embedders.base import Embedder, Vectors

DEFAULT_MAXSIZE = 2048


class CachedEmbedder:
    """Wraps an Embedder; `embed_query` is memoised per exact text, `embed` passes through.

    Itself an Embedder (same model_name and dimension as the inner one). Cached vectors are
    returned read-only, so no caller can corrupt what the next caller gets. `hits` and
    `misses` count embed_query calls. Two threads missing on the same text at once may both
    compute it; that costs time, never correctness.
    """

    def __init__(self, inner: Embedder, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self._inner = inner
        self.maxsize = maxsize
        self._entries: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def inner(self) -> Embedder:
        return self._inner

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Batch embedding, straight to the inner embedder (batches rarely repeat)."""
        return self._inner.embed(texts)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """The (dimension,) vector of one text, from the cache when seen recently."""
        with self._lock:
            cached = self._entries.get(text)
            if cached is not None:
                self._entries.move_to_end(text)
                self.hits += 1
                return cached
            self.misses += 1
        # Computed outside the lock so a slow embedding never blocks other lookups.
        vector = np.array(self._inner.embed([text])[0], dtype=np.float32)
        vector.flags.writeable = False
        with self._lock:
            self._entries[text] = vector
            self._entries.move_to_end(text)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return vector

    def clear(self) -> None:
        """Drop every cached vector; the counters keep running."""
        with self._lock:
            self._entries.clear()
