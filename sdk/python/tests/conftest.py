"""Fixtures: the real mnemo app on loopback (fresh SQLite per test), and both SDK clients."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:  # the server's own test helpers live in the repository
    sys.path.insert(0, str(REPO_ROOT))

from tests.helpers.servers import serve_in_thread  # noqa: E402

from mnemo.app import create_app  # noqa: E402
from mnemo.auth.keys import generate_key  # noqa: E402
from mnemo.cli.stores import opened_store  # noqa: E402
from mnemo.config import JobsConfig, Settings, WebhooksConfig  # noqa: E402
from mnemo.embedders.local import LocalEmbedder  # noqa: E402
from mnemo.models import Scope  # noqa: E402
from mnemo_client import AsyncClient, Client  # noqa: E402

DEV_KEY = "dev-key-12345"


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Extraction runs as soon as turns arrive; webhooks may target loopback receivers."""
    return Settings(
        data_dir=tmp_path / "data",
        jobs=JobsConfig(extraction_debounce_s=0, poll_interval_s=0.05),
        webhooks=WebhooksConfig(allow_private=True, max_webhooks_per_namespace=2),
    )


@pytest.fixture
def server_url(settings: Settings, embedder: LocalEmbedder) -> Iterator[str]:
    with serve_in_thread(create_app(settings, embedder)) as url:
        yield url


@pytest.fixture
def client(server_url: str) -> Iterator[Client]:
    with Client(base_url=server_url, api_key=DEV_KEY) as c:
        yield c


@pytest.fixture
async def aclient(server_url: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(base_url=server_url, api_key=DEV_KEY) as c:
        yield c


@pytest.fixture
def make_key(settings: Settings, server_url: str) -> Callable[[str], str]:
    """A stored key bound to a namespace, as `mnemo keys create --namespace` makes one."""
    del server_url  # requested so that the server has created the database

    def make(namespace: str) -> str:
        plaintext, record = generate_key(
            namespace=namespace, user_id=None, scopes=[Scope.READ, Scope.WRITE]
        )

        async def add() -> None:
            async with opened_store(settings) as store:
                await store.add_api_key(record)

        # In a thread of its own: async tests call this from inside their event loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, add()).result()
        return plaintext

    return make
