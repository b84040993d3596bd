"""Seed 002 (mem0-style) dialect: /v1/memories, /status and /v1/metrics over mnemo's services."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query

from mnemo import __version__
from mnemo.api.convert import check_count, check_text, search_query
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.dialects.seed002_errors import PREFIXES, render_error
from mnemo.api.dialects.seed002_schemas import (
    AddedMemoryOut,
    AddedOut,
    AddMemoryIn,
    DatabaseOut,
    DeletedOut,
    EmbeddingOut,
    Envelope,
    ErrorEnvelope,
    Event,
    LLMOut,
    MemoryCountsOut,
    MemoryOut,
    MemoryPageOut,
    MetricsOut,
    QueryCacheOut,
    ScoredMemoryOut,
    SearchOut,
    StatusOut,
    UpdateMemoryIn,
    envelope,
    memory_fields,
)
from mnemo.api.errors import ErrorRenderers
from mnemo.api.schemas import SearchRequestIn
from mnemo.auth.access import require
from mnemo.errors import InvalidRequestError, MemoryNotFoundError, StoreUnavailableError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import Memory, MemoryType, Message, Principal, Scope, utcnow
from mnemo.services.consolidation import DURABLE_TYPES, ConsolidationReport
from mnemo.services.memories import MemoryEdit
from mnemo.wiring import Services

DEFAULT_USER_ID = "default"  # the document's DEFAULT_USER_ID: an add without a user_id
DEFAULT_PAGE_SIZE = 100  # GET /v1/memories/user/{user_id}, capped by limits.max_page_size
_STARTED = time.monotonic()  # loaded with the app at process start: the uptime's origin

_ERRORS = (400, 401, 403, 404, 429, 500)
router = APIRouter(tags=["seed 002"], responses={s: {"model": ErrorEnvelope} for s in _ERRORS})

EmbeddingParam = Annotated[
    bool, Query(description="Include each memory's embedding (384 floats for the default model)")
]
LimitParam = Annotated[int | None, Query(ge=1, description="Page size; at most max_page_size")]
OffsetParam = Annotated[int, Query(ge=0, le=100_000)]


def install(renderers: ErrorRenderers) -> None:
    for prefix in PREFIXES:
        renderers.register(prefix, render_error)


@router.post("/v1/memories")
@router.post("/v1/memories/", include_in_schema=False)
async def add_memory(
    body: AddMemoryIn, who: PrincipalDep, services: ServicesDep
) -> Envelope[AddedOut]:
    """Facts extracted from the messages become memories of `user_id` (default "default"); a
    user message that yields no fact is kept as written, so nothing a user adds is lost."""
    limits = services.settings.limits
    check_count(len(body.messages), limits.max_messages_per_request, "messages")
    for message in body.messages:
        check_text(message.content, limits, "message content")
    now = utcnow()
    messages = [Message(role=m.role, content=m.content, created_at=now) for m in body.messages]
    user_id = body.user_id if body.user_id is not None else who.user_id or DEFAULT_USER_ID
    report = await services.extraction.remember(who, messages, user_id, body.metadata)
    added = _added(report.consolidation)
    return envelope(AddedOut(memories=added), _add_message(added))


@router.get("/v1/memories/search")
async def search_memories(
    who: PrincipalDep,
    services: ServicesDep,
    query: Annotated[str, Query(min_length=1, max_length=32_768)],
    user_id: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 10,
    offset: OffsetParam = 0,
    include_embedding: EmbeddingParam = False,
) -> Envelope[SearchOut]:
    """Hybrid search (vector + keyword, recency-weighted) over durable memories."""
    settings = services.settings
    _check_page_size(limit, services)
    request = SearchRequestIn(
        text=query,
        user_id=TagFilter(eq=user_id) if user_id is not None else None,
        memory_type=TagFilter(any=DURABLE_TYPES),
        limit=limit,
        offset=offset,
    )
    result = await services.search.search(
        who, search_query(request, settings.limits, settings.retrieval)
    )
    vectors = await _embeddings(services, [s.memory for s in result.items], include_embedding)
    found = [
        ScoredMemoryOut.model_validate({**memory_fields(s.memory, v), "score": round(s.score, 6)})
        for s, v in zip(result.items, vectors, strict=True)
    ]
    data = SearchOut(
        memories=found, total=result.total, limit=limit, offset=offset,
        next_offset=result.next_offset,
    )  # fmt: skip
    return envelope(data, f"Found {len(found)} of {result.total} memories")


@router.get("/v1/memories/user/{user_id}")
async def user_memories(
    user_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    limit: LimitParam = None,
    offset: OffsetParam = 0,
    include_embedding: EmbeddingParam = False,
) -> Envelope[MemoryPageOut]:
    """The user's durable memories, newest first, a page at a time (default 100)."""
    size = limit or min(DEFAULT_PAGE_SIZE, services.settings.limits.max_page_size)
    _check_page_size(size, services)
    memory_filter = MemoryFilter(
        user_id=TagFilter(eq=user_id), memory_type=TagFilter(any=DURABLE_TYPES)
    )
    page = await services.memories.list_memories(who, memory_filter, size, offset)
    vectors = await _embeddings(services, page.items, include_embedding)
    end = offset + len(page.items)
    data = MemoryPageOut(
        memories=[MemoryOut.of(m, v) for m, v in zip(page.items, vectors, strict=True)],
        total=page.total, limit=size, offset=offset,
        next_offset=end if end < page.total else None,
    )  # fmt: skip
    return envelope(data, f"Retrieved {len(page.items)} of {page.total} memories")


@router.get("/v1/memories/{memory_id}")
async def get_memory(
    memory_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    include_embedding: EmbeddingParam = False,
) -> Envelope[MemoryOut]:
    memory = await services.memories.get(who, memory_id)
    (vector,) = await _embeddings(services, [memory], include_embedding)
    return envelope(MemoryOut.of(memory, vector), "Memory retrieved successfully")


@router.put("/v1/memories/{memory_id}")
async def update_memory(
    memory_id: str, body: UpdateMemoryIn, who: PrincipalDep, services: ServicesDep
) -> Envelope[MemoryOut]:
    """New content is re-embedded and the old text kept in the memory's history; metadata
    keys merge into the stored ones (null removes a key)."""
    if body.content is None and body.metadata is None:
        raise InvalidRequestError("give content and/or metadata to update")
    if body.content is not None:
        check_text(body.content, services.settings.limits, "content")
    current = await services.memories.get(who, memory_id)
    change = _edit_of(current, body)
    updated = await services.memories.edit(who, memory_id, change, current.namespace)
    return envelope(MemoryOut.of(updated), "Memory updated successfully")


@router.delete("/v1/memories/{memory_id}")
async def delete_memory(
    memory_id: str, who: PrincipalDep, services: ServicesDep
) -> Envelope[DeletedOut]:
    """Deleted for good; its history stays (GET /v1/long-term-memory/{id}/history)."""
    current = await services.memories.get(who, memory_id)
    if not await services.memories.delete(who, [memory_id], current.namespace):
        raise MemoryNotFoundError(f"Memory with ID '{memory_id}' not found")
    return envelope(DeletedOut(id=memory_id, deleted=True), "Memory deleted successfully")


@router.get("/status")
@router.get("/v1/status", include_in_schema=False)
async def status(who: PrincipalDep, services: ServicesDep) -> Envelope[StatusOut]:
    """Database, embedding model, LLM mode, version, uptime and the key's memory counts."""
    require(who, Scope.READ)
    try:
        await services.store.ping()
        healthy = True
    except StoreUnavailableError:
        healthy = False
    llm = services.settings.llm.model if services.llm is not None else None
    data = StatusOut(
        status="healthy" if healthy else "unhealthy",
        version=__version__,
        uptime_seconds=_uptime(),
        database=DatabaseOut(
            status="connected" if healthy else "disconnected",
            backend="postgresql" if services.settings.resolved_database_url() else "sqlite",
        ),
        embedding=EmbeddingOut(
            model=services.embedder.model_name, dimension=services.embedder.dimension
        ),
        llm=LLMOut(mode="offline" if llm is None else "llm", model=llm),
        memories=await _counts(who, services) if healthy else None,
    )
    return envelope(data, "System status retrieved successfully")


@router.get("/v1/metrics")
async def metrics(who: PrincipalDep, services: ServicesDep) -> Envelope[MetricsOut]:
    """Admin keys only. Counts are the key's namespace (every namespace for an operator key);
    request counts and latencies are not measured here (issue 7: Prometheus /metrics)."""
    require(who, Scope.ADMIN)
    sessions = await services.sessions.list_sessions(who, None, None, 1, 0)
    cache = services.embedder
    lookups = cache.hits + cache.misses
    data = MetricsOut(
        uptime_seconds=_uptime(),
        memories=await _counts(who, services),
        sessions=sessions.total,
        query_cache=QueryCacheOut(
            hits=cache.hits,
            misses=cache.misses,
            hit_rate=round(cache.hits / lookups, 4) if lookups else None,
            size=len(cache),
            capacity=cache.maxsize,
        ),
    )
    return envelope(data, "Metrics retrieved successfully")


def _added(report: ConsolidationReport) -> list[AddedMemoryOut]:
    """Each memory the add touched, once, with mem0's event for what happened to it."""
    touched: list[tuple[Memory, Event]] = [
        *((m, "ADD") for m in report.added),
        *((new, "UPDATE") for _old, new in report.superseded),
        *((m, "NONE") for m in report.merged),
        *((m, "DELETE") for m in report.deleted),
    ]
    first: dict[str, tuple[Memory, Event]] = {}
    for memory, event in touched:
        first.setdefault(memory.id, (memory, event))
    return [
        AddedMemoryOut.model_validate({**memory_fields(m, None), "event": event})
        for m, event in first.values()
    ]


def _add_message(added: Sequence[AddedMemoryOut]) -> str:
    counts = {e: sum(1 for m in added if m.event == e) for e in ("ADD", "UPDATE", "NONE", "DELETE")}
    if not added:
        return "Nothing to remember in these messages"
    labels = {"ADD": "added", "UPDATE": "updated", "NONE": "already known", "DELETE": "deleted"}
    return "Memories: " + ", ".join(f"{n} {labels[e]}" for e, n in counts.items() if n)


def _edit_of(current: Memory, body: UpdateMemoryIn) -> MemoryEdit:
    """The document's read-only metadata keys: timestamp is ignored, entities are the memory's."""
    change = MemoryEdit(text=body.content)
    if body.metadata is None:
        return change
    given = dict(body.metadata)
    given.pop("timestamp", None)
    entities = given.pop("entities", None)
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, str) for e in entities):
            raise InvalidRequestError("metadata.entities must be a list of strings")
        change.entities = [str(e) for e in entities]
    merged = {**current.metadata, **given}
    change.metadata = {k: v for k, v in merged.items() if v is not None}
    return change


async def _counts(who: Principal, services: Services) -> MemoryCountsOut:
    """Active memories by type inside the key's binding."""
    by_type: dict[str, int] = {}
    for kind in MemoryType:
        only = MemoryFilter(memory_type=TagFilter(eq=kind.value))
        by_type[kind.value] = (await services.memories.list_memories(who, only, 1, 0)).total
    return MemoryCountsOut(namespace=who.namespace, total=sum(by_type.values()), by_type=by_type)


async def _embeddings(
    services: Services, memories: Sequence[Memory], wanted: bool
) -> list[list[float] | None]:
    """The stored vectors are the model's embedding of the text: the same model gives them
    again, without a store method for reading vectors back."""
    if not wanted or not memories:
        return [None] * len(memories)
    vectors = await anyio.to_thread.run_sync(services.embedder.embed, [m.text for m in memories])
    return [[float(x) for x in row] for row in vectors]


def _check_page_size(limit: int, services: Services) -> None:
    maximum = services.settings.limits.max_page_size
    if limit > maximum:
        raise InvalidRequestError(f"limit may be at most {maximum}")


def _uptime() -> float:
    return round(time.monotonic() - _STARTED, 3)
