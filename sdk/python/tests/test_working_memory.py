"""Working memory through both clients: put, get, list, delete, and what a put sets off."""

from __future__ import annotations

import pytest

from mnemo_client import AsyncClient, Client, Message, SessionNotFoundError

TURNS = [
    {"role": "user", "content": "I am flying to Lisbon on 3 June", "id": "t1",
     "created_at": "2025-05-20T09:00:00Z"},
    {"role": "assistant", "content": "Noted, enjoy Lisbon!", "id": "t2",
     "created_at": "2025-05-20T09:00:02Z"},
]  # fmt: skip


def test_put_then_get_returns_the_session(client: Client) -> None:
    put = client.working_memory.put(
        "trip-1", messages=TURNS, user_id="alice", context="planning a trip", data={"k": 1}
    )
    assert put.session_id == "trip-1" and put.user_id == "alice" and put.tokens > 0
    got = client.working_memory.get("trip-1")
    assert [m.content for m in got.messages] == [t["content"] for t in TURNS]
    assert got.context == "planning a trip" and got.data == {"k": 1}
    assert got.messages[0].created_at is not None and got.messages[0].id == "t1"


def test_turns_put_are_searchable_at_once(client: Client) -> None:
    client.working_memory.put("trip-1", messages=TURNS, user_id="alice")
    found = client.memories.search("Lisbon flight", user_id="alice", memory_type="message")
    assert "I am flying to Lisbon on 3 June" in [m.text for m in found.memories]


def test_fetched_messages_can_be_put_back_with_a_new_turn(client: Client) -> None:
    client.working_memory.put("s", messages=TURNS)
    session = client.working_memory.get("s")
    turns = [*session.messages, Message(role="user", content="And back on 10 June")]
    again = client.working_memory.put("s", messages=turns)
    assert [m.id for m in again.messages][:2] == ["t1", "t2"] and len(again.messages) == 3


def test_list_and_delete(client: Client) -> None:
    for name in ("a", "b"):
        client.working_memory.put(name, messages=TURNS[:1], user_id="u")
    page = client.working_memory.list(user_id="u")
    assert sorted(page.sessions) == ["a", "b"] and page.total == 2
    assert client.working_memory.delete("a").status == "ok"
    assert client.working_memory.list().sessions == ["b"]
    with pytest.raises(SessionNotFoundError) as caught:
        client.working_memory.get("a")
    assert caught.value.message == "Session a not found"


async def test_the_async_client_does_the_same(aclient: AsyncClient) -> None:
    await aclient.working_memory.put("x", messages=TURNS, user_id="carol")
    session = await aclient.working_memory.get("x", recent_messages_limit=1)
    assert [m.content for m in session.messages] == ["Noted, enjoy Lisbon!"]
    assert (await aclient.working_memory.list()).sessions == ["x"]
    await aclient.working_memory.delete("x")
    with pytest.raises(SessionNotFoundError):
        await aclient.working_memory.get("x")
