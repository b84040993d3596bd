"""The one request layer: calls described as data, built into requests, retried, parsed."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeAlias, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic_core import to_jsonable_python

from mnemo_client.errors import (
    NotFoundError,
    ServerUnreachableError,
    UnexpectedResponseError,
    error_from_response,
)
from mnemo_client.retries import RetryPolicy

VERSION = "0.1.0"

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

QueryValue: TypeAlias = str | int | float | bool | Sequence[str] | None


@dataclass(frozen=True)
class Call(Generic[T_co]):
    """One HTTP exchange: what to send, how to read a success, what a 404 means."""

    method: str
    path: str
    parse: Callable[[object], T_co]
    params: Mapping[str, QueryValue] | None = None
    json: object = None
    not_found: type[NotFoundError] = NotFoundError


@dataclass(frozen=True)
class Sleep:
    seconds: float


# Nothing here performs I/O. An operation is a generator (a Flow) that yields the requests to
# send and the pauses to take, receives each answer, and returns the parsed result; the sync
# and async requesters only drive it, with their own send and sleep.
Step: TypeAlias = httpx.Request | Sleep
Outcome: TypeAlias = httpx.Response | httpx.RequestError | None
Flow: TypeAlias = Generator[Step, Outcome, T]
Operation: TypeAlias = Call[T] | Generator[Step, Outcome, T]


class Page(Protocol[T_co]):
    """A page of a listing: its items, and the offset of the next page (None on the last)."""

    def page_items(self) -> Sequence[T_co]: ...

    def following(self, offset: int) -> int | None: ...


@dataclass(frozen=True)
class Pager(Generic[T]):
    """Fetches the page at an offset; `next_offset` refuses a listing that does not advance."""

    page_at: Callable[[int], Call[Page[T]]]
    start: int = 0

    def next_offset(self, page: Page[T], offset: int) -> int | None:
        following = page.following(offset)
        if following is not None and following <= offset:
            raise UnexpectedResponseError(
                f"the listing did not advance: offset {offset} is followed by {following}"
            )
        return following


def segment(value: str) -> str:
    """A path segment: ids may hold any character, '/' included."""
    return quote(value, safe="")


class Wire:
    """Everything both clients share: the base URL, the headers, the retry policy."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        retry: RetryPolicy,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.headers = {"Accept": "application/json", "User-Agent": f"mnemo-client/{VERSION}"}
        if api_key:
            self.headers["X-API-Key"] = api_key
        self.headers.update(headers or {})

    def build(self, call: Call[object]) -> httpx.Request:
        params = {k: v for k, v in (call.params or {}).items() if v is not None}
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            params=params,
            json=None if call.json is None else to_jsonable_python(call.json),
            headers=self.headers,
        )

    def exchange(self, call: Call[T]) -> Flow[T]:
        """Send `call`, retrying as the policy allows, and return its parsed answer."""
        request = self.build(call)
        attempt = 0
        while True:
            outcome = yield request
            assert outcome is not None, "a request step is answered with its outcome"
            delay = self.retry.delay_after(call.method, attempt, outcome)
            if delay is None:
                return read(call, outcome)
            yield Sleep(delay)
            attempt += 1

    def flow_of(self, operation: Operation[T]) -> Flow[T]:
        return self.exchange(operation) if isinstance(operation, Call) else operation


def read(call: Call[T], outcome: httpx.Response | httpx.RequestError) -> T:
    """The parsed answer, or the exception it stands for."""
    if isinstance(outcome, httpx.RequestError):
        raise ServerUnreachableError(
            f"{call.method} {call.path} got no answer: {type(outcome).__name__}: {outcome}"
        ) from outcome
    if outcome.is_error:
        raise error_from_response(outcome, call.not_found)
    try:
        return call.parse(outcome.json())
    except (ValueError, pydantic.ValidationError) as exc:
        raise UnexpectedResponseError(
            f"{call.method} {call.path} answered {outcome.status_code} with a body this client "
            f"cannot read: {exc}"
        ) from exc
