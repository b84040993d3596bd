"""The 40-turn conversation through a scripted OpenAI-compatible LLM on loopback: the
scripted decisions are applied exactly, and malformed output never reaches the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.app import create_app
from mnemo.config import LLMConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from mnemo.llms.prompts import CONSOLIDATION_SYSTEM, EXTRACTION_SYSTEM
from tests.api.test_intelligence_offline import DURABLE, FIXTURE, ingest
from tests.helpers.fake_llm import ScriptedLLMServer
from tests.helpers.servers import serve_in_thread

LABELS = FIXTURE["labels"]
GARBLED_FACT = "User has a dog named Rex"  # the LLM answers this one with broken JSON, twice
SUPERSEDES = {new: old for old, new in LABELS["superseded_pairs"]}


def _lines(content: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.splitlines() if line.startswith("{")]


def extraction_reply(user: str) -> str:
    """The 'LLM' extracts exactly the labelled facts of the turns it is shown."""
    ids = {m["id"] for m in _lines(user)}
    facts = [
        {"text": f["text"], "memory_type": f.get("memory_type", "semantic"),
         "source_message_ids": [i for i in f["source_ids"] if i in ids], "importance": 0.6}
        for f in LABELS["facts"] if ids & set(f["source_ids"])
    ]  # fmt: skip
    return json.dumps({"facts": facts})


def decision_reply(user: str) -> str:
    """UPDATE when the new fact replaces a shown memory, NOOP on a repeat, else ADD."""
    shown = {m["text"]: m["id"] for m in _lines(user)}
    new_fact = json.loads(user.split("New fact:\n", 1)[1].split("\n", 1)[0])
    if new_fact == GARBLED_FACT:
        return '{"event": "ADD", "target": null,,'
    if new_fact in SUPERSEDES and SUPERSEDES[new_fact] in shown:
        target = shown[SUPERSEDES[new_fact]]
        return json.dumps(
            {"event": "UPDATE", "target": target, "text": new_fact, "reason": "changed"}
        )
    if new_fact in shown:
        return json.dumps({"event": "NOOP", "target": shown[new_fact], "reason": "known"})
    return json.dumps({"event": "ADD", "target": None, "reason": "new"})


def responder(request: dict[str, Any]) -> str:
    # messages[1] is the task; a repair round appends more turns after it
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    if system.startswith(EXTRACTION_SYSTEM[:40]):
        return extraction_reply(user)
    if system.startswith(CONSOLIDATION_SYSTEM[:40]):
        return decision_reply(user)
    return "A summary."


@pytest.fixture
def llm_client(
    tmp_path: Path, embedder: LocalEmbedder
) -> Iterator[tuple[httpx.Client, ScriptedLLMServer]]:
    with ScriptedLLMServer(responder=responder) as llm:
        settings = Settings(
            data_dir=tmp_path, llm=LLMConfig(base_url=llm.base_url, model="scripted-model")
        )
        with (
            serve_in_thread(create_app(settings, embedder)) as url,
            httpx.Client(
                base_url=url, headers={"X-API-Key": "dev-key-12345"}, timeout=60
            ) as client,
        ):
            yield client, llm


def test_scripted_decisions_are_applied_exactly(
    llm_client: tuple[httpx.Client, ScriptedLLMServer],
) -> None:
    client, llm = llm_client
    reports = ingest(client, "sam")
    body = {
        "text": "",
        "limit": 100,
        "user_id": {"eq": "sam"},
        "include_superseded": True,
        **DURABLE,
    }
    everything = {
        m["text"]: m
        for m in client.post("/v1/long-term-memory/search", json=body).json()["memories"]
    }

    expected_active = {f["text"] for f in LABELS["facts"] if f["current"]} - {GARBLED_FACT}
    active = {t for t, m in everything.items() if m["status"] == "active"}
    assert active == expected_active
    for new, old in SUPERSEDES.items():
        assert everything[old]["status"] == "superseded"
        assert everything[old]["superseded_by"] == everything[new]["id"]
        assert everything[new]["supersedes"] == everything[old]["id"]

    # broken output twice (first answer and its repair) is rejected, not applied
    rejected = [r for report in reports for r in report["rejected"]]
    assert [r["fact"] for r in rejected] == [GARBLED_FACT]
    assert GARBLED_FACT not in everything

    usage = [r["usage"] for r in reports]
    assert sum(u["calls"] for u in usage) == len(llm.requests)
    assert all(u["total_tokens"] > 0 for u in usage)


def test_unreachable_llm_fails_extraction_cleanly(tmp_path: Path, embedder: LocalEmbedder) -> None:
    settings = Settings(
        data_dir=tmp_path,
        llm=LLMConfig(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=2),
    )
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": "dev-key-12345"}, timeout=60) as client,
    ):
        turns = [{"id": "x1", "role": "user", "content": "I live in Oslo"}]
        client.put("/v1/working-memory/s", json={"messages": turns})
        response = client.post("/v1/long-term-memory/extract", json={"session_id": "s"})
        assert response.status_code == 503 and response.json()["detail"]
        again = client.get("/v1/working-memory/s").json()
        assert again["messages"][0]["discrete_memory_extracted"] == "f"
