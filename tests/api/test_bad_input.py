"""Bad input gets a clear 4xx with a detail, never a 500, and nothing is half-written."""

from __future__ import annotations

import httpx
import pytest

SEARCH = "/v1/long-term-memory/search"
CREATE = "/v1/long-term-memory/"


def assert_clear_4xx(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["detail"], response.text


def test_malformed_json(client: httpx.Client) -> None:
    response = client.post(
        CREATE, content=b'{"memories": [', headers={"Content-Type": "application/json"}
    )
    assert_clear_4xx(response, 422)


@pytest.mark.parametrize(
    "body",
    [{"memories": "nope"}, {"memories": []}, {"memories": [{"text": ""}]},
     {"memories": [{"text": 42}]}, {"memories": [{"text": "x", "memory_type": "dream"}]},
     {"memories": [{"text": "x", "importance": 3}]}],
)  # fmt: skip
def test_wrong_types_and_empty_text(client: httpx.Client, body: dict[str, object]) -> None:
    assert_clear_4xx(client.post(CREATE, json=body), 422)


def test_text_over_the_cap_is_413_and_nothing_is_written(client: httpx.Client) -> None:
    body = {"memories": [{"id": "ok", "text": "fine"}, {"id": "big", "text": "x" * 40_000}]}
    assert_clear_4xx(client.post(CREATE, json=body), 413)
    assert client.get("/v1/long-term-memory/ok").status_code == 404


def test_body_over_one_mebibyte_is_413(client: httpx.Client) -> None:
    memories = [{"text": "y" * 30_000} for _ in range(40)]
    assert_clear_4xx(client.post(CREATE, json={"memories": memories}), 413)


@pytest.mark.parametrize(
    "body",
    [{"text": "x", "limit": 101}, {"text": "x", "limit": 0}, {"text": "x", "offset": -1},
     {"text": "x", "user_id": {"like": "u"}}, {"text": "x", "user_id": {}},
     {"text": "x", "user_id": {"eq": "a", "ne": "b"}}, {"text": "x", "created_at": {"gte": "yesterday"}},
     {"text": "x", "topics": {"startswith": "a"}}, {"text": "x", "memory_type": {"eq": "dream"}},
     {"text": "x", "unknown_field": 1}, {"text": "x", "created_at": {"between": [5, 1]}}],
)  # fmt: skip
def test_bad_search_requests(client: httpx.Client, body: dict[str, object]) -> None:
    assert_clear_4xx(client.post(SEARCH, json=body), 422)


def test_bad_working_memory(client: httpx.Client) -> None:
    empty = client.put("/v1/working-memory/s", json={"messages": [{"role": "user", "content": ""}]})
    assert_clear_4xx(empty, 422)
    other = client.put("/v1/working-memory/s", json={"session_id": "other", "messages": []})
    assert_clear_4xx(other, 400)
    assert client.get("/v1/working-memory/s").status_code == 404


def test_delete_without_ids_is_422(client: httpx.Client) -> None:
    assert_clear_4xx(client.delete("/v1/long-term-memory"), 422)


def test_edit_unknown_memory_is_404(client: httpx.Client) -> None:
    assert_clear_4xx(client.patch("/v1/long-term-memory/none", json={"text": "x"}), 404)
