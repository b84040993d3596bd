"""What an operator relies on: rate limits per key (in process and across replicas via
Redis), request ids, Prometheus metrics, CORS closed by default."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mnemo.app import create_app
from mnemo.auth.keys import generate_key
from mnemo.cli.stores import opened_store
from mnemo.config import RateLimitsConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from tests.conftest import key_client
from tests.helpers.servers import serve_in_thread

TIGHT = RateLimitsConfig(tiers={"standard": "5/minute", "operator": ""})


def add_key(settings: Settings) -> str:
    plaintext, record = generate_key(namespace="ops")

    async def add() -> None:
        async with opened_store(settings) as store:
            await store.add_api_key(record)

    asyncio.run(add())
    return plaintext


@pytest.fixture
def tight(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[tuple[str, Settings]]:
    settings = Settings(data_dir=tmp_path, rate_limits=TIGHT)
    with serve_in_thread(create_app(settings, embedder)) as url:
        yield url, settings


def test_limit_per_key_with_headers_and_retry_after(tight: tuple[str, Settings]) -> None:
    url, settings = tight
    key = add_key(settings)
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as c:
        answers = [c.get("/v1/working-memory/") for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert int(answers[0].headers["X-RateLimit-Reset"]) > 0
    refused = answers[5]
    assert int(refused.headers["Retry-After"]) >= 1 and "rate limit" in refused.json()["detail"]
    with httpx.Client(base_url=url, headers={"X-API-Key": "dev-key-12345"}) as operator:
        assert operator.get("/v1/working-memory/").status_code == 200  # another key, no limit


def test_limit_holds_across_replicas_with_redis(tmp_path: Path, embedder: LocalEmbedder) -> None:
    settings = Settings(data_dir=tmp_path, rate_limits=TIGHT, redis_url="redis://127.0.0.1:6379/15")
    key = add_key(settings)
    with (
        serve_in_thread(create_app(settings, embedder)) as one,
        serve_in_thread(create_app(settings, embedder)) as two,
    ):
        codes = []
        for i in range(6):
            with httpx.Client(base_url=one if i % 2 else two, headers={"X-API-Key": key}) as c:
                codes.append(c.get("/v1/working-memory/").status_code)
    assert codes == [200] * 5 + [429]


def test_request_id_is_echoed_or_minted(client: httpx.Client) -> None:
    assert (
        client.get("/v1/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    minted = client.get("/v1/health").headers["X-Request-ID"]
    assert len(minted) == 32
    unsafe = client.get("/v1/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["X-Request-ID"] != "bad id\twith spaces"


def test_prometheus_metrics(client: httpx.Client) -> None:
    client.post("/v1/long-term-memory/", json={"memories": [{"text": "metrics are fun"}]})
    client.post("/v1/long-term-memory/search", json={"text": "fun"})
    text = client.get("/metrics").text
    assert (
        'mnemo_http_requests_total{method="POST",route="/v1/long-term-memory/search",status="200"} 1.0'
        in text
    )
    assert 'mnemo_memories{memory_type="semantic"} 1.0' in text
    assert "mnemo_search_duration_seconds_count 1.0" in text
    assert 'mnemo_embedding_query_cache{result="miss"}' in text


def test_cors_is_closed_by_default(client: httpx.Client) -> None:
    preflight = client.options(
        "/v1/long-term-memory/search",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_for_configured_origins(tmp_path: Path, embedder: LocalEmbedder) -> None:
    settings = Settings(data_dir=tmp_path, cors_origins=["https://app.example"])
    with serve_in_thread(create_app(settings, embedder)) as url, httpx.Client(base_url=url) as c:
        preflight = c.options("/v1/health", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "GET"})  # fmt: skip
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"


def test_stats_count_per_namespace(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    client.put("/v1/working-memory/s1", json={"namespace": "acme", "user_id": "u", "messages": [
        {"role": "user", "content": "hello"}, {"role": "user", "content": "I prefer Vim"}]})  # fmt: skip
    client.post("/v1/long-term-memory/", json={"memories": [
        {"text": "Acme ships on Fridays", "namespace": "acme", "memory_type": "episodic"}]})  # fmt: skip
    stats = client.get("/v1/stats", params={"namespace": "acme"}).json()
    assert stats["sessions"] == 1 and stats["messages"] == 2
    assert stats["memories_by_type"]["episodic"] == 1 and stats["memories"] == 3
    with key_client(server_url, make_key("other")) as other:
        assert other.get("/v1/stats").json()["memories"] == 0
        assert other.get("/v1/stats", params={"namespace": "acme"}).status_code == 403
