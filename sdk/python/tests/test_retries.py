"""Retries against a scripted server on loopback: 429/503 honour Retry-After, then give up."""

from __future__ import annotations

import random
import time

import pytest
from scripted_server import DROP, Reply, scripted

from mnemo_client import (
    AsyncClient,
    Client,
    InvalidRequestError,
    RateLimitedError,
    RetryPolicy,
    ServerUnreachableError,
)

TASK = {"id": "t1", "type": "extract.session", "status": "success"}
TOO_MANY = Reply(429, {"detail": "Rate limit exceeded"}, {"Retry-After": "0"})
FAST = RetryPolicy(backoff_base=0.01)


def test_429_with_retry_after_is_retried_until_it_succeeds() -> None:
    with scripted(TOO_MANY, TOO_MANY, Reply(200, TASK)) as server, Client(server.url) as client:
        assert client.tasks.get("t1").is_successful
    assert [r[:2] for r in server.requests] == [("GET", "/v1/tasks/t1")] * 3


async def test_the_async_client_retries_the_same_way() -> None:
    with scripted(TOO_MANY, TOO_MANY, Reply(200, TASK)) as server:
        async with AsyncClient(server.url) as client:
            assert (await client.tasks.get("t1")).id == "t1"
    assert len(server.requests) == 3


def test_retry_after_is_waited_for() -> None:
    slow = Reply(429, {"detail": "slow down"}, {"Retry-After": "1"})
    with scripted(slow, Reply(200, TASK)) as server, Client(server.url) as client:
        started = time.monotonic()
        client.tasks.get("t1")
        assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 2


def test_retry_after_is_capped() -> None:
    patient = Reply(429, {"detail": "come back in an hour"}, {"Retry-After": "3600"})
    policy = RetryPolicy(max_retry_after=0.05)
    with scripted(patient, Reply(200, TASK)) as server, Client(server.url, retry=policy) as c:
        started = time.monotonic()
        c.tasks.get("t1")
        assert time.monotonic() - started < 2.0


def test_503_of_a_write_is_retried_with_backoff() -> None:
    down = Reply(503, {"detail": "database unavailable"})
    ack = Reply(200, {"status": "ok"})
    with scripted(down, ack) as server, Client(server.url, retry=FAST) as client:
        assert client.memories.create([{"text": "x"}]).status == "ok"
    assert [r[0] for r in server.requests] == ["POST", "POST"]
    assert server.requests[0][2] == server.requests[1][2]  # the same body again


def test_giving_up_raises_with_the_retry_after() -> None:
    with (
        scripted(TOO_MANY) as server,
        Client(server.url, max_retries=2) as client,
        pytest.raises(RateLimitedError) as caught,
    ):
        client.tasks.get("t1")
    assert caught.value.retry_after == 0 and caught.value.message == "Rate limit exceeded"
    assert len(server.requests) == 3


def test_max_retries_zero_sends_once() -> None:
    with (
        scripted(TOO_MANY) as server,
        Client(server.url, max_retries=0) as client,
        pytest.raises(RateLimitedError),
    ):
        client.tasks.get("t1")
    assert len(server.requests) == 1


def test_client_errors_are_not_retried() -> None:
    bad = Reply(400, {"detail": "bad"})
    with (
        scripted(bad) as server,
        Client(server.url) as client,
        pytest.raises(InvalidRequestError, match="bad"),
    ):
        client.tasks.get("t1")
    assert len(server.requests) == 1


def test_a_dropped_connection_is_retried_for_idempotent_methods_only() -> None:
    with scripted(Reply(DROP), Reply(200, TASK)) as server, Client(server.url, retry=FAST) as c:
        assert c.tasks.get("t1").id == "t1"
    assert len(server.requests) == 2
    with (
        scripted(Reply(DROP), Reply(200, {"status": "ok"})) as server,
        Client(server.url, retry=FAST) as c,
        pytest.raises(ServerUnreachableError),
    ):
        c.memories.create([{"text": "maybe stored already"}])
    assert len(server.requests) == 1


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0, rng=random.Random(7))
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spans the whole window
