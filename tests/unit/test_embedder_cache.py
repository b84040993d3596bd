"""CachedEmbedder's LRU behaviour, and OpenAIEmbedder against a scripted loopback server."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from mnemo.embedders.base import Embedder
from mnemo.embedders.cache import CachedEmbedder
from mnemo.embedders.openai import OpenAIEmbedder
from mnemo.errors import EmbedderUnavailableError


class HashEmbedder:
    """A real, deterministic Embedder: unit vectors derived from the text's SHA-256."""

    model_name = "test/hash-8"
    dimension = 8

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 8) - 127.5
        out: NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return out


def test_cached_embedder_is_an_embedder_of_the_inner_model() -> None:
    inner = HashEmbedder()
    cached: Embedder = CachedEmbedder(inner)
    assert (cached.model_name, cached.dimension) == ("test/hash-8", 8)


def test_repeated_query_is_served_from_cache() -> None:
    inner = HashEmbedder()
    cache = CachedEmbedder(inner, maxsize=4)
    first = cache.embed_query("where do I live?")
    second = cache.embed_query("where do I live?")
    assert first.shape == (8,)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, inner.embed(["where do I live?"])[0])
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(inner.calls) == 2  # one miss above, one direct call for the comparison


def test_cached_vectors_are_read_only() -> None:
    cache = CachedEmbedder(HashEmbedder())
    vector = cache.embed_query("q")
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 1.0


def test_least_recently_used_entry_is_evicted() -> None:
    inner = HashEmbedder()
    cache = CachedEmbedder(inner, maxsize=2)
    cache.embed_query("a")
    cache.embed_query("b")
    cache.embed_query("a")  # "a" is now the most recent, so "b" goes next
    cache.embed_query("c")
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (1, 3)
    cache.embed_query("a")
    assert cache.hits == 2
    cache.embed_query("b")
    assert cache.misses == 4
    assert inner.calls == [["a"], ["b"], ["c"], ["b"]]


def test_batches_pass_through_uncached() -> None:
    inner = HashEmbedder()
    cache = CachedEmbedder(inner)
    vectors = cache.embed(["x", "y"])
    assert vectors.shape == (2, 8)
    assert inner.calls == [["x", "y"]]
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)


def test_counters_stay_exact_under_concurrent_queries() -> None:
    cache = CachedEmbedder(HashEmbedder(), maxsize=16)
    texts = [f"text {i % 10}" for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        vectors = list(pool.map(cache.embed_query, texts))
    assert cache.hits + cache.misses == 400
    assert cache.misses >= 10
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_array_equal(vector, cache.embed_query(text))


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        CachedEmbedder(HashEmbedder(), maxsize=0)


# --- OpenAIEmbedder against a real HTTP server on 127.0.0.1 -------------------------------

Reply = Callable[[dict[str, Any]], tuple[int, Any]]


@dataclass
class Script:
    """Replies the fake server hands out in order, and what it was sent."""

    replies: list[Reply] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, body: dict[str, Any], auth: str | None) -> tuple[int, Any]:
        with self.lock:
            self.bodies.append(body)
            self.auth.append(auth)
            reply = self.replies.pop(0)
        return reply(body)


class _Handler(BaseHTTPRequestHandler):
    server: _ScriptedServer

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming convention
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, payload = self.server.script.next_reply(body, self.headers.get("Authorization"))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _ScriptedServer(ThreadingHTTPServer):
    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    httpd = _ScriptedServer(script)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def embeddings(dim: int, scale: float = 3.0, reverse: bool = False) -> Reply:
    """An OpenAI-style success whose i-th vector is scale * e_(i mod dim), unnormalised."""

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        data = [
            {"object": "embedding", "index": i, "embedding": list(np.eye(dim)[i % dim] * scale)}
            for i in range(len(body["input"]))
        ]
        return 200, {"object": "list", "data": data[::-1] if reverse else data}

    return reply


def status(code: int) -> Reply:
    return lambda _: (code, {"error": {"message": f"status {code}"}})


def test_openai_returns_unit_vectors_in_input_order(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [embeddings(3, reverse=True)]
    with OpenAIEmbedder(url, model="m", dimension=3, api_key="sk-test") as emb:
        vectors = emb.embed(["a", "b", "c"])
    np.testing.assert_allclose(vectors, np.eye(3), atol=1e-7)
    assert vectors.dtype == np.float32
    assert script.bodies == [{"model": "m", "input": ["a", "b", "c"]}]
    assert script.auth == ["Bearer sk-test"]


def test_openai_retries_a_server_error_then_succeeds(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(500), embeddings(3)]
    with OpenAIEmbedder(url, model="m", dimension=3, backoff=0.0) as emb:
        vectors = emb.embed(["a"])
    np.testing.assert_allclose(vectors, [[1.0, 0.0, 0.0]], atol=1e-7)
    assert len(script.bodies) == 2
    assert script.auth == [None, None]


def test_openai_gives_up_after_two_retries(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(503), status(429), status(503), embeddings(3)]
    with (
        OpenAIEmbedder(url, model="m", dimension=3, backoff=0.0) as emb,
        pytest.raises(EmbedderUnavailableError, match="HTTP 503 after 3 attempt"),
    ):
        emb.embed(["a"])
    assert len(script.bodies) == 3


def test_openai_does_not_retry_a_client_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [status(401), embeddings(3)]
    with (
        OpenAIEmbedder(url, model="m", dimension=3, backoff=0.0) as emb,
        pytest.raises(EmbedderUnavailableError, match="HTTP 401"),
    ):
        emb.embed(["a"])
    assert len(script.bodies) == 1


def test_openai_rejects_vectors_of_the_wrong_dimension(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [embeddings(4)]
    with (
        OpenAIEmbedder(url, model="m", dimension=3) as emb,
        pytest.raises(EmbedderUnavailableError, match="4-dimensional vectors, expected 3"),
    ):
        emb.embed(["a", "b"])


@pytest.mark.parametrize(
    "body",
    [{"unexpected": True}, {"data": [{"index": 5, "embedding": [1.0, 0.0, 0.0]}]}, b"not json"],
)
def test_openai_rejects_malformed_bodies(server: tuple[str, Script], body: Any) -> None:
    url, script = server
    script.replies = [lambda _: (200, body)]
    with (
        OpenAIEmbedder(url, model="m", dimension=3) as emb,
        pytest.raises(EmbedderUnavailableError),
    ):
        emb.embed(["a"])


def test_openai_splits_inputs_into_max_batch_requests(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [embeddings(3), embeddings(3), embeddings(3)]
    with OpenAIEmbedder(url, model="m", dimension=3, max_batch=2) as emb:
        vectors = emb.embed(["a", "b", "c", "d", "e"])
    assert [b["input"] for b in script.bodies] == [["a", "b"], ["c", "d"], ["e"]]
    np.testing.assert_allclose(vectors[:, 0], [1.0, 0.0, 1.0, 0.0, 1.0], atol=1e-7)


def test_openai_empty_input_makes_no_request(server: tuple[str, Script]) -> None:
    url, script = server
    with OpenAIEmbedder(url, model="m", dimension=3) as emb:
        assert emb.embed([]).shape == (0, 3)
    assert script.bodies == []


def test_openai_timeout_is_reported_as_unavailable(server: tuple[str, Script]) -> None:
    url, script = server

    def slow(body: dict[str, Any]) -> tuple[int, Any]:
        time.sleep(0.5)
        return embeddings(3)(body)

    script.replies = [slow]
    with (
        OpenAIEmbedder(url, model="m", dimension=3, timeout=0.1) as emb,
        pytest.raises(EmbedderUnavailableError, match="timed out"),
    ):
        emb.embed(["a"])


def test_openai_unreachable_server_is_reported_as_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        OpenAIEmbedder(f"http://127.0.0.1:{port}/v1", model="m", dimension=3) as emb,
        pytest.raises(EmbedderUnavailableError, match="failed"),
    ):
        emb.embed(["a"])
