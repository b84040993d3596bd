"""The Store contract for index terms and context windows, identical on every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import MemoryType, utcnow
from mnemo.retrieval.bm25 import TermDocument
from mnemo.stores.base import CandidateQuery, ContextUpdate, Store, VectorRecord, VectorUpdate
from mnemo.stores.postgres import PostgresStore
from mnemo.stores.sqlite import SQLiteStore

Make = Callable[..., VectorRecord]
SCOPE = MemoryFilter(namespace=TagFilter(eq="ns"))
MAY_8 = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)


async def keyword(store: Store, text: str) -> dict[tuple[str, str], TermDocument]:
    return (await store.find_candidates(CandidateQuery(SCOPE, utcnow(), text=text))).keyword


def unit(seed: int) -> np.ndarray:  # type: ignore[type-arg]
    vector = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return vector / np.linalg.norm(vector)


async def turns(store: Store, record: Make) -> None:
    await store.upsert_memories(
        [
            record("Caroline: what made you try it?", id="t1", memory_type=MemoryType.MESSAGE,
                   created_at=MAY_8),
            record("Melanie: it is like therapy", id="t2", memory_type=MemoryType.MESSAGE,
                   created_at=MAY_8),
            record("Melanie signed up for a pottery class", id="fact"),
        ],
        [],
    )  # fmt: skip


async def test_keyword_matches_carry_stored_terms_with_the_date_of_messages(
    store: Store, record: Make
) -> None:
    await turns(store, record)
    found = await keyword(store, "When did Melanie say it was therapy?")
    assert found[("ns", "t2")] == TermDocument("may 2023 melani lik therapy")
    assert found.keys() == {("ns", "t2"), ("ns", "fact")}  # "melani" in both
    assert (await keyword(store, "May 2023")).keys() == {("ns", "t1"), ("ns", "t2")}


async def test_a_context_window_is_matched_described_and_kept_to_messages(
    store: Store, record: Make
) -> None:
    await turns(store, record)
    window = "On 8 May 2023: Caroline: what made you try pottery? Melanie: it is like therapy"
    written = await store.set_contexts(
        [
            ContextUpdate("ns", "t2", window, unit(1), ("t1",)),
            ContextUpdate("ns", "fact", window, unit(1), ()),  # not a message: left alone
            ContextUpdate("ns", "gone", window, unit(1), ()),
        ]
    )
    assert written == 1
    found = await keyword(store, "pottery")
    assert found.keys() == {("ns", "t2"), ("ns", "fact")}
    assert "pottery" in (found[("ns", "t2")].context_terms or "").split()
    assert found[("ns", "fact")].context_terms is None
    details = await store.describe_candidates([("ns", "t2"), ("ns", "fact")], unit(1))
    assert details[("ns", "t2")].context_similarity == pytest.approx(1.0, abs=1e-5)
    assert details[("ns", "t2")].neighbour_ids == ("t1",)
    assert details[("ns", "fact")].context_similarity is None
    assert details[("ns", "fact")].neighbour_ids == ()
    no_vector = await store.describe_candidates([("ns", "t2")], None)
    assert no_vector[("ns", "t2")].similarity is None
    assert no_vector[("ns", "t2")].neighbour_ids == ("t1",)


async def test_a_new_text_or_embedding_drops_the_context(store: Store, record: Make) -> None:
    await turns(store, record)
    window = "On 8 May 2023: pottery"
    await store.set_contexts([ContextUpdate("ns", "t1", window, unit(2), ("t2",))])
    await store.set_contexts([ContextUpdate("ns", "t2", window, unit(2), ("t1",))])
    [t1] = await store.get_memories("ns", ["t1"])
    await store.replace_vectors([VectorUpdate("ns", "t1", t1.content_hash, unit(3))])
    await store.upsert_memories(
        [record("Melanie: it is art", id="t2", memory_type=MemoryType.MESSAGE, created_at=MAY_8)],
        [],
    )
    details = await store.describe_candidates([("ns", "t1"), ("ns", "t2")], unit(2))
    assert details[("ns", "t1")].context_similarity is None  # re-embedded: vector dropped
    assert details[("ns", "t2")].context_similarity is None  # overwritten: window dropped
    assert details[("ns", "t2")].neighbour_ids == ()
    assert (await keyword(store, "pottery")).keys() == {("ns", "t1"), ("ns", "fact")}


async def forget_terms(store: Store) -> Store:
    """Make the rows look like rows written before the index-terms migration; returns a
    second store on the same database, not yet opened."""
    if isinstance(store, SQLiteStore):
        await store.db.write(lambda conn: conn.execute("UPDATE memories SET terms = NULL"))
        return SQLiteStore(store.db.path, 384)
    assert isinstance(store, PostgresStore)
    async with store.db.connection() as conn:
        await conn.execute("UPDATE memories SET terms = NULL")
    return PostgresStore(store.db._url, 384)


async def test_terms_of_older_rows_are_backfilled_on_open(store: Store, record: Make) -> None:
    await turns(store, record)
    again = await forget_terms(store)
    assert await keyword(store, "therapy") == {}
    await again.open()
    try:
        assert (await keyword(again, "therapy")).keys() == {("ns", "t2")}
    finally:
        await again.close()
