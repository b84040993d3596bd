"""The Embedder port: what every embedding provider offers the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text.

    Implementations are synchronous and CPU- or IO-bound; services call them from a
    worker thread. `model_name` and `dimension` are recorded in the database so that a
    store is never searched with vectors from another model.
    """

    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Return an array of shape (len(texts), dimension), each row of unit length."""
        ...
