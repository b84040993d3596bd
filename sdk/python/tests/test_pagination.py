"""Auto-pagination follows the server's pages to the end, never stopping after the first."""

from __future__ import annotations

import pytest
from scripted_server import Reply, scripted

from mnemo_client import AsyncClient, Client, UnexpectedResponseError


def make_memories(client: Client, count: int) -> set[str]:
    memories = [
        {"id": f"m{i:02}", "text": f"Fact number {i} about the garden", "user_id": "gardener"}
        for i in range(count)
    ]
    client.memories.create(memories, deduplicate=False)
    return {m["id"] for m in memories}


def test_iter_search_walks_every_page_of_a_search(client: Client) -> None:
    ids = make_memories(client, 25)
    first = client.memories.search("garden", user_id="gardener", limit=10)
    assert len(first.memories) == 10 and first.next_offset == 10 and first.total == 25
    found = [m.id for m in client.memories.iter_search("garden", user_id="gardener", limit=10)]
    assert len(found) == 25 and set(found) == ids  # three pages, no repeats


def test_iter_search_of_a_listing_starts_at_the_offset_given(client: Client) -> None:
    make_memories(client, 12)
    listed = list(client.memories.iter_search(user_id="gardener", limit=5, offset=4))
    assert len(listed) == 8  # pages at 4, 9


def test_iter_sessions_walks_offset_and_total(client: Client) -> None:
    names = [f"s{i}" for i in range(7)]
    for name in names:
        client.working_memory.put(name, messages=[{"role": "user", "content": name}])
    assert len(client.working_memory.list(limit=3).sessions) == 3
    assert sorted(client.working_memory.iter_sessions(limit=3)) == names  # 3 + 3 + 1


async def test_async_iterators_walk_every_page(client: Client, aclient: AsyncClient) -> None:
    ids = make_memories(client, 23)
    found = [m.id async for m in aclient.memories.iter_search("garden", limit=10)]
    assert len(found) == 23 and set(found) == ids
    for i in range(5):
        await aclient.working_memory.put(f"a{i}", messages=[{"role": "user", "content": "hi"}])
    assert len([s async for s in aclient.working_memory.iter_sessions(limit=2)]) == 5


def test_a_listing_that_does_not_advance_is_an_error_not_a_loop() -> None:
    stuck = Reply(200, {"memories": [{"id": "a", "text": "a"}], "total": 9, "next_offset": 0})
    with (
        scripted(stuck) as server,
        Client(server.url) as client,
        pytest.raises(UnexpectedResponseError, match="did not advance"),
    ):
        list(client.memories.iter_search("a"))
    assert len(server.requests) == 1


def test_an_answer_of_the_wrong_shape_is_reported() -> None:
    with (
        scripted(Reply(200, {"sessions": "not a list"})) as server,
        Client(server.url) as client,
        pytest.raises(UnexpectedResponseError, match="cannot read"),
    ):
        client.working_memory.list()
