"""Seed 004's memory routes: add (202), batcher, query, get, delete, evolution chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from mnemo.api.convert import check_count, check_text, search_query
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.dialects.seed004_schemas import (
    MIN_ID_LENGTH,
    AcceptedOut,
    AddMemoryIn,
    BatcherMessagesIn,
    BatcherOut,
    Conversation,
    DeletedOut,
    EvolutionOut,
    MemoryOut,
    MessageIn,
    QueryOut,
    ScoredMemoryOut,
    iso,
    memory_metadata,
)
from mnemo.api.schemas import SearchRequestIn
from mnemo.auth.access import resolve_namespace, resolve_user
from mnemo.errors import InvalidRequestError, MemoryNotFoundError
from mnemo.filters import TagFilter
from mnemo.models import Memory, Message, Principal, new_id, utcnow
from mnemo.retrieval.pipeline import ScoredMemory
from mnemo.retrieval.scoring import similarity_to_unit
from mnemo.services.consolidation import Owner
from mnemo.stores.batch_store import BatchKey
from mnemo.wiring import Services

PREFIX = "/api/v1"
MAX_CHAIN = 1_000  # evolution: a longer chain (or a cycle) is cut here
DEFAULT_RESULTS = 10

router = APIRouter(tags=["seed 004"])

AppId = Annotated[str, Query(min_length=MIN_ID_LENGTH, max_length=256, description="App id")]
OptionalId = Annotated[str | None, Query(min_length=MIN_ID_LENGTH, max_length=256)]


@router.post(f"{PREFIX}/memories", status_code=status.HTTP_202_ACCEPTED)
async def add_memory(body: AddMemoryIn, who: PrincipalDep, services: ServicesDep) -> AcceptedOut:
    """Exactly `message_batch_size` turns (OMNIMEMORY_DEFAULT_MAX_MESSAGES, default 10) become
    a durable task: each turn is indexed as a message memory, then facts are extracted and
    consolidated (follow it at GET /v1/tasks/{task_id})."""
    expected = services.settings.message_batch_size
    if len(body.messages) != expected:
        raise InvalidRequestError(
            f"messages must contain exactly {expected} messages "
            f"(OMNIMEMORY_DEFAULT_MAX_MESSAGES); got {len(body.messages)}"
        )
    owner = owner_of(who, services, body)
    messages = turns(body.messages, services)
    task = await services.seed004.tasks.submit_add(who, owner, messages)
    return AcceptedOut(
        task_id=task.id,
        message="Memory creation task submitted successfully",
        app_id=owner.namespace,
        user_id=body.user_id,
        session_id=body.session_id,
    )


@router.post(f"{PREFIX}/memory-batcher/messages")
async def append_messages(
    body: BatcherMessagesIn, who: PrincipalDep, services: ServicesDep
) -> BatcherOut:
    """Buffer turns in the database per (app_id, user_id, session_id); each full window of
    `batch_size` turns is flushed into one add-memory task, exactly once, even across restarts."""
    owner = owner_of(who, services, body)
    key = BatchKey(owner.namespace, body.user_id, body.session_id)
    state = await services.seed004.batcher.append(who, key, turns(body.messages, services))
    last = state.last
    return BatcherOut(
        app_id=owner.namespace,
        user_id=body.user_id,
        session_id=body.session_id,
        pending_messages=state.pending,
        batch_size=state.batch_size,
        status="flushed" if state.flushed else "pending",
        last_delivery="add_memory" if last is not None else None,
        task_ids=[t.id for t in state.flushed],
        last_delivery_task_id=last.task_id if last is not None else None,
        last_delivery_at=iso(last.sealed_at) if last is not None else None,
    )


@router.get(f"{PREFIX}/memories/query")
async def query_memories(
    who: PrincipalDep,
    services: ServicesDep,
    app_id: AppId,
    query: Annotated[str, Query(min_length=MIN_ID_LENGTH, max_length=32_768)],
    user_id: OptionalId = None,
    session_id: OptionalId = None,
    n_results: Annotated[int, Query(ge=1, le=100)] = DEFAULT_RESULTS,
    similarity_threshold: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> QueryOut:
    """The hybrid search, best first. composite_score is mnemo's score (relevance blended with
    recency), similarity_score the cosine similarity (floored at 0), recency_score the recency
    decay, importance_score the memory's importance; similarity_threshold keeps cosine >= it.
    Turns (message memories) and extracted facts are searched alike; superseded facts are not."""
    settings = services.settings
    namespace = resolve_namespace(who, app_id, settings.default_namespace)
    request = SearchRequestIn(
        text=query,
        namespace=TagFilter(eq=namespace),
        user_id=TagFilter(eq=user_id) if user_id is not None else None,
        session_id=TagFilter(eq=session_id) if session_id is not None else None,
        limit=n_results,
        distance_threshold=None if similarity_threshold is None else 1.0 - similarity_threshold,
    )
    result = await services.search.search(
        who, search_query(request, settings.limits, settings.retrieval)
    )
    found = [scored_out(s) for s in result.items]
    return QueryOut(memories=found, count=len(found))


@router.get(f"{PREFIX}/memories/{{memory_id}}")
async def get_memory(
    memory_id: str, app_id: AppId, who: PrincipalDep, services: ServicesDep
) -> MemoryOut:
    namespace = resolve_namespace(who, app_id, services.settings.default_namespace)
    return MemoryOut.of(await services.memories.get(who, memory_id, namespace))


@router.delete(f"{PREFIX}/memories/{{memory_id}}")
async def delete_memory(
    memory_id: str, app_id: AppId, who: PrincipalDep, services: ServicesDep
) -> DeletedOut:
    """Deleted for good; its history stays (GET /v1/long-term-memory/{id}/history)."""
    namespace = resolve_namespace(who, app_id, services.settings.default_namespace)
    if not await services.memories.delete(who, [memory_id], namespace):
        raise MemoryNotFoundError(f"Memory {memory_id} not found")
    return DeletedOut(success=True, message=f"Memory {memory_id} deleted successfully")


@router.get(f"{PREFIX}/memories/{{memory_id}}/evolution")
async def memory_evolution(
    memory_id: str, app_id: AppId, who: PrincipalDep, services: ServicesDep
) -> EvolutionOut:
    """From this memory forward along `next_id` (the memory that superseded it) to the current
    one; superseded memories stay readable, so the whole chain is shown."""
    namespace = resolve_namespace(who, app_id, services.settings.default_namespace)
    chain = await evolution_chain(who, services, memory_id, namespace)
    return EvolutionOut(memories=[MemoryOut.of(m) for m in chain], count=len(chain))


async def evolution_chain(
    who: Principal, services: Services, memory_id: str, namespace: str
) -> list[Memory]:
    chain: list[Memory] = [await services.memories.get(who, memory_id, namespace)]
    seen = {memory_id}
    while (next_id := chain[-1].superseded_by) and next_id not in seen and len(chain) < MAX_CHAIN:
        try:
            chain.append(await services.memories.get(who, next_id, namespace))
        except MemoryNotFoundError:  # the successor was deleted for good: the chain ends here
            break
        seen.add(next_id)
    return chain


def owner_of(who: Principal, services: Services, body: Conversation) -> Owner:
    """app_id is the namespace; a key bound elsewhere (namespace or user) gets 403."""
    namespace = resolve_namespace(who, body.app_id, services.settings.default_namespace)
    return Owner(namespace, resolve_user(who, body.user_id), body.session_id)


def turns(messages: Sequence[MessageIn], services: Services) -> list[Message]:
    """Domain messages with ids fixed now, so a retried task rewrites the same memories."""
    limits = services.settings.limits
    check_count(len(messages), limits.max_messages_per_request, "messages")
    now = utcnow()
    for message in messages:
        check_text(message.content, limits, "message content")
    return [
        Message(
            id="msg_" + new_id(), role=m.role, content=m.content, created_at=_utc(m.timestamp, now)
        )
        for m in messages
    ]


def _utc(moment: datetime | None, now: datetime) -> datetime:
    """A timestamp without a zone is taken as UTC; a turn without one happened now."""
    if moment is None:
        return now
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def scored_out(scored: ScoredMemory) -> ScoredMemoryOut:
    memory = scored.memory
    return ScoredMemoryOut(
        memory_id=memory.id,
        document=memory.text,
        metadata=memory_metadata(memory),
        composite_score=round(scored.score, 6),
        similarity_score=round(similarity_to_unit(scored.similarity or 0.0), 6),
        recency_score=round(scored.recency or 0.0, 6),
        importance_score=round(memory.importance, 6),
    )
