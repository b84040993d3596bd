"""Long-term memories through both clients: create, search, get, edit, history, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo_client import AsyncClient, Client, MemoryNotFoundError, NewMemory

PREFERENCES = [
    {"id": "seat", "text": "Alice prefers window seats on planes", "user_id": "alice",
     "topics": ["travel", "preferences"]},
    {"id": "tea", "text": "Alice drinks green tea every morning", "user_id": "alice",
     "topics": ["food"]},
    {"id": "bob", "text": "Bob prefers aisle seats", "user_id": "bob", "topics": ["travel"]},
]  # fmt: skip


def test_created_memories_are_found_by_meaning_and_filters(client: Client) -> None:
    assert client.memories.create(PREFERENCES).status == "ok"
    found = client.memories.search("where does she like to sit on a flight", user_id="alice")
    assert found.memories[0].id == "seat"
    assert {m.user_id for m in found.memories} == {"alice"}
    assert found.memories[0].score > 0 and 0 <= found.memories[0].dist <= 2
    by_topic = client.memories.search("", topics=["travel"])
    assert {m.id for m in by_topic.memories} == {"seat", "bob"}
    excluded = client.memories.search("", topics={"none": ["travel"]})
    assert [m.id for m in excluded.memories] == ["tea"]


def test_models_and_dicts_are_both_accepted(client: Client) -> None:
    when = datetime(2025, 6, 3, tzinfo=UTC)
    trip = NewMemory(
        id="trip", text="Alice flies to Lisbon", event_date=when, memory_type="episodic"
    )
    client.memories.create([trip])
    memory = client.memories.get("trip")
    assert memory.event_date == when and memory.memory_type == "episodic"
    assert memory.namespace == "default" and memory.status == "active"


def test_edit_is_kept_in_the_history(client: Client) -> None:
    client.memories.create(PREFERENCES[:1])
    edited = client.memories.edit("seat", text="Alice prefers aisle seats", pinned=True)
    assert edited.text == "Alice prefers aisle seats" and edited.pinned
    assert client.memories.get("seat").topics == ["travel", "preferences"]  # untouched
    history = client.memories.history("seat")
    assert [e.event for e in history.events] == ["ADD", "UPDATE"]
    assert history.events[1].old_text == "Alice prefers window seats on planes"
    assert history.memory is not None and history.memory.pinned


def test_deleted_memories_are_not_found(client: Client) -> None:
    client.memories.create(PREFERENCES)
    assert client.memories.delete(["seat", "tea"]).status == "ok, deleted 2 memories"
    with pytest.raises(MemoryNotFoundError) as caught:
        client.memories.get("seat")
    assert caught.value.status_code == 404
    assert caught.value.message == "Memory with ID 'seat' not found"
    assert [m.id for m in client.memories.search("").memories] == ["bob"]


def test_ids_with_reserved_characters_address_one_memory(client: Client) -> None:
    odd = "notes 2025?x=1#top&%"
    client.memories.create([{"id": odd, "text": "A memory with an odd id"}])
    assert client.memories.get(odd).text == "A memory with an odd id"
    assert client.memories.history(odd).events[0].memory_id == odd


async def test_the_async_client_does_the_same(aclient: AsyncClient) -> None:
    await aclient.memories.create(PREFERENCES)
    found = await aclient.memories.search("green tea", user_id="alice", limit=1)
    assert [m.id for m in found.memories] == ["tea"] and found.next_offset == 1
    edited = await aclient.memories.edit("tea", topics=["food", "drinks"])
    assert edited.topics == ["food", "drinks"]
    history = await aclient.memories.history("tea")
    assert [e.event for e in history.events] == ["ADD", "UPDATE"]
    await aclient.memories.delete("tea")
    with pytest.raises(MemoryNotFoundError):
        await aclient.memories.get("tea")
