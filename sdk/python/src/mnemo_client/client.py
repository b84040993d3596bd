"""Client and AsyncClient: the same resources over a blocking or an async httpx client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Generic, Self

import httpx

from mnemo_client._endpoints import R
from mnemo_client._requesters import AsyncRequester, SyncRequester
from mnemo_client._wire import Wire
from mnemo_client.resources import (
    MemoriesResource,
    SessionsResource,
    TasksResource,
    WebhooksResource,
    WorkingMemoryResource,
)
from mnemo_client.retries import RetryPolicy

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class _Resources(Generic[R]):
    def __init__(self, requester: R) -> None:
        self.memories: MemoriesResource[R] = MemoriesResource(requester)
        self.working_memory: WorkingMemoryResource[R] = WorkingMemoryResource(requester)
        self.sessions: SessionsResource[R] = SessionsResource(requester)
        self.tasks: TasksResource[R] = TasksResource(requester)
        self.webhooks: WebhooksResource[R] = WebhooksResource(requester)


def _wire(
    base_url: str | None,
    api_key: str | None,
    max_retries: int,
    retry: RetryPolicy | None,
    headers: Mapping[str, str] | None,
) -> Wire:
    """Unset base_url and api_key are read from MNEMO_BASE_URL and MNEMO_API_KEY."""
    return Wire(
        base_url or os.environ.get("MNEMO_BASE_URL") or DEFAULT_BASE_URL,
        api_key if api_key is not None else os.environ.get("MNEMO_API_KEY"),
        retry or RetryPolicy(max_retries=max_retries),
        headers,
    )


class Client(_Resources[SyncRequester]):
    """The blocking client. Use it as a context manager, or call close()."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        wire = _wire(base_url, api_key, max_retries, retry, headers)
        self._http = httpx.Client(timeout=timeout)
        self.base_url = wire.base_url
        super().__init__(SyncRequester(wire, self._http))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Resources[AsyncRequester]):
    """The asyncio client: every method is awaited, every iterator is `async for`."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        wire = _wire(base_url, api_key, max_retries, retry, headers)
        self._http = httpx.AsyncClient(timeout=timeout)
        self.base_url = wire.base_url
        super().__init__(AsyncRequester(wire, self._http))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
