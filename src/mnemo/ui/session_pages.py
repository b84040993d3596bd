"""Session pages (the list, one session's messages and context) and the stats page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mnemo.api.deps import ServicesDep
from mnemo.errors import ForbiddenError, SessionNotFoundError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import MemoryType, Session
from mnemo.ui.auth import Viewer, ViewerDep
from mnemo.ui.chart import bar_chart
from mnemo.ui.listing import PAGE_SIZE, Pager, page_number
from mnemo.ui.rendering import UiRoute, render
from mnemo.ui.stats import gather_stats
from mnemo.wiring import Services

router = APIRouter(route_class=UiRoute)
SESSION_MEMORIES_SHOWN = 50


@router.get("/sessions")
async def sessions_page(request: Request, services: ServicesDep, viewer: ViewerDep) -> Response:
    """Sessions of one namespace, most recently updated first."""
    namespace = _session_namespace(request, viewer, services)
    user = request.query_params.get("user", "").strip()
    page = page_number(request.query_params.get("page"))
    sessions: list[Session] = []
    error, total = None, 0
    try:
        ids = await services.sessions.list_sessions(
            viewer.principal, namespace, user or None, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        sessions, total = await _load(services, viewer, ids.items, namespace), ids.total
    except ForbiddenError as exc:  # a user outside the key's binding
        error = exc.message
    context = {
        "viewer": viewer, "active": "sessions", "sessions": sessions, "namespace": namespace,
        "user": user, "pager": Pager(page, total), "error": error,
    }  # fmt: skip
    return render(request, "sessions.html", context)


@router.get("/sessions/{session_id:path}")
async def session_page(
    request: Request, session_id: str, services: ServicesDep, viewer: ViewerDep
) -> Response:
    """A session's messages, context and data, and the memories drawn from it."""
    namespace = _session_namespace(request, viewer, services)
    session = await services.sessions.get(viewer.principal, session_id, namespace, None)
    drawn = MemoryFilter(
        namespace=TagFilter(eq=session.namespace),
        session_id=TagFilter(eq=session.session_id),
        memory_type=TagFilter(ne=MemoryType.MESSAGE.value),
        include_superseded=True,
    )
    memories = await services.memories.list_memories(
        viewer.principal, drawn, SESSION_MEMORIES_SHOWN, 0
    )
    context = {
        "viewer": viewer, "active": "sessions", "session": session, "memories": memories,
    }  # fmt: skip
    return render(request, "session.html", context)


@router.get("/stats")
async def stats_page(request: Request, services: ServicesDep, viewer: ViewerDep) -> Response:
    """Counts by memory type (with a bar chart), superseded memories and sessions."""
    namespace = None
    if viewer.principal.namespace is None:
        namespace = request.query_params.get("ns", "").strip() or None
    stats = await gather_stats(services, viewer.principal, namespace)
    context = {
        "viewer": viewer, "active": "stats", "stats": stats, "chart": bar_chart(stats.by_type),
        "namespace": namespace,
    }  # fmt: skip
    return render(request, "stats.html", context)


def _session_namespace(request: Request, viewer: Viewer, services: Services) -> str:
    """A bound key's own namespace; an operator key picks one (the default one if none)."""
    if viewer.principal.namespace is not None:
        return viewer.principal.namespace
    asked = request.query_params.get("ns", "").strip()
    return asked or services.settings.default_namespace


async def _load(
    services: Services, viewer: Viewer, session_ids: list[str], namespace: str
) -> list[Session]:
    sessions = []
    for session_id in session_ids:
        try:
            sessions.append(
                await services.sessions.get(viewer.principal, session_id, namespace, None)
            )
        except SessionNotFoundError:  # expired or deleted since it was listed
            continue
    return sessions
