"""Seed 003 (MemoryKit) dialect: conversations, query, context, statistics and patterns."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import JsonValue

from mnemo.api.convert import check_text
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.dialects.seed003_context import (
    QUERY_LIMIT,
    context_text,
    debug_info,
    importance_of,
    recall_query,
    source_of,
    within_budget,
)
from mnemo.api.dialects.seed003_errors import PREFIXES, SHARED_PREFIXES, render_error, render_union
from mnemo.api.dialects.seed003_schemas import (
    AddMessageIn,
    ContextOut,
    ConversationOut,
    CreateConversationIn,
    ErrorOut,
    HealthOut,
    MessageOut,
    PatternOut,
    PatternPageOut,
    QueryIn,
    QueryOut,
    StatisticsOut,
    TriggerOut,
)
from mnemo.api.errors import ErrorRenderers
from mnemo.auth.access import require, resolve_namespace, resolve_user
from mnemo.errors import (
    InvalidRequestError,
    NotFoundError,
    SessionNotFoundError,
    StoreUnavailableError,
)
from mnemo.models import MemoryType, Principal, Scope, Session, new_id, utcnow
from mnemo.services.patterns import Pattern
from mnemo.services.working_memory import MessageDraft, WorkingMemoryUpdate
from mnemo.wiring import Services


class CurlFriendlyRoute(APIRoute):
    """The document's curl examples send JSON bodies without a Content-Type, so curl labels
    them application/x-www-form-urlencoded: such a body is read as JSON (and refused with a
    400 if it is not JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if content_type.lower().startswith("application/x-www-form-urlencoded"):
                headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
                headers.append((b"content-type", b"application/json"))
                request = Request({**request.scope, "headers": headers}, request.receive)
            return await handler(request)

        return handle


_ERRORS = (400, 401, 403, 404, 413, 429, 500)
router = APIRouter(
    tags=["seed 003"],
    responses={s: {"model": ErrorOut} for s in _ERRORS},
    route_class=CurlFriendlyRoute,
)

DEFAULT_PAGE_SIZE = 10  # the document's example: GET /patterns?page=1&pageSize=10
UserParam = Annotated[
    str | None, Query(alias="userId", min_length=1, description="Only this user's (optional)")
]


def install(renderers: ErrorRenderers) -> None:
    for prefix in PREFIXES:
        renderers.register(prefix, render_error)
    for prefix in SHARED_PREFIXES:
        renderers.register(prefix, render_union)


@router.post("/v1/conversations", status_code=status.HTTP_201_CREATED)
async def create_conversation(
    body: CreateConversationIn, who: PrincipalDep, services: ServicesDep
) -> ConversationOut:
    """A conversation is a session (the same one every API sees); its title, description and
    tags are kept in the session's data."""
    data: dict[str, JsonValue] = {
        "title": body.title,
        "description": body.description,
        "tags": list(body.tags),
    }
    update = WorkingMemoryUpdate(data=data, user_id=body.user_id)
    session = await services.sessions.put(who, f"conv_{new_id().lower()}", update)
    return _conversation_out(session)


@router.post("/v1/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED)
async def add_message(
    conversation_id: str,
    body: AddMessageIn,
    who: PrincipalDep,
    services: ServicesDep,
    wait: Annotated[bool, Query(description="Extract memories before answering")] = False,
) -> MessageOut:
    """The turn joins the conversation's working memory: it is searchable at once, announced
    as "message.created", and its facts are extracted in the background (or now, on wait)."""
    check_text(body.content, services.settings.limits, "content")
    session = await _conversation(who, services, conversation_id)
    metadata: dict[str, JsonValue] = {"tags": list(body.tags)}
    if body.importance_score is not None:
        metadata["importance"] = body.importance_score
    draft = MessageDraft(body.role, body.content, created_at=utcnow(), metadata=metadata)
    session = await services.sessions.append(
        who, session.session_id, session.namespace, None, [draft], wait=wait
    )
    message = session.messages[-1]
    return MessageOut(
        id=message.id,
        conversation_id=session.session_id,
        role=message.role,
        content=message.content,
        timestamp=message.created_at,
        importance_score=importance_of(message.metadata),
        tags=list(body.tags),
        extraction_task_id=session.extraction_task_id,
    )


@router.post("/v1/conversations/{conversation_id}/query")
async def query_memory(
    conversation_id: str, body: QueryIn, who: PrincipalDep, services: ServicesDep
) -> QueryOut:
    """Answer from the conversation's user's memories (turns and facts), with the LLM when
    one is configured, else by quoting them. A read: the question is not added as a turn."""
    check_text(body.question, services.settings.limits, "question")
    started = time.perf_counter()
    session = await _conversation(who, services, conversation_id)
    found = await services.search.search(who, recall_query(session, body.question, QUERY_LIMIT))
    retrieved = time.perf_counter()
    used, tokens = within_budget(found.items, body.question, body.max_tokens, services.counter)
    answer, usage = await services.chat.answer(session, used, body.question)
    sources = [source_of(s, session.session_id) for s in used]
    debug = None
    if body.include_debug_info:
        debug = debug_info(
            session, used, sources, tokens, usage, services.llm is not None,
            timings=(started, retrieved, time.perf_counter()), retrieved_count=found.total,
        )  # fmt: skip
    return QueryOut(answer=answer, sources=sources, debug_info=debug)


@router.get("/v1/conversations/{conversation_id}/context")
async def get_context(
    conversation_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    query: Annotated[str | None, Query(max_length=32_768)] = None,
    limit: Annotated[int, Query(ge=1, description="Memories to retrieve for the query")] = 8,
) -> ContextOut:
    """The conversation's summary and recent turns, and, for a query, the memories that
    match it (turns already in the recent conversation are not repeated)."""
    _check_page_size(limit, services, "limit")
    started = time.perf_counter()
    session = await _conversation(who, services, conversation_id)
    memories = []
    if query and query.strip():
        found = await services.search.search(who, recall_query(session, query, limit))
        shown = {m.id for m in session.messages}
        memories = [s for s in found.items if s.memory.id not in shown]
    latency = (time.perf_counter() - started) * 1000
    text = context_text(session, memories)
    return ContextOut(
        context=text,
        total_tokens=services.counter.count(text),
        retrieval_latency_ms=round(latency, 3),
        conversation_id=session.session_id,
        memories=[source_of(s, session.session_id) for s in memories],
    )


@router.get("/v1/memory/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def memory_health(services: ServicesDep) -> JSONResponse:
    """No key needed; 503 while the database does not answer."""
    try:
        await services.store.ping()
        healthy = True
    except StoreUnavailableError:
        healthy = False
    body = HealthOut(
        status="healthy" if healthy else "unhealthy",
        timestamp=utcnow(),
        database="connected" if healthy else "disconnected",
    )
    code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=code)


@router.get("/v1/memory/statistics")
async def statistics(
    who: PrincipalDep, services: ServicesDep, user_id: UserParam = None
) -> StatisticsOut:
    """Counts in the key's namespace (the default one for an operator key), for one user
    when the key is bound to one or userId is given."""
    require(who, Scope.READ)
    ns = resolve_namespace(who, None, services.settings.default_namespace)
    user = resolve_user(who, user_id)
    found = await services.stats.counts(who, ns, user)
    by_type = found.memories_by_type
    return StatisticsOut(
        user_id=user,
        namespace=ns,
        conversation_count=found.sessions,
        message_count=by_type[MemoryType.MESSAGE.value],
        fact_count=by_type[MemoryType.SEMANTIC.value] + by_type[MemoryType.EPISODIC.value],
        pattern_count=found.patterns,
        memories_by_type=by_type,
    )


@router.get("/v1/patterns")
async def list_patterns(
    who: PrincipalDep,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1)] = DEFAULT_PAGE_SIZE,
    user_id: UserParam = None,
) -> PatternPageOut:
    """Standing instructions and preferences repeated in two or more turns, most recently
    used first (the rule is in mnemo.services.patterns)."""
    _check_page_size(page_size, services, "pageSize")
    found = await services.patterns.list_patterns(
        who, None, user_id, page_size, (page - 1) * page_size
    )
    return PatternPageOut(
        items=[_pattern_out(p) for p in found.items],
        page=page,
        page_size=page_size,
        total_count=found.total,
    )


@router.delete("/v1/patterns/{pattern_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_pattern(pattern_id: str, who: PrincipalDep, services: ServicesDep) -> None:
    """Delete the pattern's memory; its history stays (/v1/long-term-memory/{id}/history)."""
    await services.patterns.delete_pattern(who, pattern_id, None)


async def _conversation(who: Principal, services: Services, conversation_id: str) -> Session:
    try:
        return await services.sessions.get(who, conversation_id, None, None)
    except SessionNotFoundError:
        raise NotFoundError(f"Conversation '{conversation_id}' not found") from None


def _conversation_out(session: Session) -> ConversationOut:
    data = session.data or {}
    title, description, tags = data.get("title"), data.get("description"), data.get("tags")
    return ConversationOut(
        id=session.session_id,
        user_id=session.user_id,
        title=title if isinstance(title, str) else None,
        description=description if isinstance(description, str) else None,
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        message_count=len(session.messages),
        created_at=session.created_at,
        last_activity_at=session.updated_at,
    )


def _pattern_out(pattern: Pattern) -> PatternOut:
    memory = pattern.memory
    return PatternOut(
        id=pattern.id,
        name=pattern.name,
        description=memory.text,
        triggers=[TriggerOut(type=t.type, pattern=t.pattern) for t in pattern.triggers],
        usage_count=pattern.usage_count,
        last_used=pattern.last_used_at,
        kind=pattern.kind.value,
        occurrences=pattern.occurrences,
        user_id=memory.user_id,
        conversation_id=memory.session_id,
        created_at=memory.created_at,
    )


def _check_page_size(size: int, services: Services, name: str) -> None:
    maximum = services.settings.limits.max_page_size
    if size > maximum:
        raise InvalidRequestError(
            f"{name} may be at most {maximum}", details={name: f"at most {maximum}"}
        )
