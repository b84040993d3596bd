"""Embedder for OpenAI-compatible /v1/embeddings servers (OpenAI, Ollama, vLLM, TEI)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray

from mnemo.errors import EmbedderUnavailableError

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BATCH = 128
# Statuses worth another try: rate limiting and server-side trouble.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 5.0


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a numeric Retry-After header (the HTTP-date form is ignored)."""
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _snippet(response: httpx.Response) -> str:
    return response.text[:200].replace("\n", " ")


class OpenAIEmbedder:
    """Embeds through POST {base_url}/embeddings, e.g. base_url="http://localhost:11434/v1".

    Sends {"model": ..., "input": [...]} in slices of `max_batch` texts, orders the answer by
    `index`, checks every vector's length against `dimension` and L2-normalises it. A 429 or
    5xx is retried `retries` times with exponential backoff; everything else that goes wrong
    (other statuses, timeouts, connection errors, malformed bodies) raises
    EmbedderUnavailableError at once. Thread-safe: httpx.Client may be shared by threads.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        dimension: int,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_batch: int = DEFAULT_MAX_BATCH,
        retries: int = 2,
        backoff: float = 0.25,
    ) -> None:
        if dimension < 1 or max_batch < 1 or retries < 0:
            raise ValueError("dimension and max_batch must be >= 1, retries >= 0")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._dimension = dimension
        self._max_batch = max_batch
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.Client(headers=headers, timeout=timeout)

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return (len(texts), dimension) unit vectors in the order of `texts`."""
        parts = [
            self._embed_slice(list(texts[start : start + self._max_batch]))
            for start in range(0, len(texts), self._max_batch)
        ]
        if not parts:
            return np.empty((0, self._dimension), dtype=np.float32)
        return np.concatenate(parts)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _embed_slice(self, texts: list[str]) -> NDArray[np.float32]:
        body = self._post({"model": self._model, "input": texts})
        vectors = self._parse(body, len(texts))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not np.all(norms > 0):
            raise EmbedderUnavailableError(f"{self._url} returned an all-zero embedding")
        unit: NDArray[np.float32] = (vectors / norms).astype(np.float32)
        return unit

    def _post(self, payload: dict[str, Any]) -> Any:
        """POST with retries on 429/5xx; return the decoded JSON body."""
        for attempt in range(self._retries + 1):
            response = self._send(payload)
            if response.status_code in _RETRY_STATUSES and attempt < self._retries:
                delay = _retry_after(response) or self._backoff * 2**attempt
                time.sleep(min(delay, _MAX_BACKOFF_S))
                continue
            if response.status_code != 200:
                raise EmbedderUnavailableError(
                    f"{self._url} answered HTTP {response.status_code} "
                    f"after {attempt + 1} attempt(s): {_snippet(response)}"
                )
            try:
                return response.json()
            except ValueError as exc:
                msg = f"{self._url} returned non-JSON: {_snippet(response)}"
                raise EmbedderUnavailableError(msg) from exc
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _send(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            return self._client.post(self._url, json=payload)
        except httpx.TimeoutException as exc:
            msg = f"embedding request to {self._url} timed out"
            raise EmbedderUnavailableError(msg) from exc
        except httpx.HTTPError as exc:
            msg = f"embedding request to {self._url} failed: {exc}"
            raise EmbedderUnavailableError(msg) from exc

    def _parse(self, body: Any, expected: int) -> NDArray[np.float64]:
        """Vectors from an OpenAI-style body, ordered by `index`, shape-checked."""
        try:
            items = sorted(body["data"], key=lambda item: int(item["index"]))
            indices = [int(item["index"]) for item in items]
            vectors = np.array([item["embedding"] for item in items], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{self._url} returned a malformed body: {exc!r}"
            raise EmbedderUnavailableError(msg) from exc
        if indices != list(range(expected)):
            raise EmbedderUnavailableError(
                f"{self._url} returned indices {indices[:10]} for {expected} inputs"
            )
        if vectors.shape != (expected, self._dimension) or not np.all(np.isfinite(vectors)):
            got = vectors.shape[1] if vectors.ndim == 2 else "ragged"
            raise EmbedderUnavailableError(
                f"{self._url} model {self._model!r} returned {got}-dimensional vectors, "
                f"expected {self._dimension} finite values each"
            )
        return vectors
