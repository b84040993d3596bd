"""Every cap of LimitsConfig is a clear 4xx, and a refused request writes nothing.

The app here runs with tiny caps, so each test also proves the setting is what decides.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mnemo.config import LimitsConfig, Settings
from tests.cli.conftest import Mnemo
from tests.conftest import ROOMY_LIMITS

TINY = LimitsConfig(
    max_body_bytes=20_000,
    max_text_bytes=100,
    max_page_size=10,
    max_messages_per_request=3,
    max_memories_per_request=3,
    max_ids_per_request=3,
    max_filter_clauses=5,
)
SEARCH = "/v1/long-term-memory/search"
CREATE = "/v1/long-term-memory/"
PUBLIC_URL = "http://93.184.215.14/hook"  # a public address literal: never called here


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limits=ROOMY_LIMITS, limits=TINY)


def detail_of(response: httpx.Response) -> str:
    """The message of an error in any dialect's shape."""
    body = response.json()
    if "detail" in body and isinstance(body["detail"], str):
        return str(body["detail"])
    if isinstance(body.get("error"), dict):
        return str(body["error"]["message"])
    return str(body.get("message") or body.get("detail"))


def refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = detail_of(response)
    assert all(word in detail for word in words), detail


def messages(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"turn {i}"} for i in range(n)]


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"topics": {"any": ["a", "b", "c", "d", "e", "f"]}},
        {"metadata": {f"k{i}": i for i in range(6)}},
        {"topics": {"any": ["a", "b", "c"]}, "entities": {"none": ["x", "y"]},
         "created_at": {"between": [1, 2]}},
    ],
)  # fmt: skip
def test_a_filter_over_the_clause_cap_is_400(client: httpx.Client, body: dict[str, object]) -> None:
    refused(client.post(SEARCH, json={"text": "x", **body}), 400, "limit is 5")


def test_a_filter_at_the_clause_cap_is_served(client: httpx.Client) -> None:
    body = {"text": "x", "topics": {"any": ["a", "b", "c"]}, "metadata": {"k": 1, "j": 2}}
    assert client.post(SEARCH, json=body).status_code == 200


def test_the_clause_cap_holds_inside_a_memory_prompt(client: httpx.Client) -> None:
    body = {"query": "x", "long_term_search": {"text": "x", "topics": {"any": list("abcdef")}}}
    refused(client.post("/v1/memory/prompt", json=body), 400, "limit is 5")


@pytest.mark.parametrize(
    "body",
    [
        {"namespace": {"any": [{"eq": "a"}]}},
        {"topics": {"any": [["a", ["b"]]]}},
        {"metadata": {"k": {"eq": {"nested": 1}}}},
        {"created_at": {"gt": {"gt": 1}}},
        {"user_id": {"eq": "a", "and": {"eq": "b"}}},
    ],
)
def test_the_filter_dsl_is_flat_and_nesting_is_refused(
    client: httpx.Client, body: dict[str, object]
) -> None:
    response = client.post(SEARCH, json={"text": "x", **body})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


# --- ids, messages, memories per request -----------------------------------------------------


def test_more_ids_than_the_cap_deletes_nothing(client: httpx.Client) -> None:
    client.post(CREATE, json={"memories": [{"id": "keep", "text": "keep me"}]})
    over = client.delete("/v1/long-term-memory", params={"memory_ids": ["keep", "a", "b", "c"]})
    refused(over, 400, "too many memory ids", "limit is 3")
    assert client.get("/v1/long-term-memory/keep").status_code == 200


def test_forget_caps_pinned_ids_and_memory_types(client: httpx.Client) -> None:
    forget = "/v1/long-term-memory/forget"
    pinned = client.post(forget, json={"pinned_ids": ["a", "b"]}, params={"pinned_ids": ["c", "d"]})
    refused(pinned, 400, "too many pinned ids")
    types = {"memory_type_allowlist": ["semantic"] * 6}
    refused(client.post(forget, json={"policy": types}), 400, "too many memory types")


def test_more_memories_than_the_cap_writes_nothing(client: httpx.Client) -> None:
    memories = [{"id": f"m{i}", "text": f"memory {i}"} for i in range(4)]
    refused(client.post(CREATE, json={"memories": memories}), 400, "too many memories")
    assert client.get("/v1/long-term-memory/m0").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/working-memory/s1", {"messages": messages(4)}),
        ("POST", "/v1/memories", {"messages": messages(4)}),
        ("POST", "/v1/summaries", {"messages": messages(4)}),
        ("POST", "/api/v1/memory-batcher/messages",
         {"app_id": "app-000001", "user_id": "user-000001", "messages": messages(4)}),
        ("POST", "/api/v1/agent/memories",
         {"app_id": "app-000001", "user_id": "user-000001", "messages": messages(4)}),
    ],
)  # fmt: skip
def test_more_messages_than_the_cap_is_400(
    client: httpx.Client, method: str, path: str, body: dict[str, object]
) -> None:
    refused(client.request(method, path, json=body), 400, "too many messages", "limit is 3")
    assert client.get("/v1/working-memory/s1").status_code == 404
    for namespace in ("default", "app-000001"):
        assert client.get("/v1/tasks", params={"namespace": namespace}).json()["total"] == 0


# --- pages, bodies, texts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("POST", SEARCH, {}, {"text": "x", "limit": 11}),
        ("GET", "/v1/tasks", {"limit": 11}, None),
        ("GET", "/v1/memories/search", {"query": "x", "limit": 11}, None),
        ("GET", "/v1/memories/user/u1", {"limit": 11}, None),
        ("GET", "/v1/patterns", {"pageSize": 11}, None),
    ],
)
def test_a_page_over_the_cap_is_400(
    client: httpx.Client,
    method: str,
    path: str,
    params: dict[str, str | int],
    body: dict[str, object] | None,
) -> None:
    response = client.request(method, path, params=params, json=body)
    refused(response, 400, "at most 10")


def test_a_delivery_page_over_the_cap_is_400(client: httpx.Client) -> None:
    hook = client.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["memory.created"]})
    assert hook.status_code == 201, hook.text
    deliveries = f"/v1/webhooks/{hook.json()['id']}/deliveries"
    refused(client.get(deliveries, params={"limit": 11}), 400, "at most 10")
    assert client.get(deliveries, params={"limit": 10}).status_code == 200


def test_a_body_over_the_cap_is_413(client: httpx.Client) -> None:
    memories = [{"text": "y" * 90} for _ in range(250)]  # ~25 kB of JSON
    refused(client.post(CREATE, json={"memories": memories}), 413, "20000 bytes")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", CREATE, {"memories": [{"text": "z" * 101}]}),
        ("PUT", "/v1/working-memory/s1", {"messages": [{"role": "user", "content": "z" * 101}]}),
        ("POST", SEARCH, {"text": "z" * 101}),
        ("POST", "/v1/chat", {"message": "z" * 101, "session_id": "s1"}),
    ],
)
def test_a_text_over_the_cap_is_413(
    client: httpx.Client, method: str, path: str, body: dict[str, object]
) -> None:
    refused(client.request(method, path, json=body), 413, "limit is 100 bytes")


# --- keys per namespace ----------------------------------------------------------------------


def test_keys_create_refuses_more_active_keys_than_the_cap(tmp_path: Path) -> None:
    cap = {"MNEMO_LIMITS__MAX_KEYS_PER_NAMESPACE": "2", "COLUMNS": "200"}
    mnemo = Mnemo(tmp_path / "data", env=cap)
    for _ in range(2):
        assert mnemo("keys", "create", "--namespace", "acme").stdout.startswith("mnemo_")
    third = mnemo("keys", "create", "--namespace", "acme", expect=2)
    assert "already has 2 active API keys" in third.stderr
    assert "MNEMO_LIMITS__MAX_KEYS_PER_NAMESPACE" in third.stderr
    assert mnemo("keys", "create", "--namespace", "other").stdout.startswith("mnemo_")

    listed = mnemo("keys", "list", "--namespace", "acme").stdout
    key_id = next(line.split()[1] for line in listed.splitlines() if "acme" in line)
    mnemo("keys", "revoke", key_id)  # a revoked key frees its place
    assert mnemo("keys", "create", "--namespace", "acme").stdout.startswith("mnemo_")
    mnemo("keys", "create", "--namespace", "acme", expect=2)
