"""Working memory routes of seed 001: list sessions, get, put and delete a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mnemo.api.convert import check_count, check_text, draft_of, working_memory_out
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import AckOut, SessionListOut, WorkingMemoryIn, WorkingMemoryOut
from mnemo.errors import InvalidRequestError
from mnemo.services.tokens import context_window
from mnemo.services.working_memory import MessageDraft, WorkingMemoryUpdate

router = APIRouter(prefix="/v1/working-memory", tags=["native"])

Opt = Annotated[str | None, Query()]


@router.get("/", response_model=SessionListOut)
async def list_sessions(
    who: PrincipalDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    namespace: Opt = None,
    user_id: Opt = None,
) -> SessionListOut:
    page = await services.sessions.list_sessions(who, namespace, user_id, limit, offset)
    return SessionListOut(sessions=page.items, total=page.total)


@router.get("/{session_id}", response_model=WorkingMemoryOut)
async def get_working_memory(
    session_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: Opt = None,
    user_id: Opt = None,
    model_name: Opt = None,
    context_window_max: Annotated[int | None, Query(gt=0)] = None,
    recent_messages_limit: Annotated[int | None, Query(gt=0)] = None,
) -> WorkingMemoryOut:
    session = await services.sessions.get(who, session_id, namespace, user_id)
    if recent_messages_limit:
        session.messages = session.messages[-recent_messages_limit:]
    return working_memory_out(session, context_window(model_name, context_window_max))


@router.put("/{session_id}", response_model=WorkingMemoryOut)
async def put_working_memory(
    session_id: str,
    body: WorkingMemoryIn,
    who: PrincipalDep,
    services: ServicesDep,
    response: Response,
    user_id: Opt = None,
    model_name: Opt = None,
    context_window_max: Annotated[int | None, Query(gt=0)] = None,
    wait: Annotated[bool, Query(description="extract new turns before answering")] = False,
) -> WorkingMemoryOut:
    if body.session_id is not None and body.session_id != session_id:
        raise InvalidRequestError("session_id in the body differs from the one in the path")
    limits = services.settings.limits
    check_count(len(body.messages), limits.max_messages_per_request, "messages")
    for message in body.messages:
        check_text(message.content, limits, "message content")
    if any(m.created_at is None for m in body.messages):
        response.headers["X-Deprecation-Warning"] = "messages should carry created_at"
    update = WorkingMemoryUpdate(
        messages=[
            MessageDraft(m.role, m.content, m.id, m.created_at, m.metadata or {})
            for m in body.messages
        ],
        memories=[m.model_dump(mode="json", exclude_none=True) for m in body.memories],
        context=body.context,
        data=body.data,
        user_id=user_id or body.user_id,
        namespace=body.namespace,
        ttl_seconds=body.ttl_seconds,
        strategy=body.long_term_memory_strategy.model_dump(),
    )
    drafts = [draft_of(m, limits) for m in body.memories]
    window = context_window(model_name, context_window_max)
    session = await services.sessions.put(who, session_id, update, window, wait=wait)
    if drafts:  # structured memories are promoted to long-term memory straight away
        for draft in drafts:
            draft.session_id = draft.session_id or session_id
            draft.user_id = draft.user_id or session.user_id
            draft.namespace = draft.namespace or session.namespace
        await services.memories.create(who, drafts)
    return working_memory_out(session, context_window(model_name, context_window_max))


@router.delete("/{session_id}", response_model=AckOut)
async def delete_working_memory(
    session_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: Opt = None,
    user_id: Opt = None,
) -> AckOut:
    del user_id  # the session is found by namespace and id; the key decides the user
    await services.sessions.delete(who, session_id, namespace)
    return AckOut(status="ok")
