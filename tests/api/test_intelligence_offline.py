"""The 40-turn conversation, offline: no duplicates, changes superseded with history,
the current value first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "conversation_40.json").read_text())
DURABLE = {"memory_type": {"any": ["semantic", "episodic", "procedural"]}}
# One question per fact that changed during the conversation.
QUESTIONS = {
    "user:location": "Where does the user live now?",
    "user:employer": "Which company does the user work for?",
    "user:job_title": "What is the user's job?",
    "user:preference:editor": "Which code editor does the user prefer?",
    "user:age": "How old is the user?",
}


def ingest(client: httpx.Client, user: str) -> list[dict[str, Any]]:
    """Each fixture session is written turn by turn, then extracted, as an agent would."""
    reports = []
    sessions: dict[str, list[dict[str, Any]]] = {}
    for message in FIXTURE["messages"]:
        sessions.setdefault(message["session"], []).append(message)
    for session_id, turns in sessions.items():
        body = {"user_id": user, "messages": [
            {k: t[k] for k in ("id", "role", "content", "created_at")} for t in turns]}  # fmt: skip
        assert client.put(f"/v1/working-memory/{session_id}", json=body).status_code == 200
        extracted = client.post("/v1/long-term-memory/extract", json={"session_id": session_id})
        assert extracted.status_code == 200, extracted.text
        reports.append(extracted.json())
    return reports


def durable(client: httpx.Client, user: str, **extra: Any) -> list[dict[str, Any]]:
    body = {"text": "", "limit": 100, "user_id": {"eq": user}, **DURABLE, **extra}
    result = client.post("/v1/long-term-memory/search", json=body).json()
    memories: list[dict[str, Any]] = result["memories"]
    return memories


@pytest.fixture
def sam(client: httpx.Client) -> str:
    ingest(client, "sam")
    return "sam"


def test_no_duplicate_active_memories(client: httpx.Client, sam: str) -> None:
    active = [m["text"].lower() for m in durable(client, sam)]
    assert len(active) == len(set(active))
    assert active.count("user loves sushi") == 1


def test_extraction_is_idempotent(client: httpx.Client, sam: str) -> None:
    before = durable(client, sam)
    again = client.post("/v1/long-term-memory/extract", json={"session_id": "s2"}).json()
    assert again["messages"] == 0 and again["added"] == []
    assert len(durable(client, sam)) == len(before)


def test_every_changed_fact_is_superseded_with_history(client: httpx.Client, sam: str) -> None:
    everything = durable(client, sam, include_superseded=True)
    by_text = {m["text"]: m for m in everything}
    for old_text, new_text in FIXTURE["labels"]["superseded_pairs"]:
        old, new = by_text[old_text], by_text[new_text]
        assert old["status"] == "superseded", old_text
        assert old["superseded_by"] is not None
        chain = [old]
        while chain[-1]["superseded_by"]:
            chain.append(client.get(f"/v1/long-term-memory/{chain[-1]['superseded_by']}").json())
        assert new["id"] in [m["id"] for m in chain], (old_text, new_text)
        history = client.get(f"/v1/long-term-memory/{old['id']}/history").json()
        assert [e["event"] for e in history["events"]][-1] == "SUPERSEDE"
    visible = {m["text"] for m in durable(client, sam)}
    assert not visible & {old for old, _ in FIXTURE["labels"]["superseded_pairs"]}


@pytest.mark.parametrize("slot", sorted(QUESTIONS))
def test_current_value_ranks_first(client: httpx.Client, sam: str, slot: str) -> None:
    body = {"text": QUESTIONS[slot], "user_id": {"eq": sam}, "limit": 3, **DURABLE}
    result = client.post("/v1/long-term-memory/search", json=body).json()
    assert result["memories"][0]["text"] == FIXTURE["labels"]["current_values"][slot]


def test_repeats_merge_into_one_memory_with_all_sources(client: httpx.Client, sam: str) -> None:
    [sushi] = [m for m in durable(client, sam) if m["text"] == "User loves sushi"]
    assert len(sushi["extracted_from"]) >= 3


def test_offline_chat_quotes_what_it_remembers(client: httpx.Client, sam: str) -> None:
    response = client.post("/v1/chat", json={"message": "Which editor do I use these days?",
                                             "session_id": "chat-1", "user_id": sam})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert "User prefers Vim" in body["response"]
    assert body["relevant_context_count"] == len(body["memories"]) > 0
    session = client.get("/v1/working-memory/chat-1").json()
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]


def test_summaries_of_a_session_and_of_loose_messages(client: httpx.Client, sam: str) -> None:
    of_session = client.post("/v1/summaries", json={"session_id": "s1", "max_sentences": 3})
    assert of_session.status_code == 200 and of_session.json()["summary"]
    loose = client.post(
        "/v1/summaries", json={"messages": "Sam moved to Berlin. He works at Globex."}
    )
    assert "Berlin" in loose.json()["summary"]
    assert client.post("/v1/summaries", json={}).status_code == 400
