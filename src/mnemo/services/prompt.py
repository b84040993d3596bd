"""Memory prompt (seed 001): a query hydrated with working memory and long-term memories."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.errors import SessionNotFoundError
from mnemo.models import Principal, Session
from mnemo.retrieval.pipeline import ScoredMemory, SearchQuery
from mnemo.services.search import SearchService
from mnemo.services.tokens import TokenCounter
from mnemo.services.working_memory import WorkingMemoryService

PromptMessage = dict[str, str]
_MEMORY_HEADER = "## Long term memories related to the user's query"


@dataclass(frozen=True)
class SessionRef:
    session_id: str
    namespace: str | None = None
    user_id: str | None = None
    window_tokens: int | None = None


@dataclass(frozen=True)
class PromptResult:
    messages: list[PromptMessage]
    long_term_memories: list[ScoredMemory]


class PromptService:
    def __init__(
        self, sessions: WorkingMemoryService, search: SearchService, counter: TokenCounter
    ) -> None:
        self._sessions = sessions
        self._search = search
        self._counter = counter

    async def build(
        self, who: Principal, query: str, session: SessionRef | None, search: SearchQuery | None
    ) -> PromptResult:
        messages: list[PromptMessage] = []
        if session is not None:
            found = await self._find_session(who, session)
            if found is not None:
                messages += self._session_messages(found, session.window_tokens)
        memories: list[ScoredMemory] = []
        if search is not None:
            memories = (await self._search.search(who, search)).items
            messages.append({"role": "system", "content": _memory_block(memories)})
        messages.append({"role": "user", "content": query})
        return PromptResult(messages, memories)

    async def _find_session(self, who: Principal, ref: SessionRef) -> Session | None:
        try:
            return await self._sessions.get(who, ref.session_id, ref.namespace, ref.user_id)
        except SessionNotFoundError:
            return None

    def _session_messages(self, session: Session, window: int | None) -> list[PromptMessage]:
        out: list[PromptMessage] = []
        if session.context:
            out.append(
                {
                    "role": "system",
                    "content": f"## A summary of the conversation so far:\n{session.context}",
                }
            )
        turns = [
            {
                "role": m.role if m.role in {"user", "assistant", "system"} else "assistant",
                "content": m.content,
            }
            for m in session.messages
        ]
        if window:
            turns = _newest_within(turns, window, self._counter)
        return out + turns


def _newest_within(
    turns: list[PromptMessage], window: int, counter: TokenCounter
) -> list[PromptMessage]:
    kept: list[PromptMessage] = []
    used = 0
    for turn in reversed(turns):
        used += counter.message_tokens(turn["role"], turn["content"])
        if used > window and kept:
            break
        kept.append(turn)
    return list(reversed(kept))


def _memory_block(memories: list[ScoredMemory]) -> str:
    if not memories:
        return f"{_MEMORY_HEADER}\nNo relevant long-term memories found."
    lines = [f"- {s.memory.text} (ID: {s.memory.id})" for s in memories]
    return f"{_MEMORY_HEADER}\n" + "\n".join(lines)
