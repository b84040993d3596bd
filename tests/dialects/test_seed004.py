"""Seed 004 (OmniMemory) over real HTTP: every curl of the document replayed, batcher, callbacks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.app import create_app
from mnemo.config import JobsConfig, Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from mnemo.models import Message
from mnemo.stores.batch_store import BatchKey
from mnemo.stores.sqlite_batches import SQLiteBatchStore
from mnemo.stores.sqlite_db import SQLiteDatabase
from tests.conftest import DEV_KEY, key_client
from tests.helpers.servers import serve_in_thread
from tests.jobs.waiting import wait_for

# The document's identifiers are shorter than its own 10-character rule ("my-app-id" has 9),
# so its examples are replayed twice: verbatim (400), then with these valid ones.
APP, USER, SESSION = "my-app-id-omni", "user-123-omni", "session-456"
ACCEPTED_FIELDS = {"task_id", "status", "message", "app_id", "user_id", "session_id"}
BATCHER_FIELDS = {"app_id", "user_id", "session_id", "pending_messages", "batch_size", "status",
                  "last_delivery"}  # fmt: skip
SCORE_FIELDS = {"document", "metadata", "composite_score", "similarity_score", "recency_score",
                "importance_score", "query_status"}  # fmt: skip
FILLER = [f"filler turn number {n}" for n in range(10)]  # turns the extractor finds no fact in
# The Add Memory curl's body, character for character (its trailing commas make it invalid JSON).
ADD_EXAMPLE = """{
    "app_id": "my-app-id",
    "user_id": "user-123",
    "session_id": "session-456",
    "messages": [
      {
        "role": "user",
        "content": "Hello, how are you?",
      },
      {
        "role": "assistant",
        "content": "I am doing well, thank you!",
      }
    ]
  }"""
BATCHER_EXAMPLE = {
    "app_id": "my-app-id",
    "user_id": "user-123",
    "messages": [
        {"role": "user", "content": "Booked a demo for Thursday"},
        {"role": "assistant", "content": "Confirmed calendar invite"},
    ],
}
AGENT_STRING_EXAMPLE = {
    "app_id": "my-app-id",
    "user_id": "user-123",
    "session_id": "session-456",
    "messages": "User completed onboarding and selected premium plan",
}
AGENT_ARRAY_EXAMPLE = {
    "app_id": "my-app-id",
    "user_id": "user-123",
    "messages": [
        {"role": "agent", "content": "User asked about pricing"},
        {"role": "user", "content": "What are your plans?"},
    ],
}
SUMMARY_SYNC_EXAMPLE = {
    "app_id": "my-app-id",
    "user_id": "user-123",
    "messages": "User conversation text here...",
}
SUMMARY_ASYNC_EXAMPLE = {
    "app_id": "my-app-id",
    "user_id": "user-123",
    "messages": "Long conversation text...",
}
CALLBACK_HEADER = {"X-Callback-URL": "https://your-webhook.com/callback"}
MEMORY_URL = "/api/v1/memories/memory-123?app_id=my-app-id"


def valid(example: Any) -> Any:
    """The example with identifiers that satisfy the document's 10-character rule."""
    text = json.dumps(example).replace("my-app-id", APP).replace("user-123", USER)
    return json.loads(text)


def as_json(text: str) -> Any:
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))  # the example, trailing commas dropped


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data")


def fast_settings(data_dir: Path, **extra: Any) -> Settings:
    jobs = JobsConfig(
        extraction_debounce_s=0, poll_interval_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2
    )
    webhooks = WebhooksConfig(allow_private=True, timeout_s=5.0)
    return Settings(data_dir=data_dir, jobs=jobs, webhooks=webhooks, **extra)


@contextmanager
def dev_client(settings: Settings, embedder: LocalEmbedder) -> Iterator[httpx.Client]:
    """A server of our own (for restarts and other settings) and a client with the dev key."""
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": DEV_KEY}, timeout=30) as client,
    ):
        yield client


def assert_detail(response: httpx.Response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str), body
    for fragment in fragments:
        assert fragment in body["detail"], body
    detail: str = body["detail"]
    return detail


def finished(client: httpx.Client, task_id: str, state: str = "succeeded") -> dict[str, Any]:
    """Poll the native task route until the task is done (bounded); it must end in `state`."""

    def check() -> dict[str, Any] | None:
        task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        return task if task["state"] in ("succeeded", "dead") else None

    task = wait_for(check, f"task {task_id}")
    assert task["state"] == state, task
    return task


def add(client: httpx.Client, *turns: str, user: str = USER, app: str = APP) -> dict[str, Any]:
    """POST /api/v1/memories with these user turns, padded with filler to ten; the finished task."""
    contents = [*turns, *FILLER][:10]
    messages = [{"role": "user", "content": c} for c in contents]
    body = {"app_id": app, "user_id": user, "messages": messages}
    response = client.post("/api/v1/memories", json=body)
    assert response.status_code == 202, response.text
    return finished(client, response.json()["task_id"])


def query(client: httpx.Client, text: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/memories/query", params={"app_id": APP, "query": text, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"memories", "count"} and body["count"] == len(body["memories"])
    found: list[dict[str, Any]] = body["memories"]
    return found


# Every example of the document, verbatim: refused by its own identifier rule


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [("POST", "/api/v1/memory-batcher/messages", BATCHER_EXAMPLE, {}),
     ("GET", "/api/v1/memories/query?app_id=my-app-id&query=hello&user_id=user-123&n_results=5",
      None, {}),
     ("GET", MEMORY_URL, None, {}), ("DELETE", MEMORY_URL, None, {}),
     ("GET", "/api/v1/memories/memory-123/evolution?app_id=my-app-id", None, {}),
     ("POST", "/api/v1/agent/memories", AGENT_STRING_EXAMPLE, {}),
     ("POST", "/api/v1/agent/memories", AGENT_ARRAY_EXAMPLE, {}),
     ("POST", "/api/v1/agent/summaries", SUMMARY_SYNC_EXAMPLE, {}),
     ("POST", "/api/v1/agent/summaries", SUMMARY_ASYNC_EXAMPLE, CALLBACK_HEADER)],
)  # fmt: skip
def test_examples_verbatim_break_the_ten_character_rule(
    client: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert_detail(response, 400, "app_id", "at least 10 characters")


def test_add_memory_example_verbatim_is_invalid_json(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    assert_detail(client.post("/api/v1/memories", content=ADD_EXAMPLE, headers=headers), 400)


def test_system_examples(client: httpx.Client, anon: httpx.Client) -> None:
    health = anon.get("/health")
    assert health.status_code == 200
    assert {"status": "healthy", "sdk_initialized": True}.items() <= health.json().items()
    assert isinstance(health.json()["service"], str)
    info = anon.get("/")  # no key needed, like /docs
    assert info.status_code == 200
    assert set(info.json()) == {"name", "version", "description", "endpoints"}
    assert info.json()["name"] == "mnemo" and info.json()["version"]
    assert info.json()["endpoints"] == {"docs": "/docs", "health": "/health", "api": "/api/v1"}
    stats = client.get("/api/v1/system/pool-stats")
    assert stats.status_code == 200
    body = stats.json()
    assert set(body) == {
        "max_connections",
        "created_handlers",
        "active_handlers",
        "available_handlers",
        "initialized",
    }
    assert body["initialized"] is True and body["max_connections"] > 0
    assert body["active_handlers"] + body["available_handlers"] == body["max_connections"]
    assert body["created_handlers"] >= 1  # the store's calls already ran on worker threads


# The same examples with valid identifiers


def test_add_memory_example(client: httpx.Client) -> None:
    """The example's two turns, then all ten the default OMNIMEMORY_DEFAULT_MAX_MESSAGES wants."""
    example = valid(as_json(ADD_EXAMPLE))
    assert_detail(client.post("/api/v1/memories", json=example), 400, "exactly 10", "got 2")
    example["messages"] += [{"role": "user", "content": c} for c in FILLER[:8]]
    response = client.post("/api/v1/memories", json=example)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == ACCEPTED_FIELDS | {"error", "result"}
    assert body["status"] == "accepted" and body["error"] is None and body["result"] is None
    assert body["message"] == "Memory creation task submitted successfully"
    assert (body["app_id"], body["user_id"], body["session_id"]) == (APP, USER, SESSION)
    task = finished(client, body["task_id"])
    assert task["type"] == "seed004.add_memory" and len(task["result"]["indexed"]) == 10
    [hit] = query(client, "Hello, how are you?", session_id=SESSION, n_results=1)
    assert hit["document"] == "Hello, how are you?"
    assert hit["metadata"]["role"] == "user" and hit["metadata"]["session_id"] == SESSION


def test_the_message_count_follows_the_setting(
    tmp_path: Path, embedder: LocalEmbedder, client: httpx.Client
) -> None:
    example = valid(as_json(ADD_EXAMPLE))
    for count in (9, 11):
        body = {**example, "messages": [{"role": "user", "content": "hi"}] * count}
        assert_detail(client.post("/api/v1/memories", json=body), 400, "exactly 10")
    settings = fast_settings(tmp_path / "two", message_batch_size=2)
    with dev_client(settings, embedder) as two:
        response = two.post("/api/v1/memories", json=example)  # the example exactly, ids aside
        assert response.status_code == 202, response.text
        finished(two, response.json()["task_id"])


def test_query_example(client: httpx.Client) -> None:
    add(client, "Hello, how are you?", "I live in Lisbon")
    params: dict[str, str | int] = {
        "app_id": APP,
        "query": "hello",
        "user_id": USER,
        "n_results": 5,
    }
    assert_detail(client.get("/api/v1/memories/query", params=params), 400, "query")
    found = query(client, "hello there", user_id=USER, n_results=5)
    assert len(found) == 5
    for memory in found:
        assert set(memory) == SCORE_FIELDS | {"memory_id"}
        assert memory["query_status"] == "completed" and memory["document"]
        assert 0 <= memory["similarity_score"] <= 1 and 0 <= memory["recency_score"] <= 1
        assert 0 <= memory["importance_score"] <= 1 and memory["composite_score"] > 0
        assert memory["metadata"]["app_id"] == APP and memory["metadata"]["user_id"] == USER
    scores = [m["composite_score"] for m in found]
    assert scores == sorted(scores, reverse=True)
    assert found[0]["document"] == "Hello, how are you?"
    strict = query(client, "hello there", similarity_threshold=0.5)
    assert strict and all(m["similarity_score"] >= 0.5 for m in strict)
    assert len(strict) < len(query(client, "hello there", n_results=20))


def test_get_and_delete_memory_examples(client: httpx.Client) -> None:
    missing = MEMORY_URL.replace("my-app-id", APP)
    assert_detail(client.get(missing), 404, "memory-123")
    assert_detail(client.delete(missing), 404, "memory-123")
    fact_id = add(client, "I live in Lisbon")["result"]["added"][0]
    url = f"/api/v1/memories/{fact_id}?app_id={APP}"
    got = client.get(url)
    assert got.status_code == 200
    assert set(got.json()) == {"memory_id", "document", "metadata"}
    assert got.json()["memory_id"] == fact_id and got.json()["document"] == "User lives in Lisbon"
    deleted = client.delete(url)
    assert deleted.status_code == 200
    assert deleted.json() == {
        "success": True,
        "data": None,
        "message": f"Memory {fact_id} deleted successfully",
    }
    assert_detail(client.get(url), 404)


def test_evolution_example_follows_a_supersede(client: httpx.Client) -> None:
    assert_detail(client.get(f"/api/v1/memories/memory-123/evolution?app_id={APP}"), 404)
    paris = add(client, "I live in Paris")["result"]["added"][0]
    [[old, berlin]] = add(client, "I moved to Berlin")["result"]["superseded"]
    assert old == paris
    response = client.get(f"/api/v1/memories/{paris}/evolution", params={"app_id": APP})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and [m["memory_id"] for m in body["memories"]] == [paris, berlin]
    first, last = body["memories"]
    assert first["document"] == "User lives in Paris" and last["document"] == "User lives in Berlin"
    assert first["metadata"]["next_id"] == berlin and last["metadata"]["next_id"] is None
    assert (first["metadata"]["status"], last["metadata"]["status"]) == ("superseded", "active")
    for memory in body["memories"]:
        assert {"created_at", "updated_at"} <= set(memory["metadata"])
    tail = client.get(f"/api/v1/memories/{berlin}/evolution", params={"app_id": APP}).json()
    assert tail["count"] == 1
    assert [m["document"] for m in query(client, "where does the user live")][:1] == [
        "User lives in Berlin"
    ]


@pytest.mark.parametrize(
    ("example", "document"),
    [(AGENT_STRING_EXAMPLE, "User completed onboarding and selected premium plan"),
     (AGENT_ARRAY_EXAMPLE, "agent: User asked about pricing user: What are your plans?")],
)  # fmt: skip
def test_agent_memory_examples(client: httpx.Client, example: Any, document: str) -> None:
    body = valid(example)
    response = client.post("/api/v1/agent/memories", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == ACCEPTED_FIELDS and accepted["status"] == "accepted"
    assert accepted["message"] == "Agent memory creation task submitted successfully"
    assert (accepted["app_id"], accepted["user_id"]) == (APP, USER)
    assert accepted["session_id"] == body.get("session_id")
    memory_id = finished(client, accepted["task_id"])["result"]["memory_id"]
    stored = client.get(f"/api/v1/memories/{memory_id}", params={"app_id": APP}).json()
    assert stored["document"] == document
    assert stored["metadata"]["memory_type"] == "episodic"


def test_summary_sync_example(client: httpx.Client) -> None:
    response = client.post("/api/v1/agent/summaries", json=valid(SUMMARY_SYNC_EXAMPLE))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "summary": "User conversation text here...",
        "app_id": APP,
        "user_id": USER,
        "session_id": None,
        "message_count": 1,
    }


# Summaries delivered to a callback, signed, retried


@dataclass
class Call:
    headers: dict[str, str]  # names lower-cased
    body: str
    answered: int


@dataclass
class CallbackReceiver:
    """Answers 500 to the first `failures` calls (every call when negative), then 200."""

    failures: int
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: str) -> int:
        with self.lock:
            failing = self.failures < 0 or len(self.calls) < self.failures
            self.calls.append(Call(headers, body, 500 if failing else 200))
            return self.calls[-1].answered


@contextmanager
def callback_receiver(failures: int = 0) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver(failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            status = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def signed_by(secret: str, call: Call) -> bool:
    message = f"{call.headers['x-mnemo-timestamp']}.{call.body}".encode()
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, call.headers["x-mnemo-signature"])


def submit_summary(client: httpx.Client, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/agent/summaries", json=body, headers=headers)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    assert set(accepted) == ACCEPTED_FIELDS | {"callback_url", "callback_secret"}
    assert accepted["status"] == "accepted" and accepted["app_id"] == APP
    assert accepted["message"] == "Summary task submitted successfully"
    return accepted


def test_summary_callback_example_is_signed_and_retried(client: httpx.Client) -> None:
    """The X-Callback-URL example: the receiver fails once, the second attempt is accepted."""
    with callback_receiver(failures=1) as receiver:
        headers = {"X-Callback-URL": receiver.url}
        accepted = submit_summary(client, valid(SUMMARY_ASYNC_EXAMPLE), headers)
        summary_task = finished(client, accepted["task_id"])
        delivery = finished(client, summary_task["result"]["callback_task_id"])
        assert delivery["type"] == "seed004.callback" and delivery["attempts"] == 2
        assert [c.answered for c in receiver.calls] == [500, 200]
    assert accepted["callback_url"] == receiver.url
    first, second = receiver.calls
    assert first.body == second.body and all(
        signed_by(accepted["callback_secret"], c) for c in receiver.calls
    )
    assert first.headers["x-mnemo-delivery"] == second.headers["x-mnemo-delivery"]
    assert second.headers["x-mnemo-event"] == "summary.completed"
    payload = json.loads(second.body)
    assert payload["task_id"] == accepted["task_id"] and payload["status"] == "completed"
    assert payload["summary"] == "Long conversation text..."
    assert (payload["app_id"], payload["user_id"], payload["session_id"]) == (APP, USER, None)
    assert payload["metadata"]["message_count"] == 1
    assert payload["metadata"]["summarizer"] == "offline" and payload["metadata"]["generated_at"]


def test_summary_callback_in_the_body_with_its_headers(client: httpx.Client) -> None:
    with callback_receiver() as receiver:
        body = {
            **valid(SUMMARY_ASYNC_EXAMPLE),
            "callback_url": receiver.url,
            "callback_headers": {"Authorization": "Bearer token"},
            "callback_secret": "a-secret-we-chose",
        }
        accepted = submit_summary(client, body, {})
        summary_task = finished(client, accepted["task_id"])
        finished(client, summary_task["result"]["callback_task_id"])
    [call] = receiver.calls
    assert accepted["callback_secret"] == "a-secret-we-chose" and signed_by(
        "a-secret-we-chose", call
    )
    assert call.headers["authorization"] == "Bearer token"


def test_a_callback_that_always_fails_gives_up_after_three_attempts(client: httpx.Client) -> None:
    with callback_receiver(failures=-1) as receiver:
        accepted = submit_summary(
            client, valid(SUMMARY_ASYNC_EXAMPLE), {"X-Callback-URL": receiver.url}
        )
        summary_task = finished(client, accepted["task_id"])
        delivery = finished(client, summary_task["result"]["callback_task_id"], state="dead")
    assert delivery["attempts"] == 3 and "HTTP 500" in delivery["error"]
    assert len(receiver.calls) == 3


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [({"callback_url": "ftp://example.com/x"}, "http"),
     ({"callback_url": "http://127.0.0.1:9/x", "callback_headers": {"Host": "evil"}}, "Host"),
     ({"callback_url": "http://127.0.0.1:9/x", "callback_headers": {"X-Mnemo-Event": "x"}},
      "X-Mnemo")],
)  # fmt: skip
def test_bad_callbacks_are_refused_at_once(
    client: httpx.Client, extra: dict[str, Any], fragment: str
) -> None:
    body = {**valid(SUMMARY_ASYNC_EXAMPLE), **extra}
    assert_detail(client.post("/api/v1/agent/summaries", json=body), 400, fragment)


# The message batcher


def send(client: httpx.Client, contents: list[str], **ids: Any) -> dict[str, Any]:
    body = {
        "app_id": APP,
        "user_id": USER,
        **ids,
        "messages": [{"role": "user", "content": c} for c in contents],
    }
    response = client.post("/api/v1/memory-batcher/messages", json=body)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    assert set(state) >= BATCHER_FIELDS and state["batch_size"] == 10
    return state


def test_batcher_example(client: httpx.Client) -> None:
    response = client.post("/api/v1/memory-batcher/messages", json=valid(BATCHER_EXAMPLE))
    assert response.status_code == 200, response.text
    state = response.json()
    assert {k: state[k] for k in BATCHER_FIELDS} == {
        "app_id": APP,
        "user_id": USER,
        "session_id": None,
        "pending_messages": 2,
        "batch_size": 10,
        "status": "pending",
        "last_delivery": None,
    }


def test_batcher_keeps_pending_messages_across_a_restart_and_flushes_once(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    settings = fast_settings(tmp_path / "data")
    with dev_client(settings, embedder) as first:
        assert send(first, FILLER[:4], session_id=SESSION)["pending_messages"] == 4
    with dev_client(settings, embedder) as second:
        state = send(second, FILLER[4:7], session_id=SESSION)
        assert (state["pending_messages"], state["status"], state["last_delivery"]) == (
            7,
            "pending",
            None,
        )
        state = send(second, [*FILLER[7:], "I live in Porto", "See you"], session_id=SESSION)
        assert (state["pending_messages"], state["status"], state["last_delivery"]) == (
            2,
            "flushed",
            "add_memory",
        )
        [task_id] = state["task_ids"]
        assert state["last_delivery_task_id"] == task_id
        indexed = finished(second, task_id)["result"]["indexed"]
        documents = [
            second.get(f"/api/v1/memories/{i}", params={"app_id": APP}).json()["document"]
            for i in indexed
        ]
        assert documents == FILLER  # the oldest ten, in order; the last two still wait
        tasks = second.get("/v1/tasks", params={"namespace": APP}).json()["tasks"]
        assert [t["id"] for t in tasks] == [task_id]
        state = send(second, ["One more"], session_id=SESSION)
        assert (state["pending_messages"], state["status"], state["task_ids"]) == (3, "pending", [])
        assert state["last_delivery"] == "add_memory" and state["last_delivery_task_id"] == task_id


def test_a_batch_sealed_before_a_crash_is_queued_at_start(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    """The process stopped between sealing a batch and queueing its task: start queues it."""
    settings = fast_settings(tmp_path / "data")
    db = SQLiteDatabase(settings.sqlite_path)
    db.open()
    messages = [Message(role="user", content=c) for c in FILLER]
    outcome = asyncio.run(SQLiteBatchStore(db).append(BatchKey(APP, USER), messages, 10))
    db.close()
    assert len(outcome.sealed) == 1 and outcome.pending == 0
    with dev_client(settings, embedder) as client:
        [task] = client.get("/v1/tasks", params={"namespace": APP}).json()["tasks"]
        assert task["type"] == "seed004.add_memory"
        assert len(finished(client, task["id"])["result"]["indexed"]) == 10
        state = send(client, ["After the restart"])
        assert state["pending_messages"] == 1 and state["last_delivery_task_id"] == task["id"]


def test_batcher_buffers_each_conversation_apart(client: httpx.Client) -> None:
    assert send(client, FILLER[:3], session_id="session-aaaa")["pending_messages"] == 3
    assert send(client, FILLER[:2], session_id="session-bbbb")["pending_messages"] == 2
    assert send(client, FILLER[:1])["pending_messages"] == 1
    assert send(client, FILLER[:1], user_id="another-user-1")["pending_messages"] == 1
    assert send(client, FILLER[:1], session_id="session-aaaa")["pending_messages"] == 4


# Validation, keys and tenancy


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [("/api/v1/memory-batcher/messages", {"messages": [{"role": "agent", "content": "x"}]}, "role"),
     ("/api/v1/memory-batcher/messages", {"messages": []}, "messages"),
     ("/api/v1/memories", {"messages": [{"content": "no role"}] * 10}, "role"),
     ("/api/v1/memories", {"messages": [{"role": "user", "content": ""}] * 10}, "content"),
     ("/api/v1/memories", {"session_id": "short"}, "session_id"),
     ("/api/v1/memories", {"user_id": "short"}, "user_id"),
     ("/api/v1/agent/memories", {"messages": ""}, "messages"),
     ("/api/v1/agent/summaries", {"messages": []}, "messages")],
)  # fmt: skip
def test_bad_input_is_400_with_a_detail(
    client: httpx.Client, path: str, body: dict[str, Any], fragment: str
) -> None:
    full = {"app_id": APP, "user_id": USER, "messages": [{"role": "user", "content": "x"}], **body}
    assert_detail(client.post(path, json=full), 400, fragment)


def test_timestamps_are_optional_and_kept(client: httpx.Client) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": c} for c in FILLER]
    messages[0]["timestamp"] = "2024-01-02T03:04:05Z"
    messages[1]["timestamp"] = 1_704_164_645  # epoch seconds, the same moment
    messages[2]["timestamp"] = "2024-01-02T03:04:05"  # no zone: UTC
    body = {"app_id": APP, "user_id": USER, "messages": messages}
    response = client.post("/api/v1/memories", json=body)
    assert response.status_code == 202, response.text
    indexed = finished(client, response.json()["task_id"])["result"]["indexed"]
    for memory_id in indexed[:3]:
        stored = client.get(f"/api/v1/memories/{memory_id}", params={"app_id": APP}).json()
        assert stored["metadata"]["created_at"] == "2024-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/memories"), ("POST", "/api/v1/memory-batcher/messages"),
     ("GET", f"/api/v1/memories/query?app_id={APP}&query=hello+there"),
     ("GET", f"/api/v1/memories/x?app_id={APP}"), ("DELETE", f"/api/v1/memories/x?app_id={APP}"),
     ("GET", f"/api/v1/memories/x/evolution?app_id={APP}"), ("POST", "/api/v1/agent/memories"),
     ("POST", "/api/v1/agent/summaries"), ("GET", "/api/v1/system/pool-stats")],
)  # fmt: skip
def test_every_api_route_needs_a_key(anon: httpx.Client, method: str, path: str) -> None:
    assert_detail(anon.request(method, path, json={}), 401)
    assert_detail(anon.request(method, path, json={}, headers={"X-API-Key": "nope"}), 403)


def test_app_id_is_the_namespace_a_key_is_bound_to(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    fact = add(client, "I live in Oslo")["result"]["added"][0]  # polled with the unlimited dev key
    with (
        key_client(server_url, make_key(APP)) as own,
        key_client(server_url, make_key("another-app-id")) as other,
    ):
        turns = [{"role": "user", "content": c} for c in FILLER]
        conversation = {"app_id": APP, "user_id": USER}
        bodies: list[tuple[str, dict[str, Any]]] = [
            ("/api/v1/memories", {"messages": turns}),
            ("/api/v1/memory-batcher/messages", {"messages": turns[:1]}),
            ("/api/v1/agent/memories", {"messages": "note"}),
            ("/api/v1/agent/summaries", {"messages": "text"}),
        ]
        for path, body in bodies:
            assert_detail(other.post(path, json={**conversation, **body}), 403, "bound")
        for url in [f"/api/v1/memories/{fact}", f"/api/v1/memories/{fact}/evolution"]:
            assert_detail(other.get(url, params={"app_id": APP}), 403)
            assert_detail(other.get(url, params={"app_id": "another-app-id"}), 404)
        assert_detail(other.delete(f"/api/v1/memories/{fact}", params={"app_id": APP}), 403)
        params = {"app_id": APP, "query": "where do I live"}
        assert_detail(other.get("/api/v1/memories/query", params=params), 403)
        assert query(own, "where does the user live")[0]["memory_id"] == fact


def test_a_user_bound_key_writes_only_for_its_user(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with key_client(server_url, make_key(APP, user=USER)) as alice:
        body = {"app_id": APP, "user_id": "someone-else", "messages": "note"}
        assert_detail(alice.post("/api/v1/agent/memories", json=body), 403, "user")
        accepted = alice.post("/api/v1/agent/memories", json={**body, "user_id": USER})
        assert accepted.status_code == 202


def test_a_memory_added_here_is_found_by_the_native_search(client: httpx.Client) -> None:
    fact = add(client, "I live in Reykjavik")["result"]["added"][0]
    body = {"text": "Reykjavik", "namespace": {"eq": APP}, "memory_type": {"eq": "semantic"}}
    response = client.post("/v1/long-term-memory/search", json=body)
    assert response.status_code == 200
    [found] = response.json()["memories"]
    assert (
        found["id"] == fact
        and found["user_id"] == USER
        and found["text"] == ("User lives in Reykjavik")
    )


def test_interactive_docs_group_the_seed_004_routes(anon: httpx.Client) -> None:
    paths = anon.get("/openapi.json").json()["paths"]
    routes = [
        ("/api/v1/memories", "post"),
        ("/api/v1/memory-batcher/messages", "post"),
        ("/api/v1/memories/query", "get"),
        ("/api/v1/memories/{memory_id}", "get"),
        ("/api/v1/memories/{memory_id}", "delete"),
        ("/api/v1/memories/{memory_id}/evolution", "get"),
        ("/api/v1/agent/memories", "post"),
        ("/api/v1/agent/summaries", "post"),
        ("/api/v1/system/pool-stats", "get"),
        ("/", "get"),
        ("/health", "get"),
    ]
    for path, method in routes:
        assert "seed 004" in paths[path][method]["tags"], (path, method)


def test_an_agent_note_repeated_word_for_word_is_stored_once(client: httpx.Client) -> None:
    body = valid(AGENT_STRING_EXAMPLE)
    results = []
    for _ in range(2):
        accepted = client.post("/api/v1/agent/memories", json=body).json()
        results.append(finished(client, accepted["task_id"])["result"])
    assert results[0]["duplicate"] is False and results[0]["memory_id"]
    assert results[1]["duplicate"] is True and results[1]["memory_id"] is None
