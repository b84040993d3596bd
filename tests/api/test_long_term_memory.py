"""Long-term memory over HTTP: create, search with filters, get, edit, delete, history."""

from __future__ import annotations

import httpx


def create(client: httpx.Client, *memories: dict[str, object]) -> None:
    response = client.post("/v1/long-term-memory/", json={"memories": list(memories)})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def search(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/v1/long-term-memory/search", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def texts(result: dict[str, object]) -> list[str]:
    memories = result["memories"]
    assert isinstance(memories, list)
    return [m["text"] for m in memories]


def test_created_memory_is_found_by_meaning(client: httpx.Client) -> None:
    create(
        client,
        {"id": "m1", "text": "User prefers dark mode in every editor", "user_id": "u1"},
        {"id": "m2", "text": "User's dog is called Biscuit", "user_id": "u1"},
        {"id": "m3", "text": "The quarterly report is due on Friday", "user_id": "u1"},
    )
    result = search(client, text="what colour theme does the user like?", limit=3)
    assert texts(result)[0] == "User prefers dark mode in every editor"
    assert result["total"] == 3
    first = result["memories"][0]  # type: ignore[index]
    assert 0 <= first["dist"] < first["score"] + 1
    assert first["score_type"] == "hybrid"


def test_search_filters_by_user_topics_and_type(client: httpx.Client) -> None:
    create(
        client,
        {"id": "a", "text": "Alice likes green tea", "user_id": "alice", "topics": ["drinks"]},
        {"id": "b", "text": "Bob likes green tea", "user_id": "bob", "topics": ["drinks"]},
        {"id": "c", "text": "Alice met Bob at the tea house", "user_id": "alice",
         "memory_type": "episodic", "topics": ["events"]},
    )  # fmt: skip
    assert texts(search(client, text="tea", user_id={"eq": "bob"})) == ["Bob likes green tea"]
    only_events = search(client, text="tea", topics={"any": ["events"]})
    assert texts(only_events) == ["Alice met Bob at the tea house"]
    semantic_alice = search(
        client, text="tea", user_id={"eq": "alice"}, memory_type={"eq": "semantic"}
    )
    assert texts(semantic_alice) == ["Alice likes green tea"]
    not_alice = search(client, text="tea", user_id={"ne": "alice"})
    assert texts(not_alice) == ["Bob likes green tea"]


def test_search_pages_with_total_and_next_offset(client: httpx.Client) -> None:
    create(client, *({"id": f"n{i}", "text": f"note number {i} about gardening"} for i in range(7)))
    first = search(client, text="gardening notes", limit=3)
    assert first["total"] == 7 and first["next_offset"] == 3
    second = search(client, text="gardening notes", limit=3, offset=3)
    third = search(client, text="gardening notes", limit=3, offset=6)
    seen = texts(first) + texts(second) + texts(third)
    assert len(seen) == 7 == len(set(seen))
    assert third["next_offset"] is None


def test_created_at_filter_accepts_epoch_and_iso(client: httpx.Client) -> None:
    create(
        client,
        {"id": "old", "text": "trip to Lisbon", "created_at": "2023-05-08T10:00:00Z"},
        {"id": "new", "text": "trip to Porto", "created_at": "2025-01-01T10:00:00Z"},
    )
    epoch_2024 = 1704067200
    assert texts(search(client, text="trip", created_at={"gte": epoch_2024})) == ["trip to Porto"]
    iso = search(client, text="trip", created_at={"lt": "2024-01-01T00:00:00Z"})
    assert texts(iso) == ["trip to Lisbon"]


def test_distance_threshold_drops_unrelated(client: httpx.Client) -> None:
    create(
        client,
        {"id": "x", "text": "The user is allergic to peanuts"},
        {"id": "y", "text": "Quantum chromodynamics describes the strong force"},
    )
    result = search(client, text="peanut allergy", distance_threshold=0.5, search_mode="semantic")
    assert texts(result) == ["The user is allergic to peanuts"]
    assert result["total"] == 1


def test_get_edit_and_history(client: httpx.Client) -> None:
    create(client, {"id": "h1", "text": "User lives in Paris", "user_id": "u"})
    got = client.get("/v1/long-term-memory/h1").json()
    assert got["text"] == "User lives in Paris" and got["memory_type"] == "semantic"
    edited = client.patch("/v1/long-term-memory/h1", json={"text": "User lives in Berlin"})
    assert edited.status_code == 200 and edited.json()["text"] == "User lives in Berlin"
    assert texts(search(client, text="Berlin", search_mode="keyword")) == ["User lives in Berlin"]
    history = client.get("/v1/long-term-memory/h1/history").json()
    assert [e["event"] for e in history["events"]] == ["ADD", "UPDATE"]
    assert history["events"][1]["old_text"] == "User lives in Paris"


def test_delete_removes_from_search_but_keeps_history(client: httpx.Client) -> None:
    create(
        client,
        {"id": "d1", "text": "temporary memory about kites"},
        {"id": "d2", "text": "kites fly"},
    )
    response = client.delete("/v1/long-term-memory", params={"memory_ids": ["d1", "nope"]})
    assert response.json() == {"status": "ok, deleted 1 memories"}
    assert client.get("/v1/long-term-memory/d1").status_code == 404
    assert texts(search(client, text="kites")) == ["kites fly"]
    events = client.get("/v1/long-term-memory/d1/history").json()["events"]
    assert [e["event"] for e in events] == ["ADD", "DELETE"]


def test_exact_duplicate_is_not_stored_twice(client: httpx.Client) -> None:
    create(client, {"id": "v1", "text": "User prefers Vim", "user_id": "u"})
    create(client, {"id": "v2", "text": "  user prefers   vim ", "user_id": "u"})
    assert search(client, text="vim")["total"] == 1
    assert client.get("/v1/long-term-memory/v2").status_code == 404


def test_same_id_overwrites(client: httpx.Client) -> None:
    create(client, {"id": "o1", "text": "first version"})
    create(client, {"id": "o1", "text": "second version"})
    assert client.get("/v1/long-term-memory/o1").json()["text"] == "second version"
    assert search(client, text="version")["total"] == 1


def test_recency_boost_prefers_recent_when_equally_relevant(client: httpx.Client) -> None:
    twins = [
        {"id": "r-old", "text": "notes about the budget", "created_at": "2020-01-01T00:00:00Z"},
        {"id": "r-new", "text": "notes about the budget"},
    ]
    body = {"memories": twins, "deduplicate": False}
    assert client.post("/v1/long-term-memory/", json=body).status_code == 200
    boosted = search(client, text="meeting notes about the budget")
    assert [m["id"] for m in boosted["memories"]][0] == "r-new"  # type: ignore[index]
    weights = {"recency_semantic_weight": 0.0, "recency_recency_weight": 1.0}
    only_recency = search(client, text="budget", **weights)
    scores = [m["score"] for m in only_recency["memories"]]  # type: ignore[index]
    assert scores[0] > scores[1]
