"""CachedEmbedder: an LRU cache of query embeddings in front of any Embedder."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from mnemo.embedders.base import Embedder, Vectors


class CachedEmbedder:
    """Satisfies Embedder itself; single queries are cached, batches pass through."""

    def __init__(self, inner: Embedder, maxsize: int = 2048) -> None:
        self.inner = inner
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                self.hits += 1
                return cached
            self.misses += 1
        vector = np.asarray(self.inner.embed([text])[0], dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        return vector
