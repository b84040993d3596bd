"""Resources are written once: `@endpoint` and `paginated` make each method sync or async."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from mnemo_client._requesters import AsyncRequester, SyncRequester
from mnemo_client._wire import Call, Operation, Page, Pager, Wire

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
R = TypeVar("R", SyncRequester, AsyncRequester)


class Resource(Generic[R]):
    """A group of endpoints sharing a requester."""

    def __init__(self, requester: R) -> None:
        self._requester: R = requester

    @property
    def _wire(self) -> Wire:
        return self._requester.wire


class Endpoint(Generic[P, T_co]):
    """A resource method that builds a `Call` (or a multi-step `Flow`), run by the requester.

    Bound to a `Resource[SyncRequester]` the method returns its result, bound to a
    `Resource[AsyncRequester]` an awaitable of it, and the overloads tell the type checker so.
    """

    def __init__(self, build: Callable[Concatenate[Any, P], Operation[T_co]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[object]) -> Endpoint[P, T_co]: ...

    @overload
    def __get__(self, obj: Resource[SyncRequester], owner: type[object]) -> Callable[P, T_co]: ...

    @overload
    def __get__(
        self, obj: Resource[AsyncRequester], owner: type[object]
    ) -> Callable[P, Awaitable[T_co]]: ...

    def __get__(
        self, obj: Resource[Any] | None, owner: type[object]
    ) -> Endpoint[P, T_co] | Callable[P, T_co] | Callable[P, Awaitable[T_co]]:
        if obj is None:
            return self
        build, requester = self.build, obj._requester

        @functools.wraps(build)
        def bound(*args: P.args, **kwargs: P.kwargs) -> Any:
            return requester.run(requester.wire.flow_of(build(obj, *args, **kwargs)))

        return bound


class Paginated(Generic[P, T_co]):
    """Iterates every item of a listing endpoint, page after page, until the last one."""

    def __init__(self, source: Endpoint[P, Page[T_co]], page_size: int) -> None:
        self.source = source
        self.page_size = page_size
        self.__doc__ = f"Every item of `{source.build.__name__}`, fetched page by page."

    @overload
    def __get__(self, obj: None, owner: type[object]) -> Paginated[P, T_co]: ...

    @overload
    def __get__(
        self, obj: Resource[SyncRequester], owner: type[object]
    ) -> Callable[P, Iterator[T_co]]: ...

    @overload
    def __get__(
        self, obj: Resource[AsyncRequester], owner: type[object]
    ) -> Callable[P, AsyncIterator[T_co]]: ...

    def __get__(
        self, obj: Resource[Any] | None, owner: type[object]
    ) -> Paginated[P, T_co] | Callable[P, Iterator[T_co]] | Callable[P, AsyncIterator[T_co]]:
        if obj is None:
            return self
        build = cast(Callable[..., Call[Page[T_co]]], self.source.build)
        requester, page_size = obj._requester, self.page_size

        def iterate(*args: P.args, **kwargs: P.kwargs) -> Any:
            options: dict[str, Any] = {"limit": page_size, **kwargs}
            start = int(options.pop("offset", 0))
            pager = Pager(lambda offset: build(obj, *args, **options, offset=offset), start)
            return requester.iterate(pager)

        return iterate


def endpoint(build: Callable[Concatenate[Any, P], Operation[T]]) -> Endpoint[P, T]:
    """Decorate a resource method that returns a `Call` or a `Flow`."""
    return Endpoint(build)


def paginated(source: Endpoint[P, Page[T]], page_size: int = 50) -> Paginated[P, T]:
    """An iterator over every item of `source`, which takes `limit` and `offset` keywords.

    The iterator takes the same arguments: `limit` becomes the page size (default
    `page_size`), `offset` the starting point.
    """
    return Paginated(source, page_size)
