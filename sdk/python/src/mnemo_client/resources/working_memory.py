"""client.working_memory: a session's turns, context and data; listing the sessions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from pydantic import JsonValue

from mnemo_client._endpoints import R, Resource, endpoint, paginated
from mnemo_client._wire import Call, segment
from mnemo_client.errors import SessionNotFoundError
from mnemo_client.models import Ack, Message, SessionList, WorkingMemory
from mnemo_client.resources.memories import MemoryInput, memory_body

PATH = "/v1/working-memory"
MessageInput: TypeAlias = Message | Mapping[str, object]


def message_body(message: MessageInput) -> dict[str, JsonValue]:
    model = message if isinstance(message, Message) else Message.model_validate(message)
    return model.model_dump(
        mode="json", exclude_none=True, exclude={"persisted_at", "discrete_memory_extracted"}
    )


class WorkingMemoryResource(Resource[R]):
    """Working memory: what a session holds now. Every turn put here becomes searchable, and
    new turns are extracted into long-term memories in the background."""

    @endpoint
    def get(
        self,
        session_id: str,
        *,
        namespace: str | None = None,
        user_id: str | None = None,
        model_name: str | None = None,
        context_window_max: int | None = None,
        recent_messages_limit: int | None = None,
    ) -> Call[WorkingMemory]:
        params = {
            "namespace": namespace, "user_id": user_id, "model_name": model_name,
            "context_window_max": context_window_max,
            "recent_messages_limit": recent_messages_limit,
        }  # fmt: skip
        return Call(
            "GET",
            f"{PATH}/{segment(session_id)}",
            WorkingMemory.model_validate,
            params=params,
            not_found=SessionNotFoundError,
        )

    @endpoint
    def put(
        self,
        session_id: str,
        *,
        messages: Sequence[MessageInput] = (),
        memories: Sequence[MemoryInput] = (),
        context: str | None = None,
        data: Mapping[str, JsonValue] | None = None,
        user_id: str | None = None,
        namespace: str | None = None,
        ttl_seconds: int | None = None,
        model_name: str | None = None,
        context_window_max: int | None = None,
        wait: bool = False,
    ) -> Call[WorkingMemory]:
        """Replace the session's working memory (send every turn to keep; known ids stay).

        `wait=True` extracts the new turns before answering; otherwise the answer's
        `extraction_task_id` names the background task (see `client.tasks.wait`).
        """
        body = {
            "messages": [message_body(m) for m in messages],
            "memories": [memory_body(m) for m in memories],
            "context": context, "data": data, "user_id": user_id, "namespace": namespace,
            "ttl_seconds": ttl_seconds,
        }  # fmt: skip
        params = {
            "model_name": model_name, "context_window_max": context_window_max,
            "wait": True if wait else None,
        }  # fmt: skip
        return Call(
            "PUT",
            f"{PATH}/{segment(session_id)}",
            WorkingMemory.model_validate,
            params=params,
            json={k: v for k, v in body.items() if v is not None},
            not_found=SessionNotFoundError,
        )

    @endpoint
    def delete(self, session_id: str, *, namespace: str | None = None) -> Call[Ack]:
        return Call(
            "DELETE",
            f"{PATH}/{segment(session_id)}",
            Ack.model_validate,
            params={"namespace": namespace},
            not_found=SessionNotFoundError,
        )

    @endpoint
    def list(
        self,
        *,
        user_id: str | None = None,
        namespace: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Call[SessionList]:
        """One page of session ids (`iter_sessions` walks them all)."""
        params = {"user_id": user_id, "namespace": namespace, "limit": limit, "offset": offset}
        return Call("GET", f"{PATH}/", SessionList.model_validate, params=params)

    iter_sessions = paginated(list, page_size=100)
