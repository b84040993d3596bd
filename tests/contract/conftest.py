"""One store contract, every store: each test gets a fresh, migrated, empty store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import numpy as np
import psycopg
import pytest

from mnemo.embedders.local import LocalEmbedder
from mnemo.models import Memory
from mnemo.stores.base import Store, VectorRecord
from mnemo.stores.postgres import PostgresStore
from mnemo.stores.sqlite import SQLiteStore

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
STORES = ["sqlite", "postgres"]


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the test server; dropped (connections and all) afterwards."""
    name = f"mnemo_test_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(
        f"{POSTGRES_SERVER}/postgres", autocommit=True
    ) as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_SERVER}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@asynccontextmanager
async def _sqlite(tmp_path: Path) -> AsyncIterator[Store]:
    yield SQLiteStore(tmp_path / "contract.db", 384)


@asynccontextmanager
async def _postgres(tmp_path: Path) -> AsyncIterator[Store]:
    async with fresh_postgres_database() as url:
        yield PostgresStore(url, 384)


FACTORIES: dict[str, Callable[[Path], AbstractAsyncContextManager[Store]]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with FACTORIES[request.param](tmp_path) as made:
        await made.open()
        try:
            yield made
        finally:
            await made.close()


@pytest.fixture
def record(embedder: LocalEmbedder) -> Callable[..., VectorRecord]:
    """Build a memory with its real embedding."""

    def make(text: str, **fields: object) -> VectorRecord:
        memory = Memory(
            text=text, namespace=str(fields.pop("namespace", "ns")), **fields
        ).with_hash()  # type: ignore[arg-type]
        vector = np.asarray(embedder.embed([text])[0], dtype=np.float32)
        return VectorRecord(memory, vector)

    return make
