"""The SQLite store's in-memory index answers scoped searches exactly as SQL would.

Scoped searches are answered from numpy masks over the index's copy of the scope columns;
these tests hold that copy to SQL's answer, including after writes made by *another*
process's store on the same file (the change log), and after the log was pruned.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import EventKind, Memory, MemoryEvent, MemoryStatus, MemoryType
from mnemo.retrieval.text import query_terms
from mnemo.stores import sqlite_index
from mnemo.stores.base import CandidateQuery, VectorRecord
from mnemo.stores.sql_filters import compile_filter
from mnemo.stores.sqlite import SQLiteStore
from mnemo.stores.sqlite_terms import keyword_documents, scoped_keyword_documents
from mnemo.stores.vector_index import index_scope

NOW = datetime(2026, 6, 1, tzinfo=UTC)
USERS = ["u1", "u2", "u3", None]
SESSIONS = ["s1", "s2", None]
TYPES = [MemoryType.SEMANTIC.value, MemoryType.EPISODIC.value, MemoryType.MESSAGE.value]


def _vector(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def _records(count: int, seed: int = 3, first: int = 0) -> list[VectorRecord]:
    rng, pick = np.random.default_rng(seed), random.Random(seed)
    records = []
    for i in range(first, first + count):
        memory = Memory(
            id=f"m{i}",
            namespace=pick.choice(["a", "b"]),
            user_id=pick.choice(USERS),
            session_id=pick.choice(SESSIONS),
            agent_id=pick.choice(["agent", None]),
            memory_type=pick.choice(TYPES),
            text=f"memory number {i}",
            status=pick.choice([MemoryStatus.ACTIVE] * 3 + [MemoryStatus.SUPERSEDED]),
            expires_at=pick.choice([None, None, NOW - timedelta(days=1), NOW + timedelta(days=1)]),
        ).with_hash()
        records.append(VectorRecord(memory, _vector(rng)))
    return records


async def _via_index(store: SQLiteStore, memory_filter: MemoryFilter) -> set[str]:
    query = CandidateQuery(
        filter=memory_filter, now=NOW, vector=_vector(np.random.default_rng(0)), vector_limit=1000
    )
    found = await store.find_candidates(query)
    assert found.total == len(found.vector)
    return {memory_id for _, memory_id in found.vector}


async def _via_sql(store: SQLiteStore, memory_filter: MemoryFilter) -> set[str]:
    page = await store.list_memories(memory_filter, NOW, limit=1000, offset=0)
    return {m.id for m in page.items}


def _tag(values: list[str]) -> st.SearchStrategy[TagFilter]:
    one, many = st.sampled_from(values), st.lists(st.sampled_from(values), max_size=3)
    return st.one_of(
        one.map(lambda v: TagFilter(eq=v)),
        one.map(lambda v: TagFilter(ne=v)),
        many.map(lambda v: TagFilter(any=v)),
        many.map(lambda v: TagFilter(none=v)),
        many.map(lambda v: TagFilter(all=v)),
    )


FILTERS = st.builds(
    MemoryFilter,
    namespace=st.none() | _tag(["a", "b", "zz"]),
    user_id=st.none() | _tag(["u1", "u2", "u3", "nobody"]),
    session_id=st.none() | _tag(["s1", "s2"]),
    agent_id=st.none() | _tag(["agent", "other"]),
    memory_type=st.none() | _tag(TYPES),
    include_superseded=st.booleans(),
    include_expired=st.booleans(),
)


@pytest.fixture
async def loaded(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "index.db", 384)
    await store.open()
    await store.upsert_memories(_records(300), [])
    return store


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(memory_filter=FILTERS)
async def test_the_index_selects_exactly_what_sql_selects(
    loaded: SQLiteStore, memory_filter: MemoryFilter
) -> None:
    assert index_scope(memory_filter) is memory_filter
    assert await _via_index(loaded, memory_filter) == await _via_sql(loaded, memory_filter)


def test_filters_the_index_cannot_answer_go_to_sql() -> None:
    assert index_scope(MemoryFilter(user_id=TagFilter(startswith="u"))) is None
    assert index_scope(MemoryFilter(topics=TagFilter(eq="x"))) is None
    assert index_scope(MemoryFilter(ids=["m1"])) is None


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    """Two stores on one file stand for two processes (server and `mnemo worker`)."""
    path = tmp_path / "shared.db"
    server, worker = SQLiteStore(path, 384), SQLiteStore(path, 384)
    await server.open()
    await worker.open()
    yield server, worker
    await server.close()
    await worker.close()


async def test_writes_by_another_process_reach_this_index(
    processes: tuple[SQLiteStore, SQLiteStore],
) -> None:
    server, worker = processes
    records = _records(40)
    await worker.upsert_memories(records, [])
    scope = MemoryFilter(namespace=TagFilter(eq="a"), include_superseded=True)
    assert await _via_index(server, scope) == await _via_sql(server, scope)  # first load

    victim = next(r.memory for r in records if r.memory.namespace == "a")
    moved = next(r.memory for r in records if r.memory.namespace == "a" and r.memory != victim)
    await worker.delete_memories("a", [victim.id], [])
    await worker.update_memory(
        moved.model_copy(
            update={"user_id": "u9", "status": MemoryStatus.ACTIVE, "expires_at": None}
        ),
        None,
        _event(moved),
    )
    await worker.upsert_memories(_records(5, seed=9, first=100), [])  # new rows too

    for memory_filter in (scope, MemoryFilter(user_id=TagFilter(eq="u9"))):
        assert await _via_index(server, memory_filter) == await _via_sql(server, memory_filter)
    assert victim.id not in await _via_index(server, scope)
    assert await _via_index(server, MemoryFilter(user_id=TagFilter(eq="u9"))) == {moved.id}


async def test_an_index_behind_a_pruned_change_log_rescans(
    processes: tuple[SQLiteStore, SQLiteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_index, "KEEP_CHANGES", 2)
    server, worker = processes
    records = _records(30)
    await worker.upsert_memories(records, [])
    everything = MemoryFilter(include_superseded=True, include_expired=True)
    assert len(await _via_index(server, everything)) == 30
    for record in records[:10]:  # ten changes, of which the log keeps two
        await worker.delete_memories(record.memory.namespace, [record.memory.id], [])
    assert await _via_index(server, everything) == {r.memory.id for r in records[10:]}


def _event(memory: Memory) -> MemoryEvent:
    return MemoryEvent(memory_id=memory.id, namespace=memory.namespace, event=EventKind.UPDATE)


QUERIES = st.sampled_from(["memory number 7", "number", "memories", "17 or 171", "nothing here"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(memory_filter=FILTERS, text=QUERIES, limit=st.sampled_from([5, 1000]))
async def test_small_scopes_match_keywords_exactly_as_the_full_text_index(
    loaded: SQLiteStore, memory_filter: MemoryFilter, text: str, limit: int
) -> None:
    """A scope the index answers reads its rows' terms itself; the FTS5 path must agree."""

    def both(conn: sqlite3.Connection) -> tuple[object, object]:
        where = compile_filter(memory_filter, loaded.dialect, NOW)
        scope = loaded._index.search_scope(memory_filter, NOW, None)  # noqa: SLF001
        rowids = scope.rowids.tolist()
        terms = query_terms(text)
        scoped = scoped_keyword_documents(conn, terms, rowids, limit)
        full = keyword_documents(conn, terms, where.render(), where.params, limit)
        return scoped, full

    await loaded.find_candidates(CandidateQuery(filter=memory_filter, now=NOW))  # syncs
    scoped, full = await loaded.db.read(both)
    assert scoped == full
