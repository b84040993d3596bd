"""Seed 003 (MemoryKit) over real HTTP: every documented example replayed, then errors, tenancy,
patterns, webhooks and the other dialects seeing the same memories."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.app import create_app
from mnemo.config import JobsConfig, Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from tests.conftest import DEV_KEY, key_client
from tests.helpers.servers import serve_in_thread
from tests.jobs.receiver import running_receiver
from tests.jobs.waiting import wait_for

PUBLIC_URL = "http://93.184.215.14/hook"  # a public address literal: no DNS needed
CONVERSATION_FIELDS = {"id", "userId", "title", "messageCount", "lastActivityAt"}
MESSAGE_FIELDS = {"id", "conversationId", "role", "content", "timestamp", "importanceScore"}
ERROR_FIELDS = {"error", "message", "details"}
PAGE_FIELDS = {"items", "page", "pageSize", "totalCount"}
PATTERN_FIELDS = {"id", "name", "description", "triggers", "usageCount", "lastUsed"}
FAST_JOBS = {"poll_interval_s": 0.02, "backoff_base_s": 0.05, "backoff_max_s": 0.2}


def hooked_settings(data_dir: Path, debounce_s: float = 30.0) -> Settings:
    """Webhooks may reach receivers on 127.0.0.1; extraction runs on ?wait=true, or in the
    background after `debounce_s` (30 s keeps background runs out of most tests)."""
    return Settings(
        data_dir=data_dir,
        jobs=JobsConfig.model_validate({**FAST_JOBS, "extraction_debounce_s": debounce_s}),
        webhooks=WebhooksConfig(allow_private=True, timeout_s=5.0),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return hooked_settings(tmp_path / "data")


@pytest.fixture
def eager(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[httpx.Client]:
    """A server whose background extraction runs at once (debounce 0)."""
    settings = hooked_settings(tmp_path / "eager", debounce_s=0)
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": DEV_KEY}, timeout=30) as client,
    ):
        yield client


def recent(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp)
    return stamp.endswith("Z") and abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


def converse(client: httpx.Client, title: str = "Technical Discussion", **extra: Any) -> Any:
    response = client.post("/v1/conversations", json={"title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def post(client: httpx.Client, conversation: str, content: str, *, wait: bool = False,
         **extra: Any) -> Any:  # fmt: skip
    body = {"role": "user", "content": content, **extra}
    params = {"wait": "true"} if wait else {}
    response = client.post(f"/v1/conversations/{conversation}/messages", json=body, params=params)
    assert response.status_code == 201, response.text
    return response.json()


def ask(client: httpx.Client, conversation: str, question: str, **extra: Any) -> Any:
    body = {"question": question, **extra}
    response = client.post(f"/v1/conversations/{conversation}/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def patterns(client: httpx.Client, **params: Any) -> Any:
    response = client.get("/v1/patterns", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_FIELDS, body
    assert body["error"] == code and body["message"] and isinstance(body["details"], dict)
    return body


def subscribe(client: httpx.Client, url: str, events: list[str]) -> Any:
    response = client.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def settled(client: httpx.Client, hook_id: str) -> list[Any]:
    """Every delivery of the webhook, once none is still pending."""

    def check() -> list[Any] | None:
        found: list[Any] = client.get(f"/v1/webhooks/{hook_id}/deliveries").json()["deliveries"]
        done = found and all(d["status"] in {"succeeded", "dead"} for d in found)
        return found if done else None

    return wait_for(check, "the deliveries to settle")


# The examples of the document, in its order


def test_quick_start_curl_examples(server_url: str) -> None:
    """The curls send -d without a Content-Type (curl says form-urlencoded) after the first."""
    bearer = {"Authorization": "Bearer dev-key-12345"}
    json_type = {**bearer, "Content-Type": "application/json"}
    created = httpx.post(f"{server_url}/v1/conversations", headers=json_type,
                         content=b'{"title": "My Chat"}')  # fmt: skip
    assert created.status_code == 201, created.text
    conversation = created.json()["id"]
    form = {**bearer, "Content-Type": "application/x-www-form-urlencoded"}
    added = httpx.post(f"{server_url}/v1/conversations/{conversation}/messages", headers=form,
                       content=b'{"role": "user", "content": "Hello!"}')  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["content"] == "Hello!"
    asked = httpx.post(f"{server_url}/v1/conversations/{conversation}/query", headers=form,
                       content=b'{"question": "What did I just say?"}')  # fmt: skip
    assert asked.status_code == 200, asked.text
    assert isinstance(asked.json()["answer"], str) and asked.json()["answer"]
    not_json = httpx.post(f"{server_url}/v1/conversations/{conversation}/query", headers=form,
                          content=b"question=hi")  # fmt: skip
    assert_error(not_json, 400, "BAD_REQUEST")


def test_create_conversation_example(client: httpx.Client) -> None:
    body = {"title": "Technical Discussion", "description": "Discussing .NET architecture",
            "tags": ["architecture", "dotnet"]}  # fmt: skip
    response = client.post("/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) >= CONVERSATION_FIELDS
    assert created["id"].startswith("conv_") and created["userId"] is None  # an operator key
    assert created["title"] == "Technical Discussion" and created["messageCount"] == 0
    assert created["description"] == body["description"] and created["tags"] == body["tags"]
    assert recent(created["lastActivityAt"])
    native = client.get(f"/v1/working-memory/{created['id']}").json()
    assert native["data"] == {key: body[key] for key in ("title", "description", "tags")}


def test_a_user_key_creates_conversations_of_its_user(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with key_client(server_url, make_key("default", user="user_123")) as user:
        assert converse(user)["userId"] == "user_123"


def test_add_message_example(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    body = {"role": "user", "content": "How do I implement caching in .NET?",
            "tags": ["caching", "performance"]}  # fmt: skip
    response = client.post(f"/v1/conversations/{conversation}/messages", json=body)
    assert response.status_code == 201, response.text
    message = response.json()
    assert set(message) >= MESSAGE_FIELDS
    assert message["id"].startswith("msg_") and message["conversationId"] == conversation
    assert (message["role"], message["content"]) == ("user", body["content"])
    assert recent(message["timestamp"]) and message["importanceScore"] == 0.5  # unscored
    assert message["tags"] == ["caching", "performance"] and message["extractionTaskId"]


def test_importance_score_weighs_the_turn_in_retrieval(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    message = post(client, conversation, "Our cache TTL is five minutes", importanceScore=0.75)
    assert message["importanceScore"] == 0.75
    stored = client.get(f"/v1/long-term-memory/{message['id']}").json()
    assert stored["importance"] == 0.75 and stored["memory_type"] == "message"


def test_query_memory_example(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    said = "We compared in-memory caching, distributed caching with Redis and response caching"
    post(client, conversation, said)
    body = {"question": "What caching strategies did we discuss?", "maxTokens": 2000,
            "includeDebugInfo": True}  # fmt: skip
    response = client.post(f"/v1/conversations/{conversation}/query", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert said in answer["answer"]
    top = answer["sources"][0]
    assert {"type", "content", "relevanceScore"} <= set(top)
    assert (top["type"], top["content"]) == ("WorkingMemory", said)
    assert 0 < top["relevanceScore"] <= 1
    debug = answer["debugInfo"]
    assert {"queryType", "layersUsed", "tokensUsed", "retrievalTimeMs"} <= set(debug)
    assert debug["queryType"] == "DeepRecall" and debug["layersUsed"] == ["WorkingMemory"]
    assert 0 < debug["tokensUsed"] <= 2000 and debug["retrievalTimeMs"] >= 0
    assert debug["mode"] == "offline" and debug["llmUsage"]["totalTokens"] == 0
    turns = client.get(f"/v1/working-memory/{conversation}").json()["messages"]
    assert [t["content"] for t in turns] == [said]  # a query is a read: no turn added


def test_query_recalls_facts_and_respects_the_token_budget(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    post(client, conversation, "I live in Madrid", wait=True)
    answer = ask(client, conversation, "Where do I live?", includeDebugInfo=True)
    assert "User lives in Madrid" in answer["answer"]
    layers = {s["type"]: s["content"] for s in answer["sources"]}
    assert layers["SemanticMemory"] == "User lives in Madrid"
    assert answer["debugInfo"]["queryType"] == "FactRetrieval"
    assert "SemanticMemory" in answer["debugInfo"]["layersUsed"]
    starved = ask(client, conversation, "Where do I live?", maxTokens=1)
    assert starved["sources"] == [] and starved["debugInfo"] is None
    assert "Madrid" not in starved["answer"]


def test_get_context_example(client: httpx.Client) -> None:
    elsewhere = converse(client, "Moving")["id"]
    post(client, elsewhere, "I live in Madrid", wait=True)
    conversation = converse(client)["id"]
    post(client, conversation, "How do I implement caching in .NET?")
    response = client.get(f"/v1/conversations/{conversation}/context", params={"query": "caching"})
    assert response.status_code == 200, response.text
    context = response.json()
    assert {"context", "totalTokens", "retrievalLatencyMs"} <= set(context)
    assert context["context"].startswith(
        "=== Recent Conversation ===\nuser: How do I implement caching in .NET?"
    )
    assert context["totalTokens"] > 0 and context["retrievalLatencyMs"] >= 0
    where = client.get(f"/v1/conversations/{conversation}/context?query=Where do I live").json()
    assert "\n\n=== Relevant Memories ===\n- " in where["context"]
    found = {m["content"]: m["type"] for m in where["memories"]}
    assert found == {"I live in Madrid": "EpisodicMemory", "User lives in Madrid": "SemanticMemory"}
    assert all(f"- {text}" in where["context"] for text in found)
    assert where["totalTokens"] > context["totalTokens"]
    bare = client.get(f"/v1/conversations/{conversation}/context").json()
    assert "Relevant Memories" not in bare["context"] and bare["memories"] == []


def test_health_example(client: httpx.Client, anon: httpx.Client) -> None:
    for caller in (client, anon):  # the document sends a token; health needs none in mnemo
        response = caller.get("/v1/memory/health")
        assert response.status_code == 200
        assert response.json()["status"] == "healthy" and recent(response.json()["timestamp"])


def test_statistics_example(client: httpx.Client) -> None:
    converse(client, "Empty")
    conversation = converse(client)["id"]
    post(client, conversation, "How do I implement caching in .NET?")
    post(client, conversation, "Please always answer in French", wait=True)
    post(client, conversation, "I live in Madrid", wait=True)
    response = client.get("/v1/memory/statistics")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["userId"] is None and stats["namespace"] == "default"
    counts = {k: stats[k] for k in ("conversationCount", "messageCount", "factCount",
                                    "patternCount")}  # fmt: skip
    assert counts == {"conversationCount": 2, "messageCount": 3, "factCount": 1,
                      "patternCount": 1}  # fmt: skip
    assert stats["memoriesByType"] == {"semantic": 1, "episodic": 0, "procedural": 1,
                                       "message": 3}  # fmt: skip


def test_list_patterns_example_and_pagination(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    for order in ("Please always answer in French", "Please keep answers short",
                  "Always use type hints when you write Python code"):  # fmt: skip
        post(client, conversation, order, wait=True)
    first = patterns(client, page=1, pageSize=2)
    assert set(first) == PAGE_FIELDS
    assert (first["page"], first["pageSize"], first["totalCount"]) == (1, 2, 3)
    second = patterns(client, page=2, pageSize=2)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert patterns(client, page=3, pageSize=2)["items"] == []
    every = patterns(client)  # the default page holds them all
    assert every["pageSize"] == 10 and every["totalCount"] == 3
    assert [p["id"] for p in first["items"] + second["items"]] == [p["id"] for p in every["items"]]
    by_text = {p["description"]: p for p in every["items"]}
    coding = by_text["Always use type hints when you write Python code"]
    assert set(coding) >= PATTERN_FIELDS and coding["kind"] == "instruction"
    assert coding["triggers"][0] == {"type": "Keyword", "pattern": "you write Python code"}
    assert coding["usageCount"] >= 1 and recent(coding["lastUsed"])
    assert by_text["Always answer in French"]["name"] == "Language Instruction"


def test_delete_pattern_example(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    message = post(client, conversation, "Please keep answers short", wait=True)
    [pattern] = patterns(client)["items"]
    response = client.delete(f"/v1/patterns/{pattern['id']}")
    assert response.status_code == 204 and response.content == b""
    assert patterns(client)["totalCount"] == 0
    assert_error(client.delete(f"/v1/patterns/{pattern['id']}"), 404, "NOT_FOUND")
    history = client.get(f"/v1/long-term-memory/{pattern['id']}/history").json()
    assert [e["event"] for e in history["events"]] == ["ADD", "DELETE"]
    assert_error(client.delete(f"/v1/patterns/{message['id']}"), 404, "NOT_FOUND")  # a turn
    assert client.get(f"/v1/long-term-memory/{message['id']}").status_code == 200


def test_dotnet_sdk_usage(server_url: str) -> None:
    """MemoryKitClient("your-api-key") sends it as a bearer token; MessageRole.User is sent
    as "User" with a string-enum converter, or as 0 by System.Text.Json's default."""
    bearer = {"Authorization": f"Bearer {DEV_KEY}"}
    with httpx.Client(base_url=server_url, headers=bearer, timeout=30) as sdk:
        conversation = sdk.post("/v1/conversations", json={"title": "Technical Discussion"})
        conversation_id = conversation.json()["id"]
        for role in ("User", 0):
            body = {"role": role, "content": "What caching approach should I use?"}
            added = sdk.post(f"/v1/conversations/{conversation_id}/messages", json=body)
            assert added.status_code == 201 and added.json()["role"] == "user", added.text
        question = {"question": "What was recommended?"}
        response = sdk.post(f"/v1/conversations/{conversation_id}/query", json=question)
        assert response.status_code == 200 and isinstance(response.json()["answer"], str)
        assert response.json()["answer"]


def test_webhook_example(client: httpx.Client) -> None:
    body = {"url": PUBLIC_URL, "events": ["message.created", "pattern.detected"]}
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    hook = response.json()
    assert hook["url"] == PUBLIC_URL and hook["events"] == body["events"]
    assert hook["secret"] and hook["createdAt"] == hook["created_at"]  # both shapes at once
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 200  # never called


# Webhooks: signed events for messages and patterns


def test_a_posted_message_is_announced_signed(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    with running_receiver() as receiver:
        hook = subscribe(client, receiver.url, ["message.created", "pattern.detected"])
        receiver.secret = hook["secret"]
        message = post(client, conversation, "How do I implement caching in .NET?")
        [delivery] = settled(client, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["event"] == "message.created"
    [received] = receiver.accepted
    assert received.signature_ok and received.event == "message.created"
    data = json.loads(received.body)["data"]
    assert (data["message_id"], data["session_id"]) == (message["id"], conversation)


def test_instructions_and_repeated_preferences_become_patterns_once(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    with running_receiver() as receiver:
        hook = subscribe(client, receiver.url, ["pattern.detected"])
        receiver.secret = hook["secret"]
        for turn in ("Please always answer in French", "I prefer tea over coffee",
                     "Always answer in French", "I prefer tea over coffee",
                     "I prefer tea over coffee"):  # fmt: skip
            post(client, conversation, turn, wait=True)
        deliveries = settled(client, hook["id"])
    assert len(deliveries) == 2 and all(d["status"] == "succeeded" for d in deliveries)
    assert len(receiver.accepted) == 2 and all(r.signature_ok for r in receiver.requests)
    found = {e["data"]["text"]: e["data"] for e in (json.loads(r.body) for r in receiver.accepted)}
    assert set(found) == {"Always answer in French", "User prefers tea"}
    assert found["Always answer in French"]["kind"] == "instruction"
    liked = found["User prefers tea"]
    assert (liked["kind"], liked["occurrences"], liked["name"]) == (
        "preference", 2, "Hot Drink Preference"
    )  # fmt: skip
    listed = {p["description"]: p for p in patterns(client)["items"]}
    assert listed["User prefers tea"]["occurrences"] == 3
    assert listed["Always answer in French"]["occurrences"] == 2
    assert listed["User prefers tea"]["usageCount"] >= 3


def test_a_preference_said_once_is_no_pattern(client: httpx.Client) -> None:
    post(client, converse(client)["id"], "I prefer tea over coffee", wait=True)
    assert patterns(client)["totalCount"] == 0


def test_background_extraction_detects_patterns(eager: httpx.Client) -> None:
    conversation = converse(eager)["id"]
    with running_receiver() as receiver:
        hook = subscribe(eager, receiver.url, ["message.created", "pattern.detected"])
        receiver.secret = hook["secret"]
        message = post(eager, conversation, "Please keep answers short")  # no wait
        wait_for(lambda: len(receiver.accepted) >= 2, "both events")
    events = {r.event: json.loads(r.body)["data"] for r in receiver.accepted}
    assert events["message.created"]["message_id"] == message["id"]
    assert events["pattern.detected"]["text"] == "Keep answers short"
    assert events["pattern.detected"]["session_id"] == conversation
