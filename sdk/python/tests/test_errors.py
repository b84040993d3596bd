"""Error answers of the real server become the SDK's exceptions, with the server's message."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tests.helpers.servers import free_port

from mnemo_client import (
    APIError,
    AsyncClient,
    Client,
    ForbiddenError,
    InvalidRequestError,
    MemoryNotFoundError,
    MnemoClientError,
    NotFoundError,
    PayloadTooLargeError,
    RetryPolicy,
    ServerError,
    ServerUnreachableError,
    ServiceUnavailableError,
    SessionNotFoundError,
    UnauthorizedError,
)
from mnemo_client.errors import error_from_response


def test_a_missing_key_is_unauthorized(server_url: str) -> None:
    with Client(server_url, api_key="") as anonymous, pytest.raises(UnauthorizedError) as caught:
        anonymous.memories.search("anything")
    assert caught.value.status_code == 401 and "Missing API key" in caught.value.message


async def test_an_unknown_key_is_forbidden(server_url: str) -> None:
    async with AsyncClient(server_url, api_key="not-a-key") as stranger:
        with pytest.raises(ForbiddenError, match="Invalid API key") as caught:
            await stranger.working_memory.list()
    assert caught.value.status_code == 403 and caught.value.error_code == "FORBIDDEN"


def test_a_bound_key_is_forbidden_other_namespaces(
    server_url: str, make_key: Callable[[str], str]
) -> None:
    with Client(server_url, api_key=make_key("acme")) as tenant:
        tenant.memories.create([{"text": "Acme ships on Fridays"}])
        assert tenant.memories.search("").memories[0].namespace == "acme"
        with pytest.raises(ForbiddenError):
            tenant.memories.create([{"text": "elsewhere", "namespace": "globex"}])


def test_validation_failures_are_invalid_requests(client: Client) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.memories.search("x", limit=1000)
    assert caught.value.status_code == 422 and "limit" in caught.value.message
    assert caught.value.error_code == "VALIDATION_ERROR"
    assert isinstance(caught.value.detail, list)  # the server's field errors, as sent
    with pytest.raises(InvalidRequestError, match="unknown webhook event"):
        client.webhooks.create("http://127.0.0.1:9/x", ["memory.exploded"])
    with pytest.raises(InvalidRequestError, match="no_such_field: Extra inputs"):
        client.memories.search("x", filters={"no_such_field": 1})


def test_oversized_texts_and_bodies_are_payload_too_large(client: Client) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        client.memories.create([{"text": "x" * 40_000}])
    assert caught.value.status_code == 413
    turns = [{"role": "user", "content": "y" * 30_000} for _ in range(40)]
    with pytest.raises(PayloadTooLargeError):
        client.working_memory.put("big", messages=turns)


def test_not_found_takes_the_class_of_the_resource(client: Client) -> None:
    with pytest.raises(SessionNotFoundError):
        client.memories.extract("never-written")
    with pytest.raises(NotFoundError) as caught:
        client.webhooks.delete("no-such-hook")
    assert type(caught.value) is NotFoundError


def test_an_unreachable_server_is_reported_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        Client(url, retry=RetryPolicy(max_retries=2, backoff_base=0.01)) as nowhere,
        pytest.raises(ServerUnreachableError, match="ConnectError"),
    ):
        nowhere.memories.get("x")


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (503, {"error": {"code": "STORE_UNAVAILABLE", "message": "db down"}},
         ServiceUnavailableError, "STORE_UNAVAILABLE"),
        (404, {"detail": "gone", "code": "MEMORY_NOT_FOUND"}, MemoryNotFoundError,
         "MEMORY_NOT_FOUND"),
        (500, {"detail": "Internal server error"}, ServerError, "INTERNAL_ERROR"),
        (418, "I'm a teapot", InvalidRequestError, "INVALID_REQUEST"),
        (502, "<html>bad gateway</html>", ServerError, "INTERNAL_ERROR"),
    ],
)  # fmt: skip
def test_codes_in_other_error_shapes_pick_the_class(
    status: int, body: object, expected: type[APIError], code: str
) -> None:
    request = httpx.Request("GET", "http://mnemo.test/v1/x")
    if isinstance(body, str):
        response = httpx.Response(status, text=body, request=request)
    else:
        response = httpx.Response(status, json=body, request=request)
    error = error_from_response(response, SessionNotFoundError)
    assert isinstance(error, expected) and isinstance(error, MnemoClientError)
    assert error.error_code == code and error.status_code == status
    assert error.message and error.url == "http://mnemo.test/v1/x"
