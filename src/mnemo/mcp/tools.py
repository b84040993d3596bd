"""The MCP tools: seed 001's memory tools, each a thin call into mnemo's services."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Annotated, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, JsonValue, ValidationError

from mnemo.api.convert import (
    check_count,
    check_text,
    draft_of,
    result_of,
    search_query,
    working_memory_out,
)
from mnemo.api.schemas import (
    EditMemoryIn,
    MemoryPromptOut,
    MemoryRecordIn,
    MemoryRecordOut,
    MemoryRecordResultsOut,
    MessageIn,
    Moment,
    SearchRequestIn,
    WorkingMemoryOut,
)
from mnemo.errors import InvalidRequestError, MnemoError
from mnemo.filters import TagFilter
from mnemo.mcp.outputs import (
    CreatedMemories,
    CurrentDatetime,
    DeletedMemories,
)
from mnemo.models import MemoryType, Principal, utcnow
from mnemo.retrieval.pipeline import SearchQuery
from mnemo.services.memories import MemoryEdit
from mnemo.services.prompt import SessionRef
from mnemo.services.tokens import context_window
from mnemo.services.working_memory import MessageDraft, WorkingMemoryUpdate
from mnemo.wiring import Services

PrincipalResolver = Callable[[Context], Awaitable[Principal]]
"""Who is calling: a fixed key's principal on stdio, the request's on HTTP."""

P = ParamSpec("P")
R = TypeVar("R")

_TAG_HELP = 'A value, or a filter: {"eq"|"ne"|"startswith": v} or {"any"|"all"|"none": [v, ...]}'
Tag = Annotated[TagFilter | str | None, Field(description=_TAG_HELP)]
SearchMode = Annotated[
    Literal["semantic", "keyword", "hybrid"],
    Field(description="hybrid (default) fuses vector and keyword scores"),
]
Distance = Annotated[
    float | None, Field(ge=0.0, le=2.0, description="Drop results farther than this (cosine)")
]
Limit = Annotated[int, Field(ge=1, le=100, description="How many results (1-100)")]
Offset = Annotated[int, Field(ge=0, le=100_000, description="Results to skip, for paging")]
Namespace = Annotated[str | None, Field(description="Namespace; a bound key's own by default")]
UserId = Annotated[str | None, Field(description="The user the memory or session belongs to")]
ModelName = Annotated[str | None, Field(description="Your model, to size the context window")]
Window = Annotated[int | None, Field(gt=0, description="Context window in tokens (wins)")]


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn mnemo's errors and bad arguments into tool errors the model can read and fix."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except MnemoError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolError(f"INVALID_REQUEST: {problems}") from exc

    return run


def _tag(value: TagFilter | str | None) -> TagFilter | None:
    return TagFilter(eq=value) if isinstance(value, str) else value


class MemoryTools:
    """Every tool acts as the principal the resolver names, so keys stay in their tenancy."""

    def __init__(self, services: Services, resolve: PrincipalResolver) -> None:
        self._services = services
        self._resolve = resolve

    def all(self) -> list[Callable[..., Awaitable[BaseModel]]]:
        return [
            self.get_current_datetime, self.create_long_term_memories,
            self.search_long_term_memory, self.get_long_term_memory,
            self.edit_long_term_memory, self.delete_long_term_memories, self.memory_prompt,
            self.get_working_memory, self.set_working_memory,
        ]  # fmt: skip

    async def get_current_datetime(self) -> CurrentDatetime:
        """The current date and time in UTC. Call it to turn relative dates ("yesterday",
        "next week") into absolute ones before storing a memory or setting event_date."""
        now = utcnow().astimezone(UTC).replace(microsecond=0)
        return CurrentDatetime(
            iso_utc=now.isoformat().replace("+00:00", "Z"), unix_ts=int(now.timestamp())
        )

    @tool_errors
    async def create_long_term_memories(
        self,
        ctx: Context,
        memories: Annotated[list[MemoryRecordIn], Field(min_length=1)],
        deduplicate: bool = True,
    ) -> CreatedMemories:
        """Store durable memories for later search. Each needs `text`: one self-contained
        fact with pronouns and relative dates resolved ("User moved to Lisbon in May 2025").
        Optional: memory_type (semantic: lasting facts and preferences; episodic: events,
        with event_date), topics, entities, user_id, session_id, namespace, importance 0..1,
        pinned, metadata. Exact duplicates of a stored memory are skipped."""
        limits = self._services.settings.limits
        check_count(len(memories), limits.max_memories_per_request, "memories")
        drafts = [draft_of(m, limits) for m in memories]
        who = await self._resolve(ctx)
        outcome = await self._services.memories.create(who, drafts, deduplicate=deduplicate)
        return CreatedMemories(
            status="ok",
            memory_ids=[m.id for m in outcome.created],
            duplicates_skipped=len(outcome.merged),
        )

    @tool_errors
    async def search_long_term_memory(
        self,
        ctx: Context,
        text: Annotated[str, Field(description="What to look for; empty lists by filters")] = "",
        user_id: Tag = None,
        namespace: Tag = None,
        session_id: Tag = None,
        topics: Tag = None,
        entities: Tag = None,
        memory_type: Tag = None,
        search_mode: SearchMode = "hybrid",
        distance_threshold: Distance = None,
        limit: Limit = 10,
        offset: Offset = 0,
    ) -> MemoryRecordResultsOut:
        """Search long-term memories by meaning and keywords, best first. Call it before
        answering anything about the user's preferences, history or facts you may have
        stored. Filters take a plain value or a filter object, e.g. topics={"any": ["work",
        "travel"]}, memory_type="episodic"."""
        body = SearchRequestIn(
            text=text, user_id=_tag(user_id), namespace=_tag(namespace),
            session_id=_tag(session_id), topics=_tag(topics), entities=_tag(entities),
            memory_type=_tag(memory_type), search_mode=search_mode,
            distance_threshold=distance_threshold, limit=limit, offset=offset,
        )  # fmt: skip
        query = self._search_query(body)
        result = await self._services.search.search(await self._resolve(ctx), query)
        return MemoryRecordResultsOut(
            memories=[result_of(s, explain=False) for s in result.items],
            total=result.total,
            next_offset=result.next_offset,
        )

    @tool_errors
    async def get_long_term_memory(
        self, ctx: Context, memory_id: str, namespace: Namespace = None
    ) -> MemoryRecordOut:
        """One long-term memory by id, with all its fields."""
        who = await self._resolve(ctx)
        return MemoryRecordOut.of(await self._services.memories.get(who, memory_id, namespace))

    @tool_errors
    async def edit_long_term_memory(
        self,
        ctx: Context,
        memory_id: str,
        namespace: Annotated[str | None, Field(description="Where the memory lives")] = None,
        text: str | None = None,
        topics: list[str] | None = None,
        entities: list[str] | None = None,
        memory_type: MemoryType | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        event_date: Moment | None = None,
        pinned: bool | None = None,
        importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = None,
        metadata: dict[str, JsonValue] | None = None,
    ) -> MemoryRecordOut:
        """Change fields of a memory when the user corrects or updates it; fields left out
        stay as they are, and the old text is kept in the memory's history."""
        given = {
            "text": text, "topics": topics, "entities": entities, "memory_type": memory_type,
            "user_id": user_id, "session_id": session_id, "event_date": event_date,
            "pinned": pinned, "importance": importance, "metadata": metadata,
        }  # fmt: skip
        change = EditMemoryIn.model_validate({k: v for k, v in given.items() if v is not None})
        if not change.model_fields_set:
            raise InvalidRequestError("nothing to change: give at least one field")
        if change.text is not None:
            check_text(change.text, self._services.settings.limits, "memory text")
        edit = MemoryEdit(**change.model_dump(exclude_unset=True))
        who = await self._resolve(ctx)
        memory = await self._services.memories.edit(who, memory_id, edit, namespace)
        return MemoryRecordOut.of(memory)

    @tool_errors
    async def delete_long_term_memories(
        self,
        ctx: Context,
        memory_ids: Annotated[list[str], Field(min_length=1)],
        namespace: Namespace = None,
    ) -> DeletedMemories:
        """Delete long-term memories by id, for good (their history remains). Only when the
        user asks to forget something."""
        limit = self._services.settings.limits.max_ids_per_request
        check_count(len(memory_ids), limit, "memory ids")
        who = await self._resolve(ctx)
        deleted = await self._services.memories.delete(who, memory_ids, namespace)
        return DeletedMemories(status=f"ok, deleted {len(deleted)} memories", deleted=deleted)

    @tool_errors
    async def memory_prompt(
        self,
        ctx: Context,
        query: Annotated[str, Field(min_length=1, description="The user's message")],
        session_id: Annotated[str | None, Field(description="Add this session's turns")] = None,
        namespace: Namespace = None,
        user_id: UserId = None,
        model_name: ModelName = None,
        context_window_max: Window = None,
        topics: Tag = None,
        entities: Tag = None,
        memory_type: Tag = None,
        search_mode: SearchMode = "hybrid",
        distance_threshold: Distance = None,
        limit: Limit = 10,
        offset: Offset = 0,
        include_long_term_search: bool = True,
    ) -> MemoryPromptOut:
        """Messages ready to send to a model: the session's summary and recent turns (with
        session_id), the relevant long-term memories, then the query itself."""
        if session_id is None and not include_long_term_search:
            raise InvalidRequestError("give a session_id, or leave include_long_term_search on")
        check_text(query, self._services.settings.limits, "query")
        session = None
        if session_id is not None:
            window = context_window(model_name, context_window_max)
            session = SessionRef(session_id, namespace, user_id, window)
        search = None
        if include_long_term_search:
            body = SearchRequestIn(
                text=query, namespace=_tag(namespace), user_id=_tag(user_id),
                session_id=TagFilter(ne=session_id) if session_id else None,
                topics=_tag(topics), entities=_tag(entities), memory_type=_tag(memory_type),
                search_mode=search_mode, distance_threshold=distance_threshold,
                limit=limit, offset=offset,
            )  # fmt: skip
            search = self._search_query(body)
        who = await self._resolve(ctx)
        result = await self._services.prompt.build(who, query, session, search)
        memories = [result_of(m, explain=False) for m in result.long_term_memories]
        return MemoryPromptOut(
            messages=list(result.messages), long_term_memories=memories if search else None
        )

    @tool_errors
    async def get_working_memory(
        self,
        ctx: Context,
        session_id: str,
        namespace: Namespace = None,
        user_id: UserId = None,
        recent_messages_limit: Annotated[int | None, Field(gt=0)] = None,
        model_name: ModelName = None,
        context_window_max: Window = None,
    ) -> WorkingMemoryOut:
        """A session's working memory: its messages, running summary (context), structured
        memories and data."""
        who = await self._resolve(ctx)
        session = await self._services.sessions.get(who, session_id, namespace, user_id)
        if recent_messages_limit:
            session.messages = session.messages[-recent_messages_limit:]
        return working_memory_out(session, context_window(model_name, context_window_max))

    @tool_errors
    async def set_working_memory(
        self,
        ctx: Context,
        session_id: str,
        messages: list[MessageIn] | None = None,
        memories: list[MemoryRecordIn] | None = None,
        context: Annotated[str | None, Field(description="A running summary")] = None,
        data: dict[str, JsonValue] | None = None,
        namespace: Namespace = None,
        user_id: UserId = None,
        ttl_seconds: Annotated[int | None, Field(gt=0)] = None,
        model_name: ModelName = None,
        context_window_max: Window = None,
    ) -> WorkingMemoryOut:
        """Replace a session's working memory (creating the session): messages
        ({role, content}), context, data, and structured memories, which are also stored as
        long-term memories at once. What you leave out is cleared, so send the whole state;
        long sessions are summarised into `context` automatically."""
        limits = self._services.settings.limits
        messages, memories = messages or [], memories or []
        check_count(len(messages), limits.max_messages_per_request, "messages")
        for message in messages:
            check_text(message.content, limits, "message content")
        drafts = [draft_of(m, limits) for m in memories]
        update = WorkingMemoryUpdate(
            messages=[
                MessageDraft(m.role, m.content, m.id, m.created_at, m.metadata or {})
                for m in messages
            ],
            memories=[m.model_dump(mode="json", exclude_none=True) for m in memories],
            context=context, data=data, user_id=user_id, namespace=namespace,
            ttl_seconds=ttl_seconds,
        )  # fmt: skip
        window = context_window(model_name, context_window_max)
        who = await self._resolve(ctx)
        session = await self._services.sessions.put(who, session_id, update, window)
        for draft in drafts:  # structured memories become long-term memories straight away
            draft.session_id = draft.session_id or session_id
            draft.user_id = draft.user_id or session.user_id
            draft.namespace = draft.namespace or session.namespace
        if drafts:
            await self._services.memories.create(who, drafts)
        return working_memory_out(session, window)

    def _search_query(self, body: SearchRequestIn) -> SearchQuery:
        settings = self._services.settings
        return search_query(body, settings.limits, settings.retrieval)
