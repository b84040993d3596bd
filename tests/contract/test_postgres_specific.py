"""What only the PostgreSQL store has: migrations, plan choice, outages and recovery."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest

from mnemo.errors import ConfigurationError, StoreUnavailableError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import (
    EventKind,
    Memory,
    MemoryEvent,
    MemoryStatus,
    Message,
    Session,
    utcnow,
)
from mnemo.stores import postgres_db
from mnemo.stores.base import CandidateQuery, ChangeSet, Store, VectorRecord
from mnemo.stores.migrations import load_migrations
from mnemo.stores.postgres import PostgresStore
from mnemo.stores.postgres_search import VectorPlans, use_hnsw_iterative_scan
from mnemo.stores.sql_filters import compile_filter
from tests.contract.conftest import POSTGRES_SERVER
from tests.helpers.servers import free_port

DIMENSION = 384


def random_records(count: int, users: int, seed: int = 0) -> list[VectorRecord]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        VectorRecord(
            Memory(id=f"m{i}", namespace="ns", user_id=f"u{i % users}", text=f"note {i}"),
            vectors[i],
        )
        for i in range(count)
    ]


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(postgres_url, DIMENSION, timeout_s=2.0)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def admin_execute(sql: str, *params: object) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(
        f"{POSTGRES_SERVER}/postgres", autocommit=True
    ) as conn:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall() if cursor.description else []


async def test_migrations_are_applied_once(postgres_url: str) -> None:
    first = PostgresStore(postgres_url, DIMENSION)
    await first.open()
    await first.upsert_memories(random_records(1, 1), [])
    await first.close()
    again = PostgresStore(postgres_url, DIMENSION)
    await again.open()
    try:
        assert [m.version for m in first.applied_migrations] == [
            m.version for m in load_migrations("postgres")
        ]
        assert again.applied_migrations == []
        assert [m.id for m in await again.get_memories("ns", ["m0"])] == ["m0"]
    finally:
        await again.close()


async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    replicas = [PostgresStore(postgres_url, DIMENSION) for _ in range(4)]
    await asyncio.gather(*(r.open() for r in replicas))
    try:
        applied = [m.version for r in replicas for m in r.applied_migrations]
        assert sorted(applied) == [m.version for m in load_migrations("postgres")]
        async with replicas[0].db.connection() as conn:
            cursor = await conn.execute("SELECT count(*) AS n FROM schema_migrations")
            assert await cursor.fetchone() == {"n": len(load_migrations("postgres"))}
    finally:
        await asyncio.gather(*(r.close() for r in replicas))


async def test_vector_column_takes_the_configured_dimension(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, 8)
    await store.open()
    try:
        await store.ensure_embedding_model("tiny-model", 8)
        with pytest.raises(ConfigurationError, match="stores 8-dimension embeddings"):
            await store.ensure_embedding_model("tiny-model", 384)
    finally:
        await store.close()


async def test_database_down_at_start_fails_fast_and_clearly() -> None:
    port = free_port()
    store = PostgresStore(f"postgresql://mnemo:s3cret@127.0.0.1:{port}/mnemo", DIMENSION)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        await store.open()
    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{port}/mnemo" in caught.value.message
    assert "s3cret" not in str(caught.value)


async def test_missing_database_is_named(postgres_url: str) -> None:
    store = PostgresStore(postgres_url + "_missing", DIMENSION)
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        await store.open()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://mnemo:s3cret@[::1/mnemo",
        "postgresql://mnemo:s3cret@db.example:notaport/mnemo",
        "mysql://mnemo:s3cret@db.example/mnemo",
    ],
)
def test_bad_url_is_a_clear_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid PostgreSQL URL") as caught:
        PostgresStore(url, DIMENSION)
    assert "s3cret" not in str(caught.value)


async def test_outage_is_unavailable_then_recovers(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    await pg_store.upsert_memories(random_records(1, 1), [])
    database = postgres_url.rsplit("/", 1)[1]
    await admin_execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    await admin_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", database
    )
    try:
        with pytest.raises(StoreUnavailableError, match="PostgreSQL at 127.0.0.1:5432"):
            await pg_store.get_memories("ns", ["m0"])
    finally:
        await admin_execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    assert [m.id for m in await until_available(pg_store)] == ["m0"]


async def test_idle_connections_killed_by_a_restart_are_replaced_unseen(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    """A connection idle in the pool is checked before use (one that was busy a moment ago
    is trusted, saving a round trip per query); a dead idle one never reaches a request."""
    await pg_store.upsert_memories(random_records(1, 1), [])
    database = postgres_url.rsplit("/", 1)[1]
    await admin_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", database
    )
    await asyncio.sleep(postgres_db.CHECK_AFTER_IDLE_S + 0.2)
    assert [m.id for m in await pg_store.get_memories("ns", ["m0"])] == ["m0"]


async def until_available(store: PostgresStore, deadline_s: float = 20.0) -> list[Memory]:
    """The pool reconnects with backoff: retry until it is back, or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return await store.get_memories("ns", ["m0"])
        except StoreUnavailableError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_backend_killed_mid_request(pg_store: PostgresStore, postgres_url: str) -> None:
    [record] = random_records(1, 1)
    await pg_store.upsert_memories([record], [])
    event = MemoryEvent(memory_id="m0", namespace="ns", event=EventKind.UPDATE)
    async with await psycopg.AsyncConnection.connect(postgres_url) as locker:
        await locker.execute("SELECT 1 FROM memories WHERE id = 'm0' FOR UPDATE")
        update = asyncio.create_task(pg_store.update_memory(record.memory, None, event))
        pid = await blocked_backend(postgres_url.rsplit("/", 1)[1])
        await admin_execute("SELECT pg_terminate_backend(%s)", pid)
        with pytest.raises(StoreUnavailableError, match="terminat"):
            await update
        await locker.rollback()
    assert [m.id for m in await pg_store.get_memories("ns", ["m0"])] == ["m0"]


async def blocked_backend(database: str) -> int:
    for _ in range(100):
        rows = await admin_execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            database,
        )
        if rows:
            return int(str(rows[0][0]))
        await asyncio.sleep(0.05)
    raise AssertionError("the update never waited for the row lock")


async def explain(store: PostgresStore, sql: str, params: list[object], hnsw: bool) -> str:
    async with store.db.connection() as conn:
        if hnsw:
            await use_hnsw_iterative_scan(conn, 100)
        cursor = await conn.execute("EXPLAIN " + sql, params)
        return "\n".join(str(row["QUERY PLAN"]) for row in await cursor.fetchall())


async def test_narrow_scopes_filter_first_and_wide_scopes_use_hnsw(
    pg_store: PostgresStore,
) -> None:
    records = random_records(2000, users=100)
    await pg_store.upsert_memories(records, [])
    async with pg_store.db.connection() as conn:
        await conn.execute("ANALYZE memories")
    query, now = records[0].vector, utcnow()
    user = MemoryFilter(namespace=TagFilter(eq="ns"), user_id=TagFilter(eq="u7"))
    narrow = VectorPlans(compile_filter(user, pg_store.dialect, now))
    plan = await explain(pg_store, narrow.exact(), narrow.exact_params(query, 10), hnsw=False)
    assert "memories_embedding_hnsw" not in plan and "memories_user" in plan
    hybrid_params = [["tea"], query, *narrow.where.params, 10, 10]
    plan = await explain(pg_store, narrow.hybrid(), hybrid_params, hnsw=False)
    assert "memories_embedding_hnsw" not in plan and "memories_user" in plan
    assert plan.count("CTE Scan on scoped") == 2  # the scope is read once, for both halves
    wide = VectorPlans(
        compile_filter(MemoryFilter(namespace=TagFilter(eq="ns")), pg_store.dialect, now)
    )
    plan = await explain(
        pg_store, wide.approximate(), wide.approximate_params(query, 10), hnsw=True
    )
    assert "memories_embedding_hnsw" in plan


@pytest.mark.parametrize("scope", [None, "u3"])
async def test_hnsw_plan_finds_what_the_exact_plan_finds(
    postgres_url: str, scope: str | None
) -> None:
    """Forced onto HNSW (exact_scan_limit=0): same nearest rows, total from the planner."""
    exact = PostgresStore(postgres_url, DIMENSION)
    approximate = PostgresStore(postgres_url, DIMENSION, exact_scan_limit=0)
    await exact.open()
    await approximate.open()
    try:
        records = random_records(1000, users=50, seed=1)
        await exact.upsert_memories(records, [])
        async with exact.db.connection() as conn:
            await conn.execute("ANALYZE memories")
        memory_filter = MemoryFilter(namespace=TagFilter(eq="ns"))
        if scope:
            memory_filter.user_id = TagFilter(eq=scope)
        query = CandidateQuery(
            memory_filter, utcnow(), vector=records[3].vector, text="note 3", vector_limit=30
        )
        want, got = await exact.find_candidates(query), await approximate.find_candidates(query)
        assert got.keyword == want.keyword
        described = await approximate.describe_candidates(list(want.keyword), query.vector)
        assert described.keys() == want.keyword.keys()
        assert all(d.similarity is not None for d in described.values())
        assert want.total == (20 if scope else 1000)
        assert got.total == pytest.approx(want.total, rel=0.5)
        overlap = len(set(top(got.vector, 10)) & set(top(want.vector, 10)))
        assert overlap >= 9 and top(got.vector, 1) == [("ns", "m3")]
    finally:
        await exact.close()
        await approximate.close()


async def test_wide_distance_threshold_counts_the_nearest_within(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, DIMENSION, exact_scan_limit=0)
    await store.open()
    try:
        records = random_records(300, users=3, seed=2)
        await store.upsert_memories(records, [])
        wide = MemoryFilter(namespace=TagFilter(eq="ns"))
        query = CandidateQuery(wide, utcnow(), vector=records[0].vector, max_distance=0.9)
        found = await store.find_candidates(query)
        within = sum(1 - float(records[0].vector @ r.vector) <= 0.9 for r in records)
        assert 1 <= found.total == within < 200
    finally:
        await store.close()


def top(scores: dict[tuple[str, str], float], k: int) -> list[tuple[str, str]]:
    return sorted(scores, key=scores.__getitem__, reverse=True)[:k]


# Contract tests of the Store methods added with consolidation and extraction; they run on
# every store (the `store` fixture) and belong in test_store_contract.py.
async def test_write_changes_inserts_updates_fields_and_logs(
    store: Store, record: Callable[..., VectorRecord]
) -> None:
    old = record("User lives in Paris", id="old")
    await store.upsert_memories([old], [])
    new = record("User lives in Rome", id="new", supersedes="old")
    retired = old.memory.model_copy(
        update={"status": MemoryStatus.SUPERSEDED, "superseded_by": "new", "text": "ignored"}
    )
    event = MemoryEvent(memory_id="old", namespace="ns", event=EventKind.SUPERSEDE)
    await store.write_changes(ChangeSet(inserts=[new], updates=[retired], events=[event]))
    [got] = await store.get_memories("ns", ["old"])
    assert (got.status, got.superseded_by, got.text) == ("superseded", "new", "User lives in Paris")
    assert (await store.get_memories("ns", ["new"]))[0].supersedes == "old"
    assert [e.event for e in await store.history("ns", "old")] == [EventKind.SUPERSEDE]


async def test_extracted_messages_stay_marked(store: Store) -> None:
    turns = [Message(id=i, role="user", content=f"turn {i}") for i in ("a", "b")]
    await store.save_session(Session(session_id="s", namespace="ns", messages=turns), [])
    await store.mark_messages_extracted("ns", "s", ["a"])
    got = await store.get_session("ns", "s")
    assert got is not None and [m.extracted for m in got.messages] == [True, False]


async def test_metadata_keys_are_literals(pg_store: PostgresStore) -> None:
    [record] = random_records(1, 1)
    memory = record.memory.model_copy(update={"metadata": {"it's 100%": "yes", "%s": "x"}})
    await pg_store.upsert_memories([VectorRecord(memory, record.vector)], [])
    for metadata in ({"it's 100%": "yes"}, {"%s": "x"}):
        page = await pg_store.list_memories(MemoryFilter(metadata=metadata), utcnow(), 10, 0)
        assert [m.id for m in page.items] == ["m0"]


def test_seed_migration_script_applies_and_reports(postgres_url: str) -> None:
    """Seed 000's `python migrations/run_migration.py`, run from the repository root."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MNEMO_DATABASE_URL": postgres_url}
    outputs = [
        subprocess.run(
            [sys.executable, "migrations/run_migration.py"],
            cwd=root, env=env, capture_output=True, text=True, timeout=120, check=True,
        ).stdout
        for _ in range(2)
    ]  # fmt: skip
    assert "applied 0001_initial" in outputs[0]
    assert "nothing to apply" in outputs[1]
