"""Seed one tenant's data through the real API: memories, an edit, a supersede, a session."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

FILLER_COUNT = 18  # with the memories below, more than one page of the list (20 a page)


@dataclass(frozen=True)
class Seeded:
    """Ids the browser tests look for."""

    edited_id: str  # PATCHed from window to aisle seats: an UPDATE in its history
    doomed_id: str  # deleted through the browser
    paris_id: str  # superseded by berlin_id through extraction
    berlin_id: str
    session_id: str


def _turns(*contents: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"]
    return [{"role": roles[i % 2], "content": c} for i, c in enumerate(contents)]


def seed_tenant(client: httpx.Client) -> Seeded:
    memories = [
        {"id": "pref-seat", "text": "Alice prefers window seats on long flights",
         "user_id": "alice", "topics": ["travel", "preferences"]},
        {"id": "pref-coffee", "text": "Alice drinks her coffee black", "user_id": "alice"},
        {"id": "bob-birthday", "text": "Bob celebrated his 40th birthday in Lisbon",
         "user_id": "bob", "memory_type": "episodic"},
        {"id": "deploy-steps", "text": "To deploy, run make release and then tag the commit",
         "user_id": "bob", "memory_type": "procedural"},
        {"id": "tmp-note", "text": "Temporary note: the wifi password is taped to the fridge",
         "user_id": "alice"},
    ] + [
        {"id": f"garden-{i:02d}", "text": f"Carol planted row {i} of the garden with tulips",
         "user_id": "carol"}
        for i in range(FILLER_COUNT)
    ]  # fmt: skip
    created = client.post("/v1/long-term-memory/", json={"memories": memories})
    assert created.status_code == 200, created.text
    edited = client.patch(
        "/v1/long-term-memory/pref-seat", json={"text": "Alice prefers aisle seats on long flights"}
    )
    assert edited.status_code == 200, edited.text
    first = _turns("I live in Paris.", "Paris is lovely!")
    second = first + _turns("I moved to Berlin last month.", "Welcome to Berlin.")
    for messages in (first, second):
        put = client.put(
            "/v1/working-memory/trip-1",
            params={"wait": "true"},
            json={"user_id": "alice", "messages": messages},
        )
        assert put.status_code == 200, put.text
    paris, berlin = _lives_in(client, "Paris"), _lives_in(client, "Berlin")
    assert paris["superseded_by"] == berlin["id"], (paris, berlin)
    return Seeded("pref-seat", "tmp-note", paris["id"], berlin["id"], "trip-1")


def _lives_in(client: httpx.Client, city: str) -> dict[str, str]:
    found = client.post(
        "/v1/long-term-memory/search",
        json={"text": f"lives in {city}", "include_superseded": True,
              "memory_type": {"ne": "message"}, "limit": 20},
    ).json()["memories"]  # fmt: skip
    matches = [m for m in found if city in m["text"] and m["memory_type"] != "message"]
    assert matches, found
    return dict(matches[0])
