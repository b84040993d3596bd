"""client.sessions: what an agent asks of a conversation: chat, summaries, a memory prompt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import JsonValue

from mnemo_client._endpoints import R, Resource, endpoint
from mnemo_client._wire import Call
from mnemo_client.errors import SessionNotFoundError
from mnemo_client.models import ChatReply, MemoryPrompt, Summary
from mnemo_client.resources.working_memory import MessageInput, message_body


class SessionsResource(Resource[R]):
    """Conversation-level operations; a session's stored turns live in `working_memory`."""

    @endpoint
    def chat(
        self,
        session_id: str,
        message: str,
        *,
        user_id: str | None = None,
        namespace: str | None = None,
    ) -> Call[ChatReply]:
        """Add a user turn, answer it from the relevant memories, and keep both turns."""
        body = {
            "session_id": session_id, "message": message, "user_id": user_id,
            "namespace": namespace,
        }  # fmt: skip
        return Call("POST", "/v1/chat", ChatReply.model_validate, json=body)

    @endpoint
    def summarize(
        self,
        session_id: str | None = None,
        *,
        messages: Sequence[MessageInput] | str | None = None,
        namespace: str | None = None,
        max_sentences: int = 6,
    ) -> Call[Summary]:
        """Summarise a stored session, or the given messages (or text) without storing them."""
        given: JsonValue = None
        if isinstance(messages, str):
            given = messages
        elif messages is not None:
            given = [message_body(m) for m in messages]
        body = {
            "session_id": session_id, "namespace": namespace, "messages": given,
            "max_sentences": max_sentences,
        }  # fmt: skip
        return Call(
            "POST",
            "/v1/summaries",
            Summary.model_validate,
            json={k: v for k, v in body.items() if v is not None},
            not_found=SessionNotFoundError,
        )

    @endpoint
    def prompt(
        self,
        query: str,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        namespace: str | None = None,
        model_name: str | None = None,
        context_window_max: int | None = None,
        long_term_search: bool | Mapping[str, JsonValue] = True,
    ) -> Call[MemoryPrompt]:
        """Messages for an LLM: the session's context and turns plus the relevant memories.

        `long_term_search` is True (search with `query`, scoped to the session's user), False
        (no long-term memories), or a search request as the server reads it.
        """
        body: dict[str, JsonValue] = {"query": query}
        if session_id is not None:
            session = {
                "session_id": session_id, "user_id": user_id, "namespace": namespace,
                "model_name": model_name, "context_window_max": context_window_max,
            }  # fmt: skip
            body["session"] = {k: v for k, v in session.items() if v is not None}
        body["long_term_search"] = (
            long_term_search if isinstance(long_term_search, bool) else dict(long_term_search)
        )
        return Call(
            "POST", "/v1/memory/prompt", MemoryPrompt.model_validate, json=body,
            not_found=SessionNotFoundError,
        )  # fmt: skip
