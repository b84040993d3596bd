"""Shared fixtures: the real embedding model once per run, a fresh database per test."""

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
from mnemo.models import Scope
from tests.helpers.servers import serve_in_thread

DEV_KEY = "dev-key-12345"


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


# Functional tests send bursts from one key; the limiter has its own tests (test_operations).
ROOMY_LIMITS = RateLimitsConfig(tiers={"standard": "100000/minute", "operator": ""})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limits=ROOMY_LIMITS)


@pytest.fixture
def server_url(settings: Settings, embedder: LocalEmbedder) -> Iterator[str]:
    """The real app on a real socket, with a fresh SQLite file."""
    with serve_in_thread(create_app(settings, embedder)) as url:
        yield url


@pytest.fixture
def client(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, headers={"X-API-Key": DEV_KEY}, timeout=30) as c:
        yield c


@pytest.fixture
def anon(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as c:
        yield c


@pytest.fixture
def make_key(settings: Settings, server_url: str) -> Callable[..., str]:
    """Create a stored key bound to a namespace (and user), as `mnemo keys create` does."""

    def make(namespace: str, user: str | None = None, scopes: str = "read,write") -> str:
        plaintext, record = generate_key(
            namespace=namespace, user_id=user, scopes=[Scope(s) for s in scopes.split(",")]
        )

        async def add() -> None:
            async with opened_store(settings) as store:
                await store.add_api_key(record)

        asyncio.run(add())
        return plaintext

    return make


def key_client(server_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=server_url, headers={"X-API-Key": key}, timeout=30)
