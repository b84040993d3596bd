"""The Store contract: what every store must do, identically."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mnemo.errors import EmbeddingModelMismatchError
from mnemo.filters import MemoryFilter, NumberFilter, TagFilter
from mnemo.models import ApiKey, EventKind, MemoryEvent, MemoryStatus, Message, Session, utcnow
from mnemo.stores.base import CandidateQuery, Store, VectorRecord

Make = Callable[..., VectorRecord]


def ns(name: str = "ns") -> MemoryFilter:
    return MemoryFilter(namespace=TagFilter(eq=name))


def add_event(r: VectorRecord) -> MemoryEvent:
    return MemoryEvent(
        memory_id=r.memory.id,
        namespace=r.memory.namespace,
        event=EventKind.ADD,
        new_text=r.memory.text,
    )


async def add(store: Store, *records: VectorRecord) -> None:
    await store.upsert_memories(records, [add_event(r) for r in records])


async def test_upsert_get_and_overwrite(store: Store, record: Make) -> None:
    first = record("User lives in Paris", id="m1", user_id="u", topics=["location"])
    await add(store, first)
    [got] = await store.get_memories("ns", ["m1"])
    assert got.text == "User lives in Paris" and got.topics == ["location"] and got.user_id == "u"
    await add(store, record("User lives in Rome", id="m1", user_id="u"))
    [again] = await store.get_memories("ns", ["m1"])
    assert again.text == "User lives in Rome"
    assert await store.get_memories("other", ["m1"]) == []
    assert [m.namespace for m in await store.get_memories(None, ["m1"])] == ["ns"]


async def test_same_id_in_two_namespaces_are_two_memories(store: Store, record: Make) -> None:
    await add(
        store, record("alpha", id="same", namespace="a"), record("beta", id="same", namespace="b")
    )
    assert (await store.get_memories("a", ["same"]))[0].text == "alpha"
    assert (await store.get_memories("b", ["same"]))[0].text == "beta"


async def test_vector_candidates_rank_by_meaning(store: Store, record: Make, embedder) -> None:  # type: ignore[no-untyped-def]
    await add(
        store,
        record("The cat sleeps on the sofa", id="cat"),
        record("Stock prices fell sharply", id="stock"),
    )
    query = embedder.embed(["Where does the kitten nap?"])[0]
    found = await store.find_candidates(CandidateQuery(ns(), utcnow(), vector=query))
    assert found.total == 2
    assert max(found.vector, key=found.vector.__getitem__) == ("ns", "cat")


async def test_keyword_candidates_use_stemmed_terms(store: Store, record: Make) -> None:
    await add(
        store, record("She was running marathons in Berlin", id="run"), record("Tea time", id="tea")
    )
    found = await store.find_candidates(CandidateQuery(ns(), utcnow(), text="who runs a marathon?"))
    assert list(found.keyword) == [("ns", "run")]


async def test_keyword_hits_are_described_with_their_similarity(
    store: Store,
    record: Make,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    await add(store, *(record(f"filler sentence number {i}", id=f"f{i}") for i in range(30)))
    await add(store, record("zebra crossing", id="z"))
    q = embedder.embed(["filler sentence"])[0]
    found = await store.find_candidates(
        CandidateQuery(ns(), utcnow(), vector=q, text="zebra", vector_limit=3)
    )
    assert ("ns", "z") in found.keyword and ("ns", "z") not in found.vector
    details = await store.describe_candidates([("ns", "z"), ("ns", "nope")], q)
    assert list(details) == [("ns", "z")]
    expected = float(embedder.embed(["zebra crossing"])[0] @ q)
    assert details[("ns", "z")].similarity == pytest.approx(expected, abs=1e-5)
    assert details[("ns", "z")].context_similarity is None


@pytest.mark.parametrize(
    ("memory_filter", "expected"),
    [
        (MemoryFilter(user_id=TagFilter(eq="u1")), {"a", "b"}),
        (MemoryFilter(user_id=TagFilter(ne="u1")), {"c", "d"}),
        (MemoryFilter(user_id=TagFilter(any=["u2", "u3"])), {"c"}),
        (MemoryFilter(user_id=TagFilter(startswith="u")), {"a", "b", "c"}),
        (MemoryFilter(session_id=TagFilter(none=["s1"])), {"b", "c", "d"}),
        (MemoryFilter(topics=TagFilter(any=["food", "x"])), {"a", "c"}),
        (MemoryFilter(topics=TagFilter(all=["food", "travel"])), {"a"}),
        (MemoryFilter(topics=TagFilter(eq="travel")), {"a", "b"}),
        (MemoryFilter(topics=TagFilter(none=["travel"])), {"c", "d"}),
        (MemoryFilter(entities=TagFilter(eq="Rome")), {"b"}),
        (MemoryFilter(memory_type=TagFilter(eq="episodic")), {"d"}),
        (MemoryFilter(importance=NumberFilter(gte=0.7)), {"a", "d"}),
        (MemoryFilter(importance=NumberFilter(between=(0.2, 0.6))), {"b", "c"}),
        (
            MemoryFilter(created_at=NumberFilter(lt=datetime(2024, 1, 1, tzinfo=UTC).timestamp())),
            {"a"},
        ),
        (MemoryFilter(metadata={"source": "chat"}), {"b"}),
        (MemoryFilter(metadata={"n": 3}), {"c"}),
        (MemoryFilter(ids=["a", "d", "zz"]), {"a", "d"}),
    ],
)
async def test_filters(
    store: Store, record: Make, memory_filter: MemoryFilter, expected: set[str]
) -> None:
    old = datetime(2023, 6, 1, tzinfo=UTC)
    await add(
        store,
        record(
            "a",
            id="a",
            user_id="u1",
            session_id="s1",
            topics=["food", "travel"],
            importance=0.9,
            created_at=old,
        ),
        record(
            "b",
            id="b",
            user_id="u1",
            topics=["travel"],
            entities=["Rome"],
            importance=0.5,
            metadata={"source": "chat"},
        ),
        record("c", id="c", user_id="u2", topics=["food"], importance=0.3, metadata={"n": 3}),
        record("d", id="d", memory_type="episodic", importance=0.8),
    )
    page = await store.list_memories(memory_filter, utcnow(), limit=10, offset=0)
    assert {m.id for m in page.items} == expected and page.total == len(expected)


async def test_superseded_and_expired_are_hidden_unless_asked(store: Store, record: Make) -> None:
    now = utcnow()
    await add(
        store,
        record("live", id="live"),
        record("old", id="old", status=MemoryStatus.SUPERSEDED, superseded_by="live"),
        record("gone", id="gone", expires_at=now - timedelta(seconds=1)),
    )
    visible = await store.list_memories(MemoryFilter(), now, 10, 0)
    assert [m.id for m in visible.items] == ["live"]
    everything = MemoryFilter(include_superseded=True, include_expired=True)
    assert (await store.list_memories(everything, now, 10, 0)).total == 3


async def test_list_pages_newest_first_with_total(store: Store, record: Make) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    await add(
        store, *(record(f"m{i}", id=f"m{i}", created_at=base + timedelta(days=i)) for i in range(5))
    )
    page = await store.list_memories(MemoryFilter(), utcnow(), limit=2, offset=1)
    assert [m.id for m in page.items] == ["m3", "m2"] and page.total == 5


async def test_update_delete_and_history(store: Store, record: Make) -> None:
    r = record("User lives in Paris", id="h")
    await add(store, r)
    changed = r.memory.model_copy(update={"text": "User lives in Berlin"})
    new_vector = record("User lives in Berlin").vector
    await store.update_memory(
        changed,
        new_vector,
        MemoryEvent(
            memory_id="h",
            namespace="ns",
            event=EventKind.UPDATE,
            old_text="User lives in Paris",
            new_text="User lives in Berlin",
        ),
    )
    found = await store.find_candidates(
        CandidateQuery(ns(), utcnow(), vector=new_vector, text="Berlin")
    )
    assert (
        found.vector[("ns", "h")] == pytest.approx(1.0, abs=1e-5) and ("ns", "h") in found.keyword
    )
    assert await store.delete_memories(
        "ns", ["h", "missing"], [MemoryEvent(memory_id="h", namespace="ns", event=EventKind.DELETE)]
    ) == ["h"]
    assert await store.get_memories("ns", ["h"]) == []
    assert [e.event for e in await store.history("ns", "h")] == [
        EventKind.ADD,
        EventKind.UPDATE,
        EventKind.DELETE,
    ]


async def test_touch_records_access(store: Store, record: Make) -> None:
    r = record("touch me", id="t")
    await add(store, r)
    later = utcnow() + timedelta(hours=1)
    await store.touch_memories([("ns", "t")], later)
    [m] = await store.get_memories("ns", ["t"])
    assert m.access_count == 1 and m.last_accessed_at == pytest.approx(
        later, abs=timedelta(milliseconds=1)
    )


async def test_sessions_round_trip_and_index_messages(store: Store, record: Make) -> None:
    session = Session(
        session_id="s",
        namespace="ns",
        user_id="u",
        context="summary",
        messages=[Message(id="m1", role="user", content="hello there")],
    )
    await store.save_session(
        session, [record("hello there", id="m1", user_id="u", memory_type="message")]
    )
    got = await store.get_session("ns", "s")
    assert got is not None and got.context == "summary" and [m.id for m in got.messages] == ["m1"]
    assert (await store.get_memories("ns", ["m1"]))[0].memory_type == "message"
    assert (await store.list_sessions("ns", "u", 10, 0)).items == ["s"]
    assert (await store.list_sessions("other", None, 10, 0)).total == 0
    assert await store.delete_session("ns", "s") and await store.get_session("ns", "s") is None


async def test_api_keys(store: Store) -> None:
    key = ApiKey(prefix="mnemo_abc", key_hash="h" * 64, namespace="ns")
    await store.add_api_key(key)
    found = await store.find_api_key("h" * 64)
    assert found is not None and found.namespace == "ns"
    assert await store.revoke_api_key(key.id, utcnow())
    revoked = await store.find_api_key("h" * 64)
    assert revoked is not None and revoked.revoked_at is not None
    assert not await store.revoke_api_key(key.id, utcnow())


async def test_embedding_model_is_pinned(store: Store) -> None:
    await store.ensure_embedding_model("model-a", 384)
    await store.ensure_embedding_model("model-a", 384)
    with pytest.raises(EmbeddingModelMismatchError):
        await store.ensure_embedding_model("model-b", 384)


async def test_concurrent_writers_lose_nothing(store: Store, record: Make) -> None:
    records = [record(f"memory {i}", id=f"c{i}") for i in range(40)]
    await asyncio.gather(*(add(store, r) for r in records))
    assert (await store.list_memories(MemoryFilter(), utcnow(), 100, 0)).total == 40
