"""Keyword search in a wide scope: a bounded probe, on both stores.

The stores read every keyword match of a narrow scope; in a wide one (a namespace of a
million memories) that is tens of thousands of rows per common word, so they read a probe
planned from term statistics (retrieval/keyword_probe.py). These tests fill a namespace
past the probing threshold (lowered from 10,000 rows to SCAN_LIMIT, so that the test is
quick) with texts of a small vocabulary (every word common) and a few rare ones, and check
what each store reads and estimates.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import EventKind, Memory, MemoryEvent, utcnow
from mnemo.retrieval.bm25 import keyword_signals
from mnemo.retrieval.text import query_terms
from mnemo.stores.base import CandidateQuery, Store, VectorRecord
from mnemo.stores.postgres import PostgresStore
from mnemo.stores.sqlite import SQLiteStore
from tests.contract.conftest import STORES, fresh_postgres_database

WORDS = [f"word{i}" for i in range(10)]  # each in ~1/3 of the rows
SCAN_LIMIT = 1_000
ROWS = 2_500
RARE_ROWS = range(1, ROWS, 400)  # the rows holding "zeppelin"
RARE = len(RARE_ROWS)
BUDGET = 100


@pytest.fixture(params=STORES)
async def wide(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with _store(request.param, tmp_path) as store:
        await store.open()
        try:
            await _fill(store)
            yield store
        finally:
            await store.close()


@asynccontextmanager
async def _store(name: str, tmp_path: Path) -> AsyncIterator[Store]:
    if name == "sqlite":
        yield SQLiteStore(tmp_path / "wide.db", 384, exact_scan_limit=SCAN_LIMIT)
        return
    async with fresh_postgres_database() as url:
        yield PostgresStore(url, 384, exact_scan_limit=SCAN_LIMIT)


async def _fill(store: Store) -> None:
    rng = random.Random(3)
    vectors = rng_vectors(ROWS)
    records = []
    for i in range(ROWS):
        words = rng.sample(WORDS, 3) + (["zeppelin"] if i in RARE_ROWS else [])
        memory = Memory(
            id=f"m{i:05d}", namespace="wide", user_id=f"u{i % 50}", text=" ".join(words)
        ).with_hash()
        records.append(VectorRecord(memory, vectors[i]))
    events = [
        MemoryEvent(memory_id=r.memory.id, namespace="wide", event=EventKind.ADD) for r in records
    ]
    await store.upsert_memories(records, events)
    if isinstance(store, PostgresStore):  # the statistics autovacuum would gather in time
        async with store.db.connection() as conn:
            await conn.execute("ANALYZE memories")


def rng_vectors(n: int) -> np.ndarray:
    vectors = np.random.default_rng(5).standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def query(text: str, user: str | None = None) -> CandidateQuery:
    scope = MemoryFilter(
        namespace=TagFilter(eq="wide"), user_id=TagFilter(eq=user) if user else None
    )
    return CandidateQuery(scope, utcnow(), text=text, keyword_probe_budget=BUDGET)


def holding(found: dict[tuple[str, str], object], *terms: str) -> bool:
    return all(set(terms) <= set(doc.terms.split()) for doc in found.values())  # type: ignore[attr-defined]


async def test_a_rare_term_is_read_whole_beside_a_common_one(wide: Store) -> None:
    found = await wide.find_candidates(query("zeppelin word1"))
    assert len(found.keyword) == RARE and holding(found.keyword, "zeppelin")
    assert found.document_frequencies is not None
    # Estimated, not counted from the probe: word1 is in about a third of the rows.
    assert ROWS * 0.2 < found.document_frequencies["word1"] < ROWS * 0.5
    assert found.document_frequencies["zeppelin"] < BUDGET
    assert found.keyword_total is not None and found.keyword_total > ROWS * 0.2
    own, _ = keyword_signals(
        query_terms("zeppelin word1"), found.keyword, found.total,
        document_frequencies=found.document_frequencies,
    )  # fmt: skip
    best = max(own, key=lambda k: own[k])
    assert "zeppelin" in found.keyword[best].terms and "word1" in found.keyword[best].terms


async def test_common_terms_only_are_read_as_rows_holding_all_of_them(wide: Store) -> None:
    found = await wide.find_candidates(query("word2 word3"))
    assert 0 < len(found.keyword) <= BUDGET
    assert holding(found.keyword, "word2", "word3")
    assert found.keyword_total is not None and found.keyword_total > len(found.keyword)


async def test_a_narrow_scope_still_reads_every_match_exactly(wide: Store) -> None:
    found = await wide.find_candidates(query("word2 word3", user="u7"))
    assert found.document_frequencies is None and found.keyword_total is None
    every = await wide.find_candidates(
        CandidateQuery(query("", user="u7").filter, utcnow(), text="word2 word3")
    )
    assert found.keyword == every.keyword
    assert any("word2" not in doc.terms.split() for doc in found.keyword.values())


async def test_a_hybrid_query_finds_what_its_two_halves_find_apart(wide: Store) -> None:
    scope = query("", user="u7").filter
    vector = rng_vectors(ROWS)[7]
    both = await wide.find_candidates(CandidateQuery(scope, utcnow(), vector, "word2 zeppelin"))
    words = await wide.find_candidates(CandidateQuery(scope, utcnow(), text="word2 zeppelin"))
    nearest = await wide.find_candidates(CandidateQuery(scope, utcnow(), vector))
    assert both.keyword == words.keyword and both.keyword
    assert both.vector.keys() == nearest.vector.keys() and both.vector
    assert all(abs(both.vector[k] - nearest.vector[k]) < 1e-6 for k in both.vector)
    assert both.total == nearest.total
