"""Seed 000's API (sessions, chat, search) at its own paths, over the shared services."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from pydantic import JsonValue

from mnemo.api.convert import check_text, search_query
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.dialects.seed000_schemas import (
    ChatIn,
    ChatOut,
    MemoryHitOut,
    MemoryValueOut,
    SearchIn,
    SearchOut,
    SessionDeletedOut,
    SessionIn,
    SessionOut,
)
from mnemo.api.errors import ErrorRenderers, render_detail
from mnemo.api.schemas import SearchRequestIn
from mnemo.auth.access import resolve_namespace
from mnemo.errors import SessionNotFoundError
from mnemo.filters import TagFilter
from mnemo.models import MemoryType, Principal, Session
from mnemo.retrieval.pipeline import ScoredMemory
from mnemo.services.working_memory import WorkingMemoryUpdate
from mnemo.wiring import Services

router = APIRouter(tags=["seed 000"])

PREFIXES = ("/sessions", "/chat", "/search")
# Seed 000 speaks LangChain's message types ("human" in its example); "ai" is the other half.
SEED_ROLES = {"user": "human", "assistant": "ai"}
NOT_A_MESSAGE = "memory"  # the role shown for extracted or stored facts


def install(renderers: ErrorRenderers) -> None:
    """Seed 000 answers every error as {"detail": "..."}."""
    for prefix in PREFIXES:
        renderers.register(prefix, render_detail)


@router.post("/sessions", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
async def create_session(body: SessionIn, who: PrincipalDep, services: ServicesDep) -> SessionOut:
    """Start a session with a new UUID; its name is kept in the session's data."""
    data: dict[str, JsonValue] | None = None
    if body.session_name is not None:
        data = {"session_name": body.session_name}
    update = WorkingMemoryUpdate(data=data, user_id=body.user_id)
    session = await services.sessions.put(who, str(uuid.uuid4()), update)
    return _session_out(session, message_count=0)


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def get_session(session_id: str, who: PrincipalDep, services: ServicesDep) -> SessionOut:
    session = await services.sessions.get(who, session_id, None, None)
    return _session_out(session, await _message_count(who, services, session))


@router.delete("/sessions/{session_id}", response_model=SessionDeletedOut)
async def delete_session(
    session_id: str, who: PrincipalDep, services: ServicesDep
) -> SessionDeletedOut:
    """Delete the session with its turns and every memory extracted from it."""
    session = await services.sessions.get(who, session_id, None, None)
    await services.memories.delete_session_memories(who, session_id, session.namespace)
    await services.sessions.delete(who, session_id, session.namespace)
    return SessionDeletedOut(message=f"Session {session_id} deleted successfully")


@router.post("/chat", response_model=ChatOut)
async def chat(body: ChatIn, who: PrincipalDep, services: ServicesDep) -> ChatOut:
    """A turn and its answer; an unknown session_id starts that session."""
    check_text(body.message, services.settings.limits, "message")
    await _refuse_another_users_session(who, services, body.session_id, body.user_id)
    result = await services.chat.chat(who, body.message, body.session_id, body.user_id, None)
    return ChatOut(
        response=result.response,
        session_id=result.session.session_id,
        relevant_context_count=len(result.memories),
    )


@router.post("/search", response_model=SearchOut)
async def search(body: SearchIn, who: PrincipalDep, services: ServicesDep) -> SearchOut:
    """The user's memories (turns and facts) ranked by the native hybrid search, optionally
    within one session, in the namespace where seed 000's sessions live."""
    settings = services.settings
    namespace = resolve_namespace(who, None, settings.default_namespace)
    request = SearchRequestIn(
        text=body.query,
        namespace=TagFilter(eq=namespace),
        user_id=TagFilter(eq=body.user_id),
        session_id=TagFilter(eq=body.session_id) if body.session_id else None,
        limit=body.limit,
    )
    result = await services.search.search(
        who, search_query(request, settings.limits, settings.retrieval)
    )
    hits = [_hit(scored, body.user_id) for scored in result.items]
    return SearchOut(memories=hits, count=len(hits))


async def _message_count(who: Principal, services: Services, session: Session) -> int:
    """Every turn the session has had: older turns folded into its summary still count."""
    indexed = await services.memories.count_session_memories(
        who, session.session_id, session.namespace, MemoryType.MESSAGE
    )
    return max(indexed, len(session.messages))


async def _refuse_another_users_session(
    who: Principal, services: Services, session_id: str, user_id: str
) -> None:
    try:
        session = await services.sessions.get(who, session_id, None, None)
    except SessionNotFoundError:
        return  # a new session, or one this key cannot see (writing to it is then refused)
    if session.user_id not in (None, user_id):
        raise SessionNotFoundError(f"Session {session_id} not found")


def _session_out(session: Session, message_count: int) -> SessionOut:
    return SessionOut(
        session_id=session.session_id,
        user_id=session.user_id,
        created_at=session.created_at,
        message_count=message_count,
    )


def _hit(scored: ScoredMemory, user_id: str) -> MemoryHitOut:
    """A memory in the seed's key-value shape: id "<collection>_<user>_<key>", key = mnemo id."""
    memory = scored.memory
    is_message = memory.memory_type is MemoryType.MESSAGE
    collection = "conversations" if is_message else "memories"
    return MemoryHitOut(
        id=f"{collection}_{memory.user_id or user_id}_{memory.id}",
        key=memory.id,
        value=MemoryValueOut(
            role=_seed_role(memory.metadata.get("role")) if is_message else NOT_A_MESSAGE,
            content=memory.text,
            session_id=memory.session_id,
        ),
        timestamp=memory.created_at,
        score=round(scored.score, 6),
    )


def _seed_role(role: JsonValue) -> str:
    if not isinstance(role, str):
        return "message"
    return SEED_ROLES.get(role, role)
