"""Durable memory writes (seed 004): add-memory runs extraction, agent-memory stores a note."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import JsonValue

from mnemo.auth.access import require
from mnemo.jobs.queue import JsonObject, Task, TaskQueue
from mnemo.jobs.registry import PermanentTaskError, TaskContext
from mnemo.models import MemoryType, Message, Principal, Scope, new_id
from mnemo.services.background import announce_extraction, report_summary
from mnemo.services.consolidation import Owner
from mnemo.services.events import EventSink
from mnemo.services.extraction import ExtractionReport, ExtractionService
from mnemo.services.memories import MemoryDraft, MemoryService
from mnemo.services.summarizers import Summarizer

ADD_MEMORY_TASK = "seed004.add_memory"
AGENT_MEMORY_TASK = "seed004.agent_memory"
MESSAGE_SOURCE = "seed004.add_memory"  # metadata.source of the turns an add indexes
AGENT_SOURCE = "seed004.agent_memory"  # metadata.source of an agent's note


class MemoryTasks:
    """Submits the two write pipelines as durable tasks and runs them as their handlers.

    Add-memory ("full pipeline"): every turn is indexed as a `message` memory (so even turns
    without a fact are found by search), then the extractor turns the turns into facts and the
    consolidator adds, merges or supersedes them. Agent-memory ("fast pipeline"): one summary
    of the messages is stored as one episodic memory, with no extraction or consolidation.
    Both are idempotent under retries: ids are fixed at submission, so a rerun overwrites the
    same memories, and extraction merges facts it already holds.
    """

    def __init__(
        self,
        queue: TaskQueue,
        memories: MemoryService,
        extraction: ExtractionService,
        summarizer: Summarizer,
        events: EventSink,
    ) -> None:
        self._queue = queue
        self._memories = memories
        self._extraction = extraction
        self._summarizer = summarizer
        self._events = events

    async def submit_add(
        self,
        who: Principal,
        owner: Owner,
        messages: Sequence[Message],
        *,
        idempotency_key: str | None = None,
    ) -> Task:
        require(who, Scope.WRITE)
        payload: JsonObject = {
            **_owner_payload(owner),
            "messages": [_message_payload(m) for m in messages],
        }
        return await self._queue.enqueue(
            ADD_MEMORY_TASK, payload, namespace=owner.namespace, idempotency_key=idempotency_key
        )

    async def submit_agent(self, who: Principal, owner: Owner, lines: Sequence[str]) -> Task:
        require(who, Scope.WRITE)
        payload: JsonObject = {**_owner_payload(owner), "memory_id": new_id(), "lines": [*lines]}
        return await self._queue.enqueue(AGENT_MEMORY_TASK, payload, namespace=owner.namespace)

    async def add_memory(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        owner = _owner(payload)
        messages = [_message(m) for m in _list(payload["messages"])]
        drafts = [_turn(owner, m) for m in messages]
        await self._memories.create(_acting_for(owner, context), drafts, deduplicate=False)
        try:
            report = await self._extraction.extract_messages(owner, messages)
        except Exception as exc:
            if context.is_last_attempt:
                await self._events.emit(owner.namespace, "extraction.failed", {
                    "session_id": owner.session_id, "error": str(exc), "task_id": context.task.id,
                })  # fmt: skip
            raise
        await self._announce(owner, report, context.task.id)
        return {**report_summary(report), "indexed": [m.id for m in messages]}

    async def agent_memory(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        owner = _owner(payload)
        lines = [str(line) for line in _list(payload["lines"])]
        summary = await self._summarizer.summarize(lines)
        draft = MemoryDraft(
            text=summary.text.strip() or "\n".join(lines),
            id=str(payload["memory_id"]),
            namespace=owner.namespace,
            user_id=owner.user_id,
            session_id=owner.session_id,
            memory_type=MemoryType.EPISODIC,
            metadata={"source": AGENT_SOURCE, "message_count": len(lines)},
        )
        outcome = await self._memories.create(_acting_for(owner, context), [draft])
        return {  # an exact repeat of a note the user already has is not stored twice
            "memory_id": draft.id if outcome.created else None,
            "duplicate": bool(outcome.merged),
            "usage": dict(summary.usage.as_dict()),
        }

    async def _announce(self, owner: Owner, report: ExtractionReport, task_id: str) -> None:
        extra: dict[str, JsonValue] = {"session_id": owner.session_id, "task_id": task_id}
        await announce_extraction(self._events, owner.namespace, report, extra)


def _acting_for(owner: Owner, context: TaskContext) -> Principal:
    """The task writes for the owner it was submitted for (the submitter's key was checked)."""
    return Principal(
        key_id=f"task:{context.task.id}",
        namespace=owner.namespace,
        user_id=owner.user_id,
        scopes=frozenset({Scope.READ, Scope.WRITE}),
    )


def _turn(owner: Owner, message: Message) -> MemoryDraft:
    """A turn as a `message` memory that points back at itself, like a session's turns."""
    return MemoryDraft(
        text=message.content,
        id=message.id,
        namespace=owner.namespace,
        user_id=owner.user_id,
        session_id=owner.session_id,
        memory_type=MemoryType.MESSAGE,
        metadata={"role": message.role, "source": MESSAGE_SOURCE},
        created_at=message.created_at,
        extracted_from=[message.id],
    )


def _owner_payload(owner: Owner) -> JsonObject:
    return {
        "namespace": owner.namespace,
        "user_id": owner.user_id,
        "session_id": owner.session_id,
    }


def _owner(payload: JsonObject) -> Owner:
    user_id, session_id = payload.get("user_id"), payload.get("session_id")
    return Owner(
        namespace=str(payload["namespace"]),
        user_id=None if user_id is None else str(user_id),
        session_id=None if session_id is None else str(session_id),
    )


def _message_payload(message: Message) -> JsonObject:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat(),
    }


def _message(item: JsonValue) -> Message:
    if not isinstance(item, dict):
        raise PermanentTaskError(f"a message in the task payload is not an object: {item!r}")
    return Message(
        id=str(item["id"]),
        role=str(item["role"]),
        content=str(item["content"]),
        created_at=datetime.fromisoformat(str(item["created_at"])),
    )


def _list(value: JsonValue) -> list[JsonValue]:
    if not isinstance(value, list):
        raise PermanentTaskError(f"expected a list in the task payload, got {type(value).__name__}")
    return value
