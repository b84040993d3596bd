"""Seed 003 over real HTTP: error bodies, keys and scopes, tenancy on every route, and the
other dialects reading what seed 003 wrote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.config import Settings
from tests.conftest import key_client
from tests.dialects.test_seed003 import (
    ERROR_FIELDS,
    PUBLIC_URL,
    ask,
    assert_error,
    converse,
    hooked_settings,
    patterns,
    post,
    settled,
    subscribe,
)
from tests.jobs.receiver import running_receiver


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return hooked_settings(tmp_path / "data")


def routes(conversation: str, pattern: str) -> list[tuple[str, str, Any]]:
    """Every seed 003 route that needs a key, with a well-formed body."""
    base = f"/v1/conversations/{conversation}"
    return [
        ("POST", "/v1/conversations", {"title": "x"}),
        ("POST", f"{base}/messages", {"role": "user", "content": "hi"}),
        ("POST", f"{base}/query", {"question": "what?"}),
        ("GET", f"{base}/context?query=what", None),
        ("GET", "/v1/memory/statistics", None),
        ("GET", "/v1/patterns", None),
        ("DELETE", f"/v1/patterns/{pattern}", None),
    ]


# Errors: {error, message, details} with the document's codes, never a 500


@pytest.mark.parametrize(("method", "path", "body"), routes("c", "p"))
def test_missing_key_is_401_and_wrong_key_403(
    anon: httpx.Client, method: str, path: str, body: Any
) -> None:
    assert_error(anon.request(method, path, json=body), 401, "UNAUTHORIZED")
    wrong = {"Authorization": "Bearer not-a-key"}
    assert_error(anon.request(method, path, json=body, headers=wrong), 403, "FORBIDDEN")


def test_webhook_errors_carry_both_shapes(client: httpx.Client, anon: httpx.Client) -> None:
    """POST /v1/webhooks is native and seed 003: its errors hold both bodies."""
    body = {"url": PUBLIC_URL, "events": ["message.created"]}
    missing = anon.post("/v1/webhooks", json=body)
    assert missing.status_code == 401
    assert set(missing.json()) == {"detail", *ERROR_FIELDS}
    assert missing.json()["error"] == "UNAUTHORIZED" and missing.json()["detail"]
    unknown = client.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["nope"]})
    assert unknown.status_code == 400 and unknown.json()["error"] == "BAD_REQUEST"
    assert "pattern.detected" in unknown.json()["detail"] == unknown.json()["message"]
    invalid = client.post("/v1/webhooks", json={"url": PUBLIC_URL})
    assert invalid.status_code == 422 and invalid.json()["details"] == {"events": "Field required"}


BAD_BODIES = [
    ("", {"title": 5}), ("", {"tags": "dotnet"}), ("", {"tags": [""]}), ("", []),
    ("", {"title": "t" * 2_000}), ("/messages", {}), ("/messages", {"role": "user"}),
    ("/messages", {"role": "user", "content": ""}),
    ("/messages", {"role": "robot", "content": "x"}),
    ("/messages", {"role": 7, "content": "x"}), ("/messages", {"role": True, "content": "x"}),
    ("/messages", {"role": "user", "content": {"text": "x"}}),
    ("/messages", {"role": "user", "content": "x", "importanceScore": 1.5}),
    ("/messages", {"role": "user", "content": "x", "importanceScore": "high"}),
    ("/query", {}), ("/query", {"question": ""}), ("/query", {"question": "q", "maxTokens": 0}),
    ("/query", {"question": "q", "maxTokens": "lots"}),
    ("/query", {"question": "q", "includeDebugInfo": "maybe"}),
]  # fmt: skip


@pytest.mark.parametrize(("suffix", "body"), BAD_BODIES)
def test_bad_bodies_are_400(client: httpx.Client, suffix: str, body: object) -> None:
    path = f"/v1/conversations/{converse(client)['id']}{suffix}" if suffix else "/v1/conversations"
    error = assert_error(client.post(path, json=body), 400, "BAD_REQUEST")
    assert error["details"], error  # each failing field, named


@pytest.mark.parametrize(
    "path",
    ["/v1/patterns?page=0", "/v1/patterns?pageSize=0", "/v1/patterns?pageSize=101",
     "/v1/patterns?page=first", "/v1/memory/statistics?userId=",
     "/v1/conversations/{c}/context?limit=0", "/v1/conversations/{c}/context?limit=101"],
)  # fmt: skip
def test_bad_query_parameters_are_400(client: httpx.Client, path: str) -> None:
    conversation = converse(client)["id"]
    assert_error(client.get(path.replace("{c}", conversation)), 400, "BAD_REQUEST")


def test_malformed_json_is_400(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    response = client.post("/v1/conversations", content=b'{"title": ', headers=headers)
    assert assert_error(response, 400, "BAD_REQUEST")["details"] == {"body": "JSON decode error"}


def test_oversized_message_is_413_and_not_stored(client: httpx.Client) -> None:
    conversation = converse(client)["id"]
    body = {"role": "user", "content": "x" * 40_000}
    response = client.post(f"/v1/conversations/{conversation}/messages", json=body)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert client.get(f"/v1/working-memory/{conversation}").json()["messages"] == []


def test_unknown_conversations_and_patterns_are_404(client: httpx.Client) -> None:
    for method, path, body in routes("nope", "nope"):
        if "nope" in path:
            error = assert_error(client.request(method, path, json=body), 404, "NOT_FOUND")
            assert "'nope' not found" in error["message"]


def test_a_read_only_key_reads_but_cannot_write(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    conversation = converse(client)["id"]
    post(client, conversation, "Please keep answers short", wait=True)
    [pattern] = patterns(client)["items"]
    with key_client(server_url, make_key("default", scopes="read")) as reader:
        for method, path, body in routes(conversation, pattern["id"]):
            response = reader.request(method, path, json=body)
            if method == "GET" or path.endswith("/query"):
                assert response.status_code == 200, (path, response.text)
            else:
                assert_error(response, 403, "FORBIDDEN")
    assert patterns(client)["totalCount"] == 1


# Tenancy


def test_a_namespace_key_reaches_nothing_of_another_namespace(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with (
        key_client(server_url, make_key("tenant-a")) as a,
        key_client(server_url, make_key("tenant-b")) as b,
    ):
        theirs = converse(a)["id"]
        post(a, theirs, "Please always answer in French", wait=True)
        [pattern] = patterns(a)["items"]
        for method, path, body in routes(theirs, pattern["id"]):
            response = b.request(method, path, json=body)
            if path.startswith(f"/v1/conversations/{theirs}") or method == "DELETE":
                assert_error(response, 404, "NOT_FOUND")
        assert patterns(b)["totalCount"] == 0 and patterns(a)["totalCount"] == 1
        stats = b.get("/v1/memory/statistics").json()
        assert stats["namespace"] == "tenant-b" and stats["patternCount"] == 0
        assert stats["conversationCount"] == 1 and stats["messageCount"] == 0  # the route's own
        assert a.get("/v1/memory/statistics").json()["conversationCount"] == 1
        mine = converse(b)["id"]
        assert ask(b, mine, "Which language should you answer in?")["sources"] == []
        with running_receiver() as receiver:
            hook = subscribe(b, receiver.url, ["message.created"])
            receiver.secret = hook["secret"]
            post(a, theirs, "A's second message")
            said = post(b, mine, "B's own message")
            [delivery] = settled(b, hook["id"])
        assert delivery["event"] == "message.created"
        [received] = receiver.accepted
        assert said["id"] in received.body and received.signature_ok
        assert a.get(f"/v1/webhooks/{hook['id']}").status_code == 404


def test_a_user_key_reaches_only_its_users_conversations(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    theirs = converse(client, userId="u2")
    assert theirs["userId"] == "u2"
    post(client, theirs["id"], "Please always answer in French", wait=True)
    [pattern] = patterns(client)["items"]
    with key_client(server_url, make_key("default", user="u1")) as u1:
        for method, path, body in routes(theirs["id"], pattern["id"]):
            response = u1.request(method, path, json=body)
            if theirs["id"] in path or method == "DELETE":
                assert_error(response, 404, "NOT_FOUND")
        assert patterns(u1)["totalCount"] == 0
        assert_error(u1.get("/v1/patterns?userId=u2"), 403, "FORBIDDEN")
        assert_error(u1.get("/v1/memory/statistics?userId=u2"), 403, "FORBIDDEN")
        assert_error(u1.post("/v1/conversations", json={"userId": "u2"}), 403, "FORBIDDEN")
        stats = u1.get("/v1/memory/statistics").json()
        assert stats["userId"] == "u1" and stats["conversationCount"] == 1  # the route's own
        assert stats["patternCount"] == 0
        hook = u1.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["message.created"]})
        assert hook.status_code == 403 and hook.json()["error"] == "FORBIDDEN"
    assert patterns(client, userId="u2")["totalCount"] == 1


# One model under every dialect


def test_a_message_posted_here_is_found_by_the_other_dialects(client: httpx.Client) -> None:
    conversation = converse(client, userId="user123")["id"]
    message = post(client, conversation, "I live in Madrid", wait=True)
    search = {"text": "where does the user live", "session_id": {"eq": conversation}}
    hits = client.post("/v1/long-term-memory/search", json=search).json()["memories"]
    assert {(h["memory_type"], h["text"]) for h in hits} == {
        ("message", "I live in Madrid"), ("semantic", "User lives in Madrid")
    }  # fmt: skip
    assert message["id"] in {h["id"] for h in hits}
    session = client.get(f"/sessions/{conversation}").json()  # seed 000
    assert session["user_id"] == "user123" and session["message_count"] == 1
    found = client.get("/v1/memories/search", params={"query": "Madrid", "user_id": "user123"})
    assert [m["content"] for m in found.json()["data"]["memories"]] == ["User lives in Madrid"]


def test_a_native_session_is_a_conversation(client: httpx.Client) -> None:
    turns = [{"role": "user", "content": "Our cache TTL is five minutes"}]
    client.put("/v1/working-memory/native-1", json={"messages": turns}).raise_for_status()
    answer = ask(client, "native-1", "What is the cache TTL?")
    assert [s["content"] for s in answer["sources"]] == ["Our cache TTL is five minutes"]
    context = client.get("/v1/conversations/native-1/context").json()["context"]
    assert "user: Our cache TTL is five minutes" in context


def test_openapi_groups_the_routes_under_seed_003(anon: httpx.Client) -> None:
    paths = anon.get("/openapi.json").json()["paths"]
    documented = [
        ("post", "/v1/conversations"), ("post", "/v1/conversations/{conversation_id}/messages"),
        ("post", "/v1/conversations/{conversation_id}/query"),
        ("get", "/v1/conversations/{conversation_id}/context"), ("get", "/v1/memory/health"),
        ("get", "/v1/memory/statistics"), ("get", "/v1/patterns"),
        ("delete", "/v1/patterns/{pattern_id}"), ("post", "/v1/webhooks"),
    ]  # fmt: skip
    for method, path in documented:
        assert "seed 003" in paths[path][method]["tags"], (method, path)
    assert "204" in paths["/v1/patterns/{pattern_id}"]["delete"]["responses"]
    assert "pageSize" in {p["name"] for p in paths["/v1/patterns"]["get"]["parameters"]}
