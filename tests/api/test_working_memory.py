"""Working memory over HTTP: put, get, list, delete, and turns indexed as message memories."""

from __future__ import annotations

import httpx

TURNS = [
    {"id": "t1", "role": "user", "content": "I just adopted a cat named Miso", "created_at": "2024-03-01T09:00:00Z"},
    {"id": "t2", "role": "assistant", "content": "Congratulations on adopting Miso!", "created_at": "2024-03-01T09:00:05Z"},
]  # fmt: skip


def put(client: httpx.Client, session_id: str, **body: object) -> httpx.Response:
    return client.put(f"/v1/working-memory/{session_id}", json=body)


def test_put_then_get_round_trips(client: httpx.Client) -> None:
    response = put(client, "s1", messages=TURNS, context="earlier: talked about pets",
                   user_id="u1", data={"mood": "happy"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = client.get("/v1/working-memory/s1").json()
    assert [m["id"] for m in body["messages"]] == ["t1", "t2"]
    assert body["context"] == "earlier: talked about pets"
    assert body["data"] == {"mood": "happy"} and body["user_id"] == "u1"
    assert body["namespace"] == "default" and body["tokens"] > 0
    assert 0 < body["context_percentage_total_used"] < 100


def test_turns_become_searchable_message_memories(client: httpx.Client) -> None:
    put(client, "s2", messages=TURNS, user_id="u2")
    result = client.post(
        "/v1/long-term-memory/search",
        json={"text": "what is the name of my cat", "user_id": {"eq": "u2"}, "limit": 1},
    ).json()
    memory = result["memories"][0]
    assert memory["id"] == "t1" and memory["memory_type"] == "message"
    assert memory["session_id"] == "s2" and memory["extracted_from"] == ["t1"]
    assert memory["created_at"].startswith("2024-03-01T09:00:00")


def test_putting_the_same_turns_again_indexes_nothing_new(client: httpx.Client) -> None:
    put(client, "s3", messages=TURNS)
    put(client, "s3", messages=TURNS + [{"role": "user", "content": "Miso loves tuna"}])
    found = client.post(
        "/v1/long-term-memory/search", json={"text": "Miso", "session_id": {"eq": "s3"}}
    )
    assert found.json()["total"] == 3


def test_list_and_delete_sessions(client: httpx.Client) -> None:
    for sid in ("a", "b", "c"):
        put(client, sid, messages=TURNS[:1], user_id="lister")
    listed = client.get("/v1/working-memory/", params={"limit": 2, "user_id": "lister"}).json()
    assert listed["total"] == 3 and len(listed["sessions"]) == 2
    assert client.delete("/v1/working-memory/b").json() == {"status": "ok"}
    assert client.get("/v1/working-memory/b").status_code == 404
    assert client.get("/v1/working-memory/", params={"user_id": "lister"}).json()["total"] == 2


def test_missing_session_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/working-memory/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_structured_memories_are_promoted_to_long_term(client: httpx.Client) -> None:
    put(client, "s4", user_id="u4", memories=[{"id": "wm1", "text": "User is vegetarian"}])
    promoted = client.get("/v1/long-term-memory/wm1").json()
    assert promoted["session_id"] == "s4" and promoted["user_id"] == "u4"


def test_memory_prompt_combines_session_and_long_term(client: httpx.Client) -> None:
    put(client, "p1", messages=TURNS, context="The user is moving house soon", user_id="pu")
    client.post("/v1/long-term-memory/", json={"memories": [
        {"id": "lt1", "text": "User is allergic to cats", "user_id": "pu"}]})  # fmt: skip
    body = {"query": "Should I get another cat?", "session": {"session_id": "p1"},
            "long_term_search": {"text": "cats", "user_id": {"eq": "pu"}, "limit": 5}}  # fmt: skip
    response = client.post("/v1/memory/prompt", json=body)
    assert response.status_code == 200, response.text
    messages = response.json()["messages"]
    assert messages[0]["role"] == "system" and "moving house" in messages[0]["content"]
    assert messages[1]["content"] == TURNS[0]["content"]
    memory_block = next(m for m in messages if "Long term memories" in m["content"])
    assert "User is allergic to cats (ID: lt1)" in memory_block["content"]
    assert messages[-1] == {"role": "user", "content": "Should I get another cat?"}


def test_long_sessions_fold_into_a_progressive_summary(client: httpx.Client) -> None:
    facts = ["I live in Lisbon", "I work at Initech as a designer", "I love green tea",
             "My sister Maria lives in Porto", "I am allergic to cats", "I prefer Vim"]  # fmt: skip
    turns = [
        {"id": f"f{i}", "role": "user", "content": f"{fact}. " + "Some more chatter here. " * 6}
        for i, fact in enumerate(facts)
    ]
    response = client.put(
        "/v1/working-memory/long",
        params={"context_window_max": 200},
        json={"messages": turns, "user_id": "fold"},
    )
    body = response.json()
    assert response.status_code == 200, response.text
    kept = [m["id"] for m in body["messages"]]
    assert 1 <= len(kept) < len(turns) and kept == [t["id"] for t in turns][-len(kept) :]
    assert body["context"] and body["tokens"] <= 0.7 * 200
    assert body["context_percentage_until_summarization"] <= 100
    # the folded turns were extracted before they left working memory
    found = client.post("/v1/long-term-memory/search", json={
        "text": "where does the user live", "user_id": {"eq": "fold"},
        "memory_type": {"eq": "semantic"}, "limit": 1}).json()  # fmt: skip
    assert found["memories"][0]["text"] == "User lives in Lisbon"


POTTERY = [
    {"id": "p1", "role": "user", "content": "What made you try pottery?", "created_at": "2024-05-08T10:00:00Z"},
    {"id": "p2", "role": "assistant", "content": "It is like therapy for me, I lose track of time.", "created_at": "2024-05-08T10:00:05Z"},
    {"id": "p3", "role": "user", "content": "Sounds calming.", "created_at": "2024-05-08T10:00:10Z"},
]  # fmt: skip


def search(client: httpx.Client, text: str, user: str, **extra: object) -> list[dict]:  # type: ignore[type-arg]
    body = {"text": text, "user_id": {"eq": user}, "recency_boost": False, **extra}
    return client.post("/v1/long-term-memory/search", json=body).json()["memories"]  # type: ignore[no-any-return]


def test_a_turn_is_found_through_its_context_window_once_extracted(client: httpx.Client) -> None:
    put(client, "pots", messages=POTTERY, user_id="potter")
    # Windows are built by the (debounced) extraction run: until then a turn is its own.
    assert [m["id"] for m in search(client, "therapy", "potter", search_mode="keyword")] == ["p2"]
    response = client.put(
        "/v1/working-memory/pots",
        params={"wait": "true"},
        json={"messages": POTTERY, "user_id": "potter"},
    )
    assert response.status_code == 200, response.text
    # Now the turns around p2 hold "therapy" in their windows; p2 itself still ranks first.
    found = [m["id"] for m in search(client, "therapy", "potter", search_mode="keyword")]
    assert found[0] == "p2" and set(found) == {"p1", "p2", "p3"}


def test_messages_are_searchable_by_the_date_they_were_said(client: httpx.Client) -> None:
    put(client, "dated", messages=POTTERY, user_id="dater")
    found = search(client, "what was said in May 2024", "dater", search_mode="keyword")
    assert {m["id"] for m in found} == {"p1", "p2", "p3"}
    # The date is indexed, not written into the stored text.
    assert {m["text"] for m in found} == {t["content"] for t in POTTERY}
