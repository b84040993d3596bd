"""Seed 000's API over real HTTP: every documented example replayed, plus errors and tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mnemo.config import Settings
from tests.conftest import key_client

DOC_SESSION = "550e8400-e29b-41d4-a716-446655440000"  # the session id of the seed's examples
SESSION_FIELDS = {"session_id", "user_id", "created_at", "message_count"}
CHAT_FIELDS = {"response", "session_id", "relevant_context_count"}
HIT_FIELDS = {"id", "key", "value", "timestamp", "score"}


def recent(stamp: str) -> bool:
    """An ISO-8601 UTC time ("...Z") within the last minute."""
    moment = datetime.fromisoformat(stamp)
    return stamp.endswith("Z") and abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


def create_session(client: httpx.Client, user: str = "user123", name: str = "Test") -> str:
    response = client.post("/sessions", json={"user_id": user, "session_name": name})
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def say(client: httpx.Client, session_id: str, message: str, user: str = "user123") -> Any:
    body = {"message": message, "session_id": session_id, "user_id": user}
    response = client.post("/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def search(client: httpx.Client, query: str, user: str = "user123", **extra: Any) -> Any:
    response = client.post("/search", json={"query": query, "user_id": user, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def assert_detail(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["detail"] and body["detail"], body


# The examples of the document, in its order


def test_health_example(client: httpx.Client, anon: httpx.Client) -> None:
    for caller in (client, anon):  # the curl sends a key; the document says none is needed
        response = caller.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy" and body["database"] == "connected"
        assert recent(body["timestamp"])


def test_create_session_example(client: httpx.Client) -> None:
    body = {"user_id": "user123", "session_name": "Technical Discussion"}
    response = client.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == SESSION_FIELDS
    assert uuid.UUID(created["session_id"]).version == 4
    assert created["user_id"] == "user123" and created["message_count"] == 0
    assert recent(created["created_at"])
    native = client.get(f"/v1/working-memory/{created['session_id']}").json()
    assert native["data"] == {"session_name": "Technical Discussion"}


def test_get_session_example_counts_messages(client: httpx.Client) -> None:
    session_id = create_session(client, name="Technical Discussion")
    created = client.get(f"/sessions/{session_id}").json()
    say(client, session_id, "I am learning Python")
    say(client, session_id, "Mostly async code")
    response = client.get(f"/sessions/{session_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SESSION_FIELDS
    assert body["session_id"] == session_id and body["user_id"] == "user123"
    assert body["created_at"] == created["created_at"]
    assert created["message_count"] == 0 and body["message_count"] == 4


def test_message_count_includes_turns_folded_into_the_summary(client: httpx.Client) -> None:
    session_id = create_session(client)
    long_turn = "lorem ipsum dolor sit amet " * 1_150  # about 10,000 tokens, under 32 KiB
    say(client, session_id, long_turn)
    say(client, session_id, "Once more: " + long_turn)  # past 70 % of the 16k-token window
    native = client.get(f"/v1/working-memory/{session_id}").json()
    assert len(native["messages"]) < 4 and native["context"]  # older turns were folded
    assert client.get(f"/sessions/{session_id}").json()["message_count"] == 4


def test_delete_session_example(client: httpx.Client) -> None:
    session_id = create_session(client)
    response = client.delete(f"/sessions/{session_id}")
    assert response.status_code == 200
    assert response.json() == {"message": f"Session {session_id} deleted successfully"}
    assert_detail(client.get(f"/sessions/{session_id}"), 404)


def test_chat_example_recalls_what_was_discussed(client: httpx.Client) -> None:
    say(client, DOC_SESSION, "I want to get better at Python generators")
    body = {"message": "What did we discuss about Python?", "session_id": DOC_SESSION,
            "user_id": "user123"}  # fmt: skip
    response = client.post("/chat", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == CHAT_FIELDS and answer["session_id"] == DOC_SESSION
    assert "I want to get better at Python generators" in answer["response"]
    assert answer["relevant_context_count"] >= 1


def test_search_example(client: httpx.Client) -> None:
    session_id = create_session(client)
    say(client, session_id, "Tell me about machine learning models")
    body = {"query": "machine learning models", "session_id": session_id,
            "user_id": "user123", "limit": 10}  # fmt: skip
    response = client.post("/search", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {"memories", "count"}
    assert result["count"] == len(result["memories"]) == 2  # the turn and the answer
    top = result["memories"][0]
    assert set(top) == HIT_FIELDS
    assert top["value"] == {"role": "human", "content": "Tell me about machine learning models",
                            "session_id": session_id}  # fmt: skip
    assert top["key"].startswith("msg_") and top["id"] == f"conversations_user123_{top['key']}"
    assert recent(top["timestamp"]) and 0 < top["score"] <= 1
    answer = result["memories"][1]
    assert answer["value"]["role"] == "ai" and answer["score"] <= top["score"]


def test_curl_examples(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    created = client.post("/sessions", json={"user_id": "user123", "session_name": "Test Session"})
    assert created.status_code == 201 and set(created.json()) == SESSION_FIELDS
    body = {"message": "Hello, how are you?", "session_id": DOC_SESSION, "user_id": "user123"}
    chat = client.post("/chat", json=body)
    assert chat.status_code == 200, chat.text
    assert set(chat.json()) == CHAT_FIELDS and chat.json()["session_id"] == DOC_SESSION
    assert isinstance(chat.json()["relevant_context_count"], int) and chat.json()["response"]
    started = client.get(f"/sessions/{DOC_SESSION}").json()  # the chat started that session
    assert started["user_id"] == "user123" and started["message_count"] == 2


def test_python_requests_sample(server_url: str) -> None:
    headers = {"X-API-Key": "dev-key-12345", "Content-Type": "application/json"}
    response = httpx.post(
        f"{server_url}/sessions",
        headers=headers,
        json={"user_id": "user123", "session_name": "Test"},
    )
    session = response.json()
    session_id = session["session_id"]
    response = httpx.post(
        f"{server_url}/chat",
        headers=headers,
        json={
            "message": "What is semantic search?",
            "session_id": session_id,
            "user_id": "user123",
        },
    )
    chat_response = response.json()
    assert isinstance(chat_response["response"], str) and chat_response["response"]
    assert chat_response["session_id"] == session_id


def test_javascript_fetch_sample(server_url: str) -> None:
    headers = {"Content-Type": "application/json", "X-API-Key": "dev-key-12345"}
    session_response = httpx.post(
        f"{server_url}/sessions",
        headers=headers,
        content=b'{"user_id":"user123","session_name":"Test Session"}',
    )
    session = session_response.json()
    chat_body = {"message": "Tell me about AI", "session_id": session["session_id"],
                 "user_id": "user123"}  # fmt: skip
    chat_response = httpx.post(f"{server_url}/chat", headers=headers, json=chat_body)
    chat = chat_response.json()
    assert isinstance(chat["response"], str) and chat["response"]
    assert chat["session_id"] == session["session_id"]


# Search semantics


def test_search_without_session_id_spans_the_users_sessions(client: httpx.Client) -> None:
    first, second = create_session(client), create_session(client)
    say(client, first, "My cat Miso loves tuna")
    say(client, second, "Miso the cat sleeps all day")
    say(client, create_session(client, user="someone-else"), "Miso is my cat too", "someone-else")
    everywhere = search(client, "Miso the cat")
    assert {m["value"]["session_id"] for m in everywhere["memories"]} == {first, second}
    only_first = search(client, "Miso the cat", session_id=first)
    assert {m["value"]["session_id"] for m in only_first["memories"]} == {first}
    assert search(client, "Miso the cat", limit=1)["count"] == 1


def test_search_finds_stored_facts_as_memory_role(client: httpx.Client) -> None:
    fact = {"id": "fact-1", "text": "User is allergic to peanuts", "user_id": "user123"}
    client.post("/v1/long-term-memory/", json={"memories": [fact]}).raise_for_status()
    [hit] = search(client, "peanut allergy")["memories"]
    assert hit["id"] == "memories_user123_fact-1" and hit["key"] == "fact-1"
    assert hit["value"] == {"role": "memory", "content": fact["text"], "session_id": None}


# Deleting


def test_delete_removes_every_memory_of_the_session(client: httpx.Client) -> None:
    doomed, kept = create_session(client), create_session(client)
    say(client, doomed, "My locker code is 4711")
    say(client, kept, "My bike lock code is 8080")
    fact = {"id": "doomed-fact", "text": "User's locker code is 4711", "user_id": "user123",
            "session_id": doomed}  # fmt: skip
    client.post("/v1/long-term-memory/", json={"memories": [fact]}).raise_for_status()
    assert search(client, "locker code", session_id=doomed)["count"] == 3
    assert client.delete(f"/sessions/{doomed}").status_code == 200
    assert search(client, "locker code", session_id=doomed)["count"] == 0
    remaining = search(client, "code")["memories"]
    assert remaining and {m["value"]["session_id"] for m in remaining} == {kept}
    assert client.get("/v1/long-term-memory/doomed-fact").status_code == 404
    assert_detail(client.delete(f"/sessions/{doomed}"), 404)


def test_read_only_key_cannot_delete(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    session_id = create_session(client)
    say(client, session_id, "Keep this")
    with key_client(server_url, make_key("default", scopes="read")) as reader:
        assert reader.get(f"/sessions/{session_id}").status_code == 200
        assert_detail(reader.delete(f"/sessions/{session_id}"), 403)
    assert client.get(f"/sessions/{session_id}").json()["message_count"] == 2
    assert search(client, "Keep this", session_id=session_id)["count"] == 2


# Errors: {"detail": ...} with the documented codes, never a 500

ROUTES = [("POST", "/sessions"), ("GET", "/sessions/s"), ("DELETE", "/sessions/s"),
          ("POST", "/chat"), ("POST", "/search")]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_missing_key_is_401_and_wrong_key_403(anon: httpx.Client, method: str, path: str) -> None:
    assert_detail(anon.request(method, path, json={}), 401)
    assert_detail(anon.request(method, path, json={}, headers={"X-API-Key": "wrong"}), 403)


def test_unknown_session_is_404(client: httpx.Client) -> None:
    for response in (client.get("/sessions/nope"), client.delete("/sessions/nope")):
        assert_detail(response, 404)
        assert "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/sessions", {}), ("/sessions", {"user_id": ""}), ("/sessions", {"user_id": 5}),
     ("/sessions", {"user_id": "u", "session_name": ["x"]}), ("/sessions", []),
     ("/chat", {}), ("/chat", {"message": "", "session_id": "s", "user_id": "u"}),
     ("/chat", {"message": "hi", "user_id": "u"}), ("/chat", {"message": "hi", "session_id": "s"}),
     ("/chat", {"message": {"text": "hi"}, "session_id": "s", "user_id": "u"}),
     ("/search", {"user_id": "u"}), ("/search", {"query": "", "user_id": "u"}),
     ("/search", {"query": "q"}), ("/search", {"query": "q", "user_id": "u", "limit": 0}),
     ("/search", {"query": "q", "user_id": "u", "limit": 101}),
     ("/search", {"query": "q", "user_id": "u", "limit": "ten"}),
     ("/search", {"query": "q", "user_id": "u", "session_id": 7})],
)  # fmt: skip
def test_bad_bodies_are_422(client: httpx.Client, path: str, body: object) -> None:
    assert_detail(client.post(path, json=body), 422)


@pytest.mark.parametrize("path", ["/sessions", "/chat", "/search"])
def test_malformed_json_is_422(client: httpx.Client, path: str) -> None:
    response = client.post(
        path, content=b'{"user_id": ', headers={"Content-Type": "application/json"}
    )
    assert_detail(response, 422)


def test_oversized_message_is_413_and_not_stored(client: httpx.Client) -> None:
    session_id = create_session(client)
    body = {"message": "x" * 40_000, "session_id": session_id, "user_id": "user123"}
    assert_detail(client.post("/chat", json=body), 413)
    assert client.get(f"/sessions/{session_id}").json()["message_count"] == 0


def test_chat_cannot_take_over_another_users_session(client: httpx.Client) -> None:
    session_id = create_session(client, user="alice")
    say(client, session_id, "Alice's diary entry", user="alice")
    body = {"message": "hello", "session_id": session_id, "user_id": "mallory"}
    assert_detail(client.post("/chat", json=body), 404)
    after = client.get(f"/sessions/{session_id}").json()
    assert after["user_id"] == "alice" and after["message_count"] == 2


# Tenancy


def test_a_namespace_key_cannot_reach_another_namespaces_session(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with (
        key_client(server_url, make_key("tenant-a")) as a,
        key_client(server_url, make_key("tenant-b")) as b,
    ):
        theirs = create_session(b)
        say(b, theirs, "B's launch code is 1234")
        assert_detail(a.get(f"/sessions/{theirs}"), 404)
        assert_detail(a.delete(f"/sessions/{theirs}"), 404)
        assert search(a, "launch code", session_id=theirs)["count"] == 0
        assert search(a, "launch code")["count"] == 0
        answer = say(a, theirs, "What is the launch code?")  # a session of A's own, same id
        assert "1234" not in answer["response"] and answer["relevant_context_count"] == 0
        mine = b.get(f"/sessions/{theirs}").json()
        assert mine["message_count"] == 2
        hits = search(b, "launch code", session_id=theirs)["memories"]
        assert [h["value"]["content"] for h in hits if h["value"]["role"] == "human"] == [
            "B's launch code is 1234"
        ]


def test_a_user_key_cannot_reach_another_users_session(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    theirs = create_session(client, user="u2")
    say(client, theirs, "u2's secret recipe uses saffron", user="u2")
    with key_client(server_url, make_key("default", user="u1")) as u1:
        assert_detail(u1.get(f"/sessions/{theirs}"), 404)
        assert_detail(u1.delete(f"/sessions/{theirs}"), 404)
        chat = {"message": "what is in the recipe?", "session_id": theirs, "user_id": "u1"}
        assert_detail(u1.post("/chat", json=chat), 403)
        as_u2 = {"query": "secret recipe", "user_id": "u2"}
        assert_detail(u1.post("/search", json=as_u2), 403)
        assert search(u1, "secret recipe", user="u1")["count"] == 0
        assert_detail(u1.post("/sessions", json={"user_id": "u2"}), 403)
    assert client.get(f"/sessions/{theirs}").json()["message_count"] == 2


# Configuration and documentation


def test_settings_read_the_seeds_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MNEMO_HOST", "MNEMO_PORT", "MNEMO_API_KEY", "MNEMO_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # The seed's variable names; values other than mnemo's defaults, so reading them shows.
    seed_env = {"POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "6543", "POSTGRES_DB": "agents",
                "POSTGRES_USER": "agent", "POSTGRES_PASSWORD": "s3cret", "HOST": "0.0.0.0",
                "API_KEY": "your-secure-api-key", "PORT": "8001"}  # fmt: skip
    for name, value in seed_env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.host == "0.0.0.0" and settings.port == 8001
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "your-secure-api-key"
    assert settings.postgres_host == "db.internal" and settings.postgres_port == 6543
    assert settings.postgres_db == "agents" and settings.postgres_user == "agent"
    assert settings.resolved_database_url() == "postgresql://agent:s3cret@db.internal:6543/agents"
    assert not settings.dev_key_enabled  # a public host with API_KEY: the dev key is off


def test_openapi_groups_the_routes_under_seed_000(anon: httpx.Client) -> None:
    paths = anon.get("/openapi.json").json()["paths"]
    routes = [("post", "/sessions"), ("get", "/sessions/{session_id}"),
              ("delete", "/sessions/{session_id}"), ("post", "/chat"), ("post", "/search"),
              ("get", "/health")]  # fmt: skip
    for method, path in routes:
        assert "seed 000" in paths[path][method]["tags"], (method, path)
    assert "201" in paths["/sessions"]["post"]["responses"]
