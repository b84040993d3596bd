"""Seed 001's published Python client, unchanged, against `mnemo serve` in its own process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from agent_memory_client import MemoryAPIClient, MemoryClientConfig
from agent_memory_client.filters import CreatedAt, MemoryType, Namespace, Topics, UserId
from agent_memory_client.models import ClientMemoryRecord, MemoryMessage, WorkingMemory

from tests.helpers.servers import serve_in_subprocess


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_in_subprocess(Path(tmp_path_factory.mktemp("amc"))) as url:
        yield url


@pytest.fixture
async def amc(live_url: str) -> AsyncIterator[MemoryAPIClient]:
    client = MemoryAPIClient(MemoryClientConfig(base_url=live_url, default_namespace="amc"))
    # The client has no API-key option; the key is the only thing added to it.
    client._client.headers["X-API-Key"] = "dev-key-12345"
    try:
        yield client
    finally:
        await client.close()


async def test_health(amc: MemoryAPIClient) -> None:
    assert (await amc.health_check()).now > 0


async def test_create_and_search_long_term_memories(amc: MemoryAPIClient) -> None:
    ack = await amc.create_long_term_memory([
        ClientMemoryRecord(text="User prefers dark mode interface", memory_type="semantic",
                           topics=["preferences", "ui"], entities=["dark_mode"], user_id="amc-u1"),
        ClientMemoryRecord(text="User mentioned they work late nights frequently",
                           memory_type="episodic", topics=["work_habits"], user_id="amc-u1"),
        ClientMemoryRecord(text="Another user likes light mode", user_id="amc-u2",
                           topics=["preferences", "ui"]),
    ])  # fmt: skip
    assert ack.status == "ok"
    results = await amc.search_long_term_memory(
        text="what interface theme does the user like?",
        user_id=UserId(eq="amc-u1"),
        topics=Topics(any=["ui"]),
        limit=5,
    )
    assert results.total == 1
    assert results.memories[0].text == "User prefers dark mode interface"
    assert results.memories[0].dist < 1.0

    episodic = await amc.search_long_term_memory(
        text="work schedule", namespace=Namespace(eq="amc"), memory_type=MemoryType(eq="episodic")
    )
    assert [m.text for m in episodic.memories] == [
        "User mentioned they work late nights frequently"
    ]

    none_in_future = await amc.search_long_term_memory(
        text="mode", created_at=CreatedAt(gte=datetime(2100, 1, 1, tzinfo=UTC))
    )
    assert none_in_future.total == 0 and none_in_future.memories == []

    other_users = await amc.search_long_term_memory(
        text="mode", user_id=UserId(not_in=["amc-u1"]), topics=Topics(none=["work_habits"])
    )
    assert [m.user_id for m in other_users.memories] == ["amc-u2"]


async def test_get_edit_delete_long_term_memory(amc: MemoryAPIClient) -> None:
    record = ClientMemoryRecord(text="User's favourite city is Kyoto", user_id="amc-u3")
    await amc.create_long_term_memory([record])
    fetched = await amc.get_long_term_memory(record.id)
    assert fetched.text == "User's favourite city is Kyoto"
    edited = await amc.edit_long_term_memory(record.id, {"text": "User's favourite city is Osaka"})
    assert edited.text == "User's favourite city is Osaka"
    ack = await amc.delete_long_term_memories([record.id])
    assert "deleted 1" in ack.status


async def test_put_get_delete_working_memory(amc: MemoryAPIClient) -> None:
    memory = WorkingMemory(
        session_id="amc-session",
        user_id="amc-u4",
        context="The user is planning a trip",
        data={"destination": "Lisbon"},
        messages=[
            MemoryMessage(role="user", content="Book me a window seat to Lisbon"),
            MemoryMessage(role="assistant", content="Sure, looking for window seats"),
        ],
    )
    stored = await amc.put_working_memory("amc-session", memory, user_id="amc-u4")
    assert len(stored.messages) == 2 and stored.namespace == "amc"
    with pytest.warns(DeprecationWarning):  # the client deprecates its own getter
        created, got = await amc.get_or_create_working_memory(
            "amc-session", user_id="amc-u4", namespace="amc"
        )
    assert created is False
    assert got.context == "The user is planning a trip" and got.data == {"destination": "Lisbon"}
    assert [m.content for m in got.messages][0] == "Book me a window seat to Lisbon"
    sessions = await amc.list_sessions(namespace="amc")
    assert "amc-session" in sessions.sessions
    turns = await amc.search_long_term_memory(
        text="window seat", memory_type=MemoryType(eq="message")
    )
    assert turns.memories[0].memory_type.value == "message"
    await amc.delete_working_memory("amc-session", namespace="amc")
    assert "amc-session" not in (await amc.list_sessions(namespace="amc")).sessions
    with pytest.warns(DeprecationWarning):
        created, fresh = await amc.get_or_create_working_memory("amc-new", namespace="amc")
    assert created is True and fresh.messages == []


async def test_memory_prompt(amc: MemoryAPIClient) -> None:
    await amc.create_long_term_memory(
        [
            ClientMemoryRecord(
                text="User is allergic to shellfish", user_id="amc-u5", topics=["health"]
            )
        ]
    )
    await amc.put_working_memory(
        "amc-prompt",
        WorkingMemory(session_id="amc-prompt", user_id="amc-u5",
                      messages=[MemoryMessage(role="user", content="I'm at a seafood restaurant")]),
    )  # fmt: skip
    prompt = await amc.memory_prompt(
        query="What should I order?",
        session_id="amc-prompt",
        long_term_search={"text": "food allergies", "user_id": {"eq": "amc-u5"}, "limit": 3},
    )
    contents = [m["content"] for m in prompt["messages"]]
    assert "I'm at a seafood restaurant" in contents
    assert any("User is allergic to shellfish" in c for c in contents)
    assert prompt["messages"][-1] == {"role": "user", "content": "What should I order?"}
