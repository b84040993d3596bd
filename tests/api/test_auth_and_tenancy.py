"""Keys: required everywhere but health, bound to a namespace (and user), never crossing it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import key_client


def test_health_needs_no_key(anon: httpx.Client) -> None:
    response = anon.get("/v1/health")
    assert response.status_code == 200 and response.json()["now"] > 1.7e12


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/working-memory/"), ("GET", "/v1/working-memory/s"), ("PUT", "/v1/working-memory/s"),
     ("DELETE", "/v1/working-memory/s"), ("POST", "/v1/long-term-memory/"),
     ("POST", "/v1/long-term-memory/search"), ("GET", "/v1/long-term-memory/x"),
     ("PATCH", "/v1/long-term-memory/x"), ("DELETE", "/v1/long-term-memory?memory_ids=x"),
     ("GET", "/v1/long-term-memory/x/history"), ("POST", "/v1/memory/prompt")],
)  # fmt: skip
def test_every_route_but_health_needs_a_key(anon: httpx.Client, method: str, path: str) -> None:
    assert anon.request(method, path, json={}).status_code == 401
    wrong = anon.request(method, path, json={}, headers={"X-API-Key": "not-a-key"})
    assert wrong.status_code == 403


def test_bearer_header_works_too(anon: httpx.Client) -> None:
    ok = anon.get("/v1/working-memory/", headers={"Authorization": "Bearer dev-key-12345"})
    assert ok.status_code == 200


def test_key_without_write_scope_cannot_write(
    server_url: str, make_key: Callable[..., str]
) -> None:
    with key_client(server_url, make_key("ns-ro", scopes="read")) as reader:
        response = reader.post("/v1/long-term-memory/", json={"memories": [{"text": "x"}]})
        assert response.status_code == 403
        assert reader.post("/v1/long-term-memory/search", json={"text": "x"}).status_code == 200


def test_two_namespaces_never_see_each_other(server_url: str, make_key: Callable[..., str]) -> None:
    with (
        key_client(server_url, make_key("tenant-a")) as a,
        key_client(server_url, make_key("tenant-b")) as b,
    ):
        assert (
            a.post(
                "/v1/long-term-memory/",
                json={
                    "memories": [
                        {"id": "secret", "text": "Tenant A's launch code is 1234", "user_id": "ua"}
                    ]
                },
            ).status_code
            == 200
        )
        assert (
            a.put(
                "/v1/working-memory/sa",
                json={"messages": [{"id": "ma", "role": "user", "content": "A's private session"}]},
            ).status_code
            == 200
        )

        # B cannot read, search, list, edit, delete or overwrite A's data
        assert b.get("/v1/long-term-memory/secret").status_code == 404
        assert b.get("/v1/long-term-memory/secret/history").status_code == 404
        assert (
            b.post("/v1/long-term-memory/search", json={"text": "launch code"}).json()["total"] == 0
        )
        cross = b.post(
            "/v1/long-term-memory/search", json={"text": "launch", "namespace": {"eq": "tenant-a"}}
        )
        assert cross.status_code == 403
        assert (
            b.get("/v1/long-term-memory/secret", params={"namespace": "tenant-a"}).status_code
            == 403
        )
        assert b.patch("/v1/long-term-memory/secret", json={"text": "pwned"}).status_code == 404
        assert (
            b.delete("/v1/long-term-memory", params={"memory_ids": "secret"})
            .json()["status"]
            .endswith("deleted 0 memories")
        )
        assert b.get("/v1/working-memory/sa").status_code == 404
        assert b.get("/v1/working-memory/").json() == {"sessions": [], "total": 0}
        assert b.get("/v1/working-memory/", params={"namespace": "tenant-a"}).status_code == 403
        assert (
            b.put(
                "/v1/working-memory/sa", json={"namespace": "tenant-a", "messages": []}
            ).status_code
            == 403
        )
        assert (
            b.post(
                "/v1/long-term-memory/",
                json={"memories": [{"text": "planted", "namespace": "tenant-a"}]},
            ).status_code
            == 403
        )
        prompt = b.post(
            "/v1/memory/prompt",
            json={
                "query": "launch code",
                "session": {"session_id": "sa"},
                "long_term_search": {"text": "launch code"},
            },
        )
        assert (
            prompt.status_code == 200 and "1234" not in prompt.text and "private" not in prompt.text
        )
        b.delete("/v1/working-memory/sa")

        # and A still has everything
        assert (
            a.get("/v1/long-term-memory/secret").json()["text"] == "Tenant A's launch code is 1234"
        )
        assert a.get("/v1/working-memory/sa").status_code == 200
        assert (
            a.post("/v1/long-term-memory/search", json={"text": "private session"}).json()["total"]
            == 2
        )


def test_user_bound_key_sees_only_its_user(
    server_url: str, make_key: Callable[..., str], client: httpx.Client
) -> None:
    client.post("/v1/long-term-memory/", json={"memories": [
        {"id": "u1m", "text": "u1 likes jazz", "user_id": "u1", "namespace": "shared"},
        {"id": "u2m", "text": "u2 likes jazz", "user_id": "u2", "namespace": "shared"}]})  # fmt: skip
    with key_client(server_url, make_key("shared", user="u1")) as u1:
        found = u1.post("/v1/long-term-memory/search", json={"text": "jazz"}).json()
        assert [m["id"] for m in found["memories"]] == ["u1m"]
        assert u1.get("/v1/long-term-memory/u2m").status_code == 404
        assert (
            u1.post(
                "/v1/long-term-memory/search", json={"text": "jazz", "user_id": {"eq": "u2"}}
            ).status_code
            == 403
        )
        overwrite = u1.post(
            "/v1/long-term-memory/", json={"memories": [{"id": "u2m", "text": "hijack"}]}
        )
        assert overwrite.status_code == 403
    assert client.get("/v1/long-term-memory/u2m").json()["text"] == "u2 likes jazz"
