"""The sync and async drivers of the shared flows: the only code that differs between them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar, cast

import httpx

from mnemo_client._wire import Flow, Outcome, Pager, Sleep, Step, Wire

T = TypeVar("T")


class SyncRequester:
    """Runs flows with a blocking httpx.Client."""

    def __init__(self, wire: Wire, http: httpx.Client) -> None:
        self.wire = wire
        self.http = http

    def run(self, flow: Flow[T]) -> T:
        outcome: Outcome = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return cast(T, stop.value)
            outcome = self._perform(step)

    def iterate(self, pager: Pager[T]) -> Iterator[T]:
        offset: int | None = pager.start
        while offset is not None:
            page = self.run(self.wire.exchange(pager.page_at(offset)))
            yield from page.page_items()
            offset = pager.next_offset(page, offset)

    def _perform(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        try:
            return self.http.send(step)
        except httpx.RequestError as exc:
            return exc


class AsyncRequester:
    """Runs flows with an httpx.AsyncClient."""

    def __init__(self, wire: Wire, http: httpx.AsyncClient) -> None:
        self.wire = wire
        self.http = http

    async def run(self, flow: Flow[T]) -> T:
        outcome: Outcome = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return cast(T, stop.value)
            outcome = await self._perform(step)

    async def iterate(self, pager: Pager[T]) -> AsyncIterator[T]:
        offset: int | None = pager.start
        while offset is not None:
            page = await self.run(self.wire.exchange(pager.page_at(offset)))
            for item in page.page_items():
                yield item
            offset = pager.next_offset(page, offset)

    async def _perform(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            return None
        try:
            return await self.http.send(step)
        except httpx.RequestError as exc:
            return exc
