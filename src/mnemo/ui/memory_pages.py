"""Memory pages: the searchable list, one memory with its history and evolution, pin, delete."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response

from mnemo.api.deps import ServicesDep
from mnemo.errors import ForbiddenError, InvalidRequestError, MemoryNotFoundError
from mnemo.services.memories import MemoryEdit
from mnemo.ui.auth import UI_PREFIX, Viewer, ViewerDep, WriterDep
from mnemo.ui.evolution import evolution_chain
from mnemo.ui.formatting import memory_url
from mnemo.ui.listing import MEMORY_TYPES, MemoryQuery, Pager, Results, find_memories
from mnemo.ui.rendering import UiRoute, is_partial, redirect, render

router = APIRouter(route_class=UiRoute)


@router.get("/memories")
async def memories_page(request: Request, services: ServicesDep, viewer: ViewerDep) -> Response:
    """The list (newest first) or the search results; htmx asks for just the #results part."""
    query = MemoryQuery.of(request.query_params)
    if viewer.principal.namespace is not None:  # a bound key has one namespace: no filter
        query = replace(query, namespace="")
    error = None
    try:
        results = await find_memories(services, viewer.principal, query)
    except (ForbiddenError, InvalidRequestError) as exc:  # e.g. a user outside the binding
        results, error = Results([], Pager(1, 0), is_search=bool(query.text)), exc.message
    context = {
        "viewer": viewer, "active": "memories", "query": query, "results": results,
        "error": error, "memory_types": MEMORY_TYPES,
        "deleted": request.query_params.get("deleted") == "1",
    }  # fmt: skip
    name = "_memory_results.html" if is_partial(request, "results") else "memories.html"
    return render(request, name, context)


@router.get("/memories/{memory_id:path}")
async def memory_page(
    request: Request, memory_id: str, services: ServicesDep, viewer: ViewerDep
) -> Response:
    """A memory's fields, its history (kept after deletion) and its evolution chain."""
    namespace = _namespace(request, viewer)
    memory, events = await services.memories.history(viewer.principal, memory_id, namespace)
    chain = await evolution_chain(services, viewer.principal, memory) if memory else []
    context = {
        "viewer": viewer, "active": "memories", "memory": memory, "memory_id": memory_id,
        "events": events, "chain": chain,
    }  # fmt: skip
    return render(request, "memory.html", context)


@router.post("/memories/{memory_id:path}/pin")
async def pin_memory(
    request: Request, memory_id: str, services: ServicesDep, viewer: WriterDep
) -> Response:
    """Pin (or unpin, with pinned=0) a memory: pinned memories are never forgotten."""
    form = await request.form()
    change = MemoryEdit(pinned=form.get("pinned") == "1")
    namespace = _namespace(request, viewer)
    memory = await services.memories.edit(viewer.principal, memory_id, change, namespace)
    return redirect(request, memory_url(memory.id, memory.namespace))


@router.post("/memories/{memory_id:path}/delete")
async def delete_memory(
    request: Request, memory_id: str, services: ServicesDep, viewer: WriterDep
) -> Response:
    namespace = _namespace(request, viewer)
    deleted = await services.memories.delete(viewer.principal, [memory_id], namespace)
    if memory_id not in deleted:
        raise MemoryNotFoundError(f"Memory with ID '{memory_id}' not found")
    return redirect(request, f"{UI_PREFIX}/memories?deleted=1")


def _namespace(request: Request, viewer: Viewer) -> str | None:
    """The namespace a link names; only an operator key needs it (a bound key has one)."""
    if viewer.principal.namespace is not None:
        return None
    return request.query_params.get("ns") or None
