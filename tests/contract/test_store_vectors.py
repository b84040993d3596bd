"""The Store contract for embedding maintenance: read vectors, rewrite them, re-pin the model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from mnemo.errors import EmbeddingModelMismatchError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import EventKind, MemoryEvent, utcnow
from mnemo.stores.base import CandidateQuery, Store, VectorRecord, VectorUpdate
from mnemo.stores.postgres import PostgresStore

Make = Callable[..., VectorRecord]


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return vector / np.linalg.norm(vector)


async def add(store: Store, *records: VectorRecord) -> None:
    events = [
        MemoryEvent(memory_id=r.memory.id, namespace="ns", event=EventKind.ADD) for r in records
    ]
    await store.upsert_memories(records, events)


async def test_get_vectors_returns_the_stored_embeddings(store: Store, record: Make) -> None:
    a, b = record("Alice likes tea", id="a"), record("Bob likes coffee", id="b")
    await add(store, a, b)
    found = await store.get_vectors("ns", ["a", "b", "missing"])
    assert sorted(found) == ["a", "b"]
    np.testing.assert_allclose(found["a"], a.vector, atol=1e-6)
    np.testing.assert_allclose(found["b"], b.vector, atol=1e-6)
    assert await store.get_vectors("other", ["a"]) == {}


async def test_replace_vectors_keeps_fields_and_skips_edited_texts(
    store: Store, record: Make
) -> None:
    a = record("Alice likes tea", id="a", topics=["drinks"], user_id="alice")
    b = record("Bob likes coffee", id="b")
    await add(store, a, b)
    changed = await store.replace_vectors(
        [
            VectorUpdate("ns", "a", a.memory.content_hash, unit(1)),
            VectorUpdate("ns", "b", "not-the-current-hash", unit(2)),  # edited meanwhile
            VectorUpdate("ns", "missing", "x", unit(3)),
        ]
    )
    assert changed == 1
    found = await store.get_vectors("ns", ["a", "b"])
    np.testing.assert_allclose(found["a"], unit(1), atol=1e-6)
    np.testing.assert_allclose(found["b"], b.vector, atol=1e-6)
    [kept] = await store.get_memories("ns", ["a"])
    assert kept.model_dump(exclude={"last_accessed_at"}) == a.memory.model_dump(
        exclude={"last_accessed_at"}
    )
    only_a = MemoryFilter(namespace=TagFilter(eq="ns"), ids=["a"])
    hits = await store.find_candidates(CandidateQuery(only_a, utcnow(), vector=unit(1)))
    assert hits.vector[("ns", "a")] == pytest.approx(1.0, abs=1e-5)


async def test_pin_embedding_model_replaces_the_pinned_model(store: Store) -> None:
    await store.ensure_embedding_model("model-a", 384)
    await store.pin_embedding_model("model-b", 384)
    await store.ensure_embedding_model("model-b", 384)
    with pytest.raises(EmbeddingModelMismatchError):
        await store.ensure_embedding_model("model-a", 384)


async def test_postgres_refuses_to_pin_another_dimension(postgres_url: str) -> None:
    """The vector column's dimension is PostgreSQL's own: a new model must keep it."""
    store = PostgresStore(postgres_url, 384)
    await store.open()
    try:
        await store.ensure_embedding_model("model-a", 384)
        with pytest.raises(EmbeddingModelMismatchError, match="keeps the dimension"):
            await store.pin_embedding_model("model-b", 768)
        await store.ensure_embedding_model("model-a", 384)
    finally:
        await store.close()
