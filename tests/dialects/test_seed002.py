"""Seed 002 (mem0-style API): every example of the document replayed against the real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import DEV_KEY, key_client

BEARER = {"Authorization": f"Bearer {DEV_KEY}"}
JSON_BEARER = {**BEARER, "Content-Type": "application/json"}
DOC_TOKENS = ["mem0_dev_key_123456789", "mem0_docker_key_987654321", "mem0_admin_key_111222333"]
# Quick Testing, 3. Add a Memory: the body exactly as the document sends it.
EXAMPLE_ADD = {
    "messages": [{"role": "user", "content": "I love building AI applications with FastAPI"}],
    "user_id": "test_user_123",
    "metadata": {"source": "external_test"},
}
EXAMPLE_FACT = "User loves building AI applications with FastAPI"


def assert_timestamp(value: str) -> None:
    assert value.endswith("Z")
    moment = datetime.fromisoformat(value)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


def ok(response: httpx.Response) -> Any:
    """The success envelope, field for field; returns its data."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "data", "message", "timestamp"}
    assert body["success"] is True
    assert isinstance(body["message"], str) and body["message"]
    assert_timestamp(body["timestamp"])
    return body["data"]


def failed(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope, field for field; returns its error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "error", "timestamp"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    assert_timestamp(body["timestamp"])
    error: dict[str, Any] = body["error"]
    return error


def assert_memory_object(memory: dict[str, Any], content: str, user_id: str) -> None:
    """The document's memory object: id, content, user_id, metadata, relationships."""
    assert isinstance(memory["id"], str) and memory["id"]
    assert memory["content"] == content and memory["user_id"] == user_id
    metadata = memory["metadata"]
    assert isinstance(metadata["source"], str)
    assert_timestamp(metadata["timestamp"])
    assert all(isinstance(e, str) for e in metadata["entities"])
    assert "embedding" not in memory  # only on request
    assert [r["entity"] for r in memory["relationships"]] == metadata["entities"]
    for relation in memory["relationships"]:
        assert set(relation) == {"type", "entity", "confidence"}
        assert relation["type"] == "mentions" and 0.0 < relation["confidence"] <= 1.0


def add(client: httpx.Client, content: str, user_id: str, **extra: Any) -> list[dict[str, Any]]:
    body = {"messages": [{"role": "user", "content": content}], "user_id": user_id, **extra}
    memories: list[dict[str, Any]] = ok(client.post("/v1/memories", json=body))["memories"]
    return memories


@pytest.fixture
def example(anon: httpx.Client) -> dict[str, Any]:
    """The document's add example, sent as its curl does (Bearer, JSON)."""
    data = ok(anon.post("/v1/memories", json=EXAMPLE_ADD, headers=JSON_BEARER))
    assert len(data["memories"]) == 1
    memory: dict[str, Any] = data["memories"][0]
    return memory


def test_health_check_needs_no_key(anon: httpx.Client) -> None:
    response = anon.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy" and body["database"] == "connected"
    assert_timestamp(body["timestamp"])


def test_system_status_with_bearer_key(anon: httpx.Client, example: dict[str, Any]) -> None:
    data = ok(anon.get("/status", headers=BEARER))
    assert data["status"] == "healthy" and data["version"]
    assert data["database"] == {"status": "connected", "backend": "sqlite"}
    assert data["embedding"] == {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "dimension": 384,
    }
    assert data["llm"] == {"mode": "offline", "model": None}
    assert data["uptime_seconds"] >= 0
    assert data["memories"]["total"] == 1 and data["memories"]["by_type"]["semantic"] == 1


def test_add_a_memory_example(example: dict[str, Any]) -> None:
    assert_memory_object(example, EXAMPLE_FACT, "test_user_123")
    assert example["metadata"]["source"] == "external_test"
    assert example["metadata"]["entities"] == ["AI", "FastAPI"]
    assert {"type": "mentions", "entity": "FastAPI", "confidence": 1.0} in example["relationships"]
    assert example["event"] == "ADD" and example["supersedes"] is None


def test_search_memories_example(anon: httpx.Client, example: dict[str, Any]) -> None:
    url = "/v1/memories/search?query=FastAPI&user_id=test_user_123&limit=5"
    data = ok(anon.get(url, headers=BEARER))
    assert data["total"] == 1 and data["limit"] == 5 and data["next_offset"] is None
    [found] = data["memories"]
    assert found["id"] == example["id"] and found["score"] > 0
    assert_memory_object(found, EXAMPLE_FACT, "test_user_123")


def test_authentication_example_request(anon: httpx.Client, example: dict[str, Any]) -> None:
    data = ok(anon.get("/v1/memories/search?query=test&user_id=demo", headers=JSON_BEARER))
    assert data["memories"] == [] and data["total"] == 0  # user demo has no memories


def test_interactive_docs_group_the_seed_002_routes(anon: httpx.Client) -> None:
    assert anon.get("/docs").status_code == 200
    paths = anon.get("/openapi.json").json()["paths"]
    routes = [("/v1/memories", "post"), ("/v1/memories/search", "get"),
              ("/v1/memories/{memory_id}", "get"), ("/v1/memories/{memory_id}", "put"),
              ("/v1/memories/{memory_id}", "delete"), ("/v1/memories/user/{user_id}", "get"),
              ("/status", "get"), ("/v1/metrics", "get"), ("/health", "get")]  # fmt: skip
    for path, method in routes:
        assert "seed 002" in paths[path][method]["tags"], (path, method)


def test_sdk_style_client_on_the_v1_base_url(server_url: str) -> None:
    """`MemoryClient(api_key=...)` against the documented base URL http://host:port/v1."""
    body = {"messages": [{"role": "user", "content": "I live in Oslo"}], "user_id": "sdk"}
    with httpx.Client(base_url=f"{server_url}/v1/", headers=BEARER, timeout=30) as sdk:
        [added] = ok(sdk.post("memories", json=body))["memories"]
        [again] = ok(sdk.post("memories/", json=body))["memories"]  # mem0 clients end with "/"
        assert again["id"] == added["id"] and again["event"] == "NONE"
        found = ok(sdk.get("memories/search", params={"query": "Oslo", "user_id": "sdk"}))
        assert [m["content"] for m in found["memories"]] == ["User lives in Oslo"]
        assert ok(sdk.get("status"))["database"]["status"] == "connected"  # /v1/status


@pytest.mark.parametrize("token", DOC_TOKENS)
def test_the_documents_hard_coded_tokens_are_refused(anon: httpx.Client, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    failed(anon.get("/status", headers=headers), 403, "FORBIDDEN")
    failed(anon.post("/v1/memories", json=EXAMPLE_ADD, headers=headers), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/memories"), ("GET", "/v1/memories/search?query=x"), ("GET", "/v1/memories/x"),
     ("PUT", "/v1/memories/x"), ("DELETE", "/v1/memories/x"), ("GET", "/v1/memories/user/u"),
     ("GET", "/status"), ("GET", "/v1/metrics")],
)  # fmt: skip
def test_every_route_needs_a_key(anon: httpx.Client, method: str, path: str) -> None:
    failed(anon.request(method, path, json={}), 401, "UNAUTHORIZED")
    failed(anon.request(method, path, json={}, headers={"X-API-Key": "nope"}), 403, "FORBIDDEN")


def test_x_api_key_works_too(anon: httpx.Client) -> None:
    ok(anon.get("/status", headers={"X-API-Key": DEV_KEY}))


def test_get_update_delete_round_trip(client: httpx.Client, example: dict[str, Any]) -> None:
    url = f"/v1/memories/{example['id']}"
    fetched = ok(client.get(url))
    assert_memory_object(fetched, EXAMPLE_FACT, "test_user_123")
    assert fetched["status"] == "active" and fetched["memory_type"] == "semantic"
    updated = ok(client.put(url, json={"content": "User loves building AI apps with Django"}))
    assert updated["id"] == example["id"] and updated["content"].endswith("Django")
    assert ok(client.get(url))["content"] == updated["content"]
    assert ok(client.delete(url)) == {"id": example["id"], "deleted": True}
    error = failed(client.get(url), 404, "MEMORY_NOT_FOUND")
    assert error["message"] == f"Memory with ID '{example['id']}' not found"
    failed(client.delete(url), 404, "MEMORY_NOT_FOUND")
    failed(client.put(url, json={"content": "again"}), 404, "MEMORY_NOT_FOUND")


def test_update_keeps_history_and_merges_metadata(
    client: httpx.Client, example: dict[str, Any]
) -> None:
    url = f"/v1/memories/{example['id']}"
    ok(client.put(url, json={"content": "User builds AI apps with Flask"}))
    change = {"metadata": {"topic": "work", "source": None, "entities": ["Flask"],
                           "timestamp": "1999-01-01T00:00:00Z"}}  # fmt: skip
    updated = ok(client.put(url, json=change))
    assert updated["metadata"]["topic"] == "work" and updated["metadata"]["entities"] == ["Flask"]
    assert updated["metadata"]["source"] == "api"  # null removed the client's source
    assert updated["metadata"]["timestamp"] == example["metadata"]["timestamp"]  # read-only
    assert updated["relationships"] == [{"type": "mentions", "entity": "Flask", "confidence": 1.0}]
    events = client.get(f"/v1/long-term-memory/{example['id']}/history").json()["events"]
    assert [e["event"] for e in events] == ["ADD", "UPDATE", "UPDATE"]
    assert events[1]["old_text"] == EXAMPLE_FACT and events[1]["new_text"].endswith("Flask")


def test_user_memories_are_paged_with_their_total(client: httpx.Client) -> None:
    for city in ("I like Rome", "I like Lima", "I like Kyiv"):
        add(client, city, "pager")
    add(client, "I like Oslo", "someone-else")
    first = ok(client.get("/v1/memories/user/pager", params={"limit": 2}))
    assert (first["total"], first["limit"], first["offset"], first["next_offset"]) == (3, 2, 0, 2)
    assert [m["content"] for m in first["memories"]] == ["User likes Kyiv", "User likes Lima"]
    rest = ok(client.get("/v1/memories/user/pager", params={"limit": 2, "offset": 2}))
    assert [m["content"] for m in rest["memories"]] == ["User likes Rome"]
    assert rest["next_offset"] is None
    everything = ok(client.get("/v1/memories/user/pager"))
    assert everything["limit"] == 100 and len(everything["memories"]) == 3
    for memory in everything["memories"]:
        assert_memory_object(memory, memory["content"], "pager")


def test_embedding_only_on_request(client: httpx.Client, example: dict[str, Any]) -> None:
    url = f"/v1/memories/{example['id']}"
    vector = ok(client.get(url, params={"include_embedding": "true"}))["embedding"]
    assert len(vector) == 384 and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    search = "/v1/memories/search?query=FastAPI&include_embedding=true"
    assert ok(client.get(search))["memories"][0]["embedding"] == vector
    listed = ok(client.get("/v1/memories/user/test_user_123?include_embedding=true"))
    assert listed["memories"][0]["embedding"] == vector
    assert "embedding" not in ok(client.get(url))


def test_a_message_without_facts_is_kept_verbatim_once(client: httpx.Client) -> None:
    [first] = add(client, "test memory", "demo")
    assert first["event"] == "ADD" and first["relationships"] == []
    assert_memory_object(first, "test memory", "demo")
    [again] = add(client, "test memory", "demo")
    assert again["event"] == "NONE" and again["id"] == first["id"]
    data = ok(client.get("/v1/memories/search?query=test&user_id=demo"))
    assert [m["id"] for m in data["memories"]] == [first["id"]]


def test_a_changed_fact_supersedes_the_old_one(client: httpx.Client) -> None:
    [paris] = add(client, "I live in Paris", "mover")
    [berlin] = add(client, "I live in Berlin", "mover")
    assert berlin["event"] == "UPDATE" and berlin["supersedes"] == paris["id"]
    assert ok(client.get(f"/v1/memories/{paris['id']}"))["status"] == "superseded"
    found = ok(client.get("/v1/memories/search", params={"query": "where", "user_id": "mover"}))
    assert [m["content"] for m in found["memories"]] == ["User lives in Berlin"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/v1/memories", {}), ("POST", "/v1/memories", {"messages": []}),
     ("POST", "/v1/memories", {"messages": "hello"}),
     ("POST", "/v1/memories", {"messages": [{"role": "user", "content": ""}]}),
     ("POST", "/v1/memories", {"messages": [{"content": "no role"}]}),
     ("POST", "/v1/memories", {"messages": [{"role": "user", "content": "x"}], "user_id": ""}),
     ("POST", "/v1/memories", {"messages": [{"role": "user", "content": "x"}], "metadata": []}),
     ("POST", "/v1/memories", None), ("GET", "/v1/memories/search", None),
     ("GET", "/v1/memories/search?query=", None), ("GET", "/v1/memories/search?query=x&limit=0", None),
     ("GET", "/v1/memories/search?query=x&limit=1000", None),
     ("GET", "/v1/memories/search?query=x&limit=ten", None),
     ("GET", "/v1/memories/search?query=x&offset=-1", None),
     ("GET", "/v1/memories/user/u?limit=101", None), ("GET", "/v1/memories/user/u?offset=-5", None),
     ("GET", "/v1/memories/x?include_embedding=maybe", None), ("PUT", "/v1/memories/x", {}),
     ("PUT", "/v1/memories/x", {"content": ""}), ("PUT", "/v1/memories/x", {"metadata": "x"})],
)  # fmt: skip
def test_bad_input_is_400_invalid_request(
    client: httpx.Client, method: str, path: str, body: Any
) -> None:
    content = b"{not json" if body is None and method == "POST" else None
    json_body = body if content is None else None
    headers = {"Content-Type": "application/json"}
    response = client.request(method, path, json=json_body, content=content, headers=headers)
    failed(response, 400, "INVALID_REQUEST")


def test_bad_entities_on_update_are_400(client: httpx.Client, example: dict[str, Any]) -> None:
    url = f"/v1/memories/{example['id']}"
    failed(client.put(url, json={"metadata": {"entities": "AI"}}), 400, "INVALID_REQUEST")


def test_oversized_content_is_refused_with_the_envelope(client: httpx.Client) -> None:
    body = {"messages": [{"role": "user", "content": "x" * 40_000}], "user_id": "big"}
    error = failed(client.post("/v1/memories", json=body), 413, "INVALID_REQUEST")
    assert error["details"]["reason"] == "PAYLOAD_TOO_LARGE"


def test_unknown_paths_and_methods_keep_the_envelope(client: httpx.Client) -> None:
    failed(client.get("/v1/memories/a/b"), 404, "MEMORY_NOT_FOUND")
    failed(client.patch("/v1/memories/x", json={}), 405, "INVALID_REQUEST")


def test_native_errors_keep_their_own_shape(client: httpx.Client) -> None:
    response = client.post("/v1/long-term-memory/", json={})
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)


def test_metrics_need_the_admin_scope(
    client: httpx.Client, server_url: str, make_key: Callable[..., str]
) -> None:
    add(client, "I like tea", "u1")
    everything = ok(client.get("/v1/metrics"))  # the dev key is an operator key
    assert everything["memories"]["namespace"] is None and everything["memories"]["total"] == 1
    assert set(everything["query_cache"]) == {"hits", "misses", "hit_rate", "size", "capacity"}
    assert everything["sessions"] == 0 and everything["uptime_seconds"] >= 0
    with key_client(server_url, make_key("ns-m", scopes="read,write")) as member:
        failed(member.get("/v1/metrics"), 403, "FORBIDDEN")
    with key_client(server_url, make_key("ns-m", scopes="admin")) as admin:
        mine = ok(admin.get("/v1/metrics"))
        assert mine["memories"] == {
            "namespace": "ns-m", "total": 0,
            "by_type": {"semantic": 0, "episodic": 0, "procedural": 0, "message": 0},
        }  # fmt: skip


def test_read_only_key_cannot_write(
    client: httpx.Client, example: dict[str, Any], server_url: str, make_key: Callable[..., str]
) -> None:
    with key_client(server_url, make_key("default", scopes="read")) as reader:
        failed(reader.post("/v1/memories", json=EXAMPLE_ADD), 403, "FORBIDDEN")
        url = f"/v1/memories/{example['id']}"
        assert ok(reader.get(url))["id"] == example["id"]
        failed(reader.put(url, json={"content": "pwned"}), 403, "FORBIDDEN")
        failed(reader.delete(url), 403, "FORBIDDEN")
    assert ok(client.get(url))["content"] == EXAMPLE_FACT


def test_namespaces_never_see_each_other(server_url: str, make_key: Callable[..., str]) -> None:
    with (
        key_client(server_url, make_key("tenant-a")) as a,
        key_client(server_url, make_key("tenant-b")) as b,
    ):
        [secret] = add(a, "My launch code is 1234", "shared-user")
        url = f"/v1/memories/{secret['id']}"
        failed(b.get(url), 404, "MEMORY_NOT_FOUND")
        failed(b.put(url, json={"content": "pwned"}), 404, "MEMORY_NOT_FOUND")
        failed(b.delete(url), 404, "MEMORY_NOT_FOUND")
        assert ok(b.get("/v1/memories/search?query=launch+code"))["total"] == 0
        assert ok(b.get("/v1/memories/search?query=launch&user_id=shared-user"))["total"] == 0
        assert ok(b.get("/v1/memories/user/shared-user"))["total"] == 0
        assert ok(b.get("/status"))["memories"]["total"] == 0
        assert ok(a.get("/status"))["memories"] == {
            "namespace": "tenant-a", "total": 1,
            "by_type": {"semantic": 1, "episodic": 0, "procedural": 0, "message": 0},
        }  # fmt: skip
        assert ok(a.get(url))["content"] == "My launch code is 1234"
        assert ok(a.get("/v1/memories/user/shared-user"))["total"] == 1


def test_a_user_bound_key_acts_only_for_its_user(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with key_client(server_url, make_key("tenant-u", user="alice")) as alice:
        [own] = ok(alice.post("/v1/memories", json={"messages": [
            {"role": "user", "content": "I work at Acme"}]}))["memories"]  # fmt: skip
        assert own["user_id"] == "alice"
        failed(alice.post("/v1/memories", json={**EXAMPLE_ADD, "user_id": "bob"}), 403, "FORBIDDEN")
        failed(alice.get("/v1/memories/user/bob"), 403, "FORBIDDEN")
        failed(alice.get("/v1/memories/search?query=x&user_id=bob"), 403, "FORBIDDEN")
        assert ok(alice.get("/v1/memories/user/alice"))["total"] == 1


def test_a_memory_added_here_is_found_by_the_native_search(
    client: httpx.Client, example: dict[str, Any]
) -> None:
    response = client.post("/v1/long-term-memory/search", json={"text": "FastAPI"})
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["memories"]] == [example["id"]]
    assert response.json()["memories"][0]["user_id"] == "test_user_123"
