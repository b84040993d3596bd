"""Long-term memory routes of seed 001: create, search, get, edit, delete, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mnemo.api.convert import check_count, check_text, draft_of, result_of, search_query
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import (
    AckOut,
    CreateMemoryRequest,
    EditMemoryIn,
    MemoryEventOut,
    MemoryHistoryOut,
    MemoryRecordOut,
    MemoryRecordResultsOut,
    SearchRequestIn,
)
from mnemo.services.memories import MemoryEdit

router = APIRouter(prefix="/v1/long-term-memory", tags=["native"])

NamespaceParam = Annotated[str | None, Query(description="Namespace of the memory")]


@router.post("/", response_model=AckOut)
async def create_memories(
    body: CreateMemoryRequest, who: PrincipalDep, services: ServicesDep
) -> AckOut:
    limits = services.settings.limits
    check_count(len(body.memories), limits.max_memories_per_request, "memories")
    drafts = [draft_of(record, limits) for record in body.memories]
    await services.memories.create(who, drafts, deduplicate=body.deduplicate)
    return AckOut(status="ok")


@router.post("/search", response_model=MemoryRecordResultsOut)
async def search_memories(
    body: SearchRequestIn,
    who: PrincipalDep,
    services: ServicesDep,
    optimize_query: bool = False,
) -> MemoryRecordResultsOut:
    del optimize_query  # query rewriting needs an LLM; the hybrid search does not
    query = search_query(body, services.settings.limits, services.settings.retrieval)
    result = await services.search.search(who, query)
    return MemoryRecordResultsOut(
        memories=[result_of(s, body.explain) for s in result.items],
        total=result.total,
        next_offset=result.next_offset,
    )


@router.get("/{memory_id}", response_model=MemoryRecordOut)
async def get_memory(
    memory_id: str, who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> MemoryRecordOut:
    return MemoryRecordOut.of(await services.memories.get(who, memory_id, namespace))


@router.patch("/{memory_id}", response_model=MemoryRecordOut)
async def edit_memory(
    memory_id: str,
    body: EditMemoryIn,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: NamespaceParam = None,
) -> MemoryRecordOut:
    if body.text is not None:
        check_text(body.text, services.settings.limits, "memory text")
    change = MemoryEdit(**body.model_dump(exclude_unset=True))
    return MemoryRecordOut.of(await services.memories.edit(who, memory_id, change, namespace))


@router.get("/{memory_id}/history", response_model=MemoryHistoryOut)
async def memory_history(
    memory_id: str, who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> MemoryHistoryOut:
    memory, events = await services.memories.history(who, memory_id, namespace)
    return MemoryHistoryOut(
        memory=MemoryRecordOut.of(memory) if memory else None,
        events=[MemoryEventOut(**e.model_dump(exclude={"namespace"})) for e in events],
    )


delete_router = APIRouter(tags=["native"])


@delete_router.delete("/v1/long-term-memory", response_model=AckOut)
@delete_router.delete("/v1/long-term-memory/", response_model=AckOut, include_in_schema=False)
async def delete_memories(
    who: PrincipalDep,
    services: ServicesDep,
    memory_ids: Annotated[list[str], Query(min_length=1)],
    namespace: NamespaceParam = None,
) -> AckOut:
    check_count(len(memory_ids), services.settings.limits.max_ids_per_request, "memory ids")
    deleted = await services.memories.delete(who, memory_ids, namespace)
    return AckOut(status=f"ok, deleted {len(deleted)} memories")
