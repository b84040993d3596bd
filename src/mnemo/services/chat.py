"""Chat: append the turn, recall what matters, answer with the LLM or, offline, by quoting."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.llms.base import LLM, ChatMessage
from mnemo.llms.usage import Usage
from mnemo.models import Message, Principal, Session, utcnow
from mnemo.retrieval.pipeline import ScoredMemory, SearchQuery
from mnemo.services.search import SearchService
from mnemo.services.working_memory import MessageDraft, WorkingMemoryService

SYSTEM_PROMPT = (
    "You are a helpful assistant with long-term memory. Use the memories below when they are "
    "relevant, say so when you do not know, and never invent memories."
)
SIMILARITY_FLOOR = 0.25  # offline answers quote memories at least this close in meaning


@dataclass(frozen=True)
class ChatResult:
    response: str
    session: Session
    memories: list[ScoredMemory]
    usage: Usage


class ChatService:
    def __init__(
        self, sessions: WorkingMemoryService, search: SearchService, llm: LLM | None
    ) -> None:
        self._sessions = sessions
        self._search = search
        self._llm = llm

    async def chat(
        self,
        who: Principal,
        message: str,
        session_id: str,
        user_id: str | None,
        namespace: str | None,
    ) -> ChatResult:
        now = utcnow()
        session = await self._sessions.append(
            who, session_id, namespace, user_id, [MessageDraft("user", message, created_at=now)]
        )
        memories = await self._recall(who, session, message)
        response, usage = await self._answer(session, memories, message, session.messages[-10:-1])
        session = await self._sessions.append(
            who, session_id, session.namespace, session.user_id,
            [MessageDraft("assistant", response, created_at=utcnow())],
        )  # fmt: skip
        return ChatResult(response, session, memories, usage)

    async def _recall(self, who: Principal, session: Session, message: str) -> list[ScoredMemory]:
        scope = MemoryFilter(
            namespace=TagFilter(eq=session.namespace),
            user_id=TagFilter(eq=session.user_id) if session.user_id else None,
        )
        result = await self._search.search(who, SearchQuery(text=message, filter=scope, limit=8))
        current_turns = {m.id for m in session.messages[-1:]}
        return [s for s in result.items if s.memory.id not in current_turns]

    async def answer(
        self, session: Session, memories: list[ScoredMemory], question: str
    ) -> tuple[str, Usage]:
        """Answer a question about a session from the given memories, without adding it to
        the session as a turn (seed 003's query is a read)."""
        return await self._answer(session, memories, question, session.messages[-9:])

    async def _answer(
        self, session: Session, memories: list[ScoredMemory], message: str, history: list[Message]
    ) -> tuple[str, Usage]:
        if self._llm is None:
            return grounded_answer(memories), Usage()
        prompt: list[ChatMessage] = [{"role": "system", "content": SYSTEM_PROMPT}]
        if session.context:
            prompt.append({"role": "system", "content": f"Conversation so far: {session.context}"})
        lines = "\n".join(f"- {s.memory.text}" for s in memories) or "(none)"
        prompt.append({"role": "system", "content": f"Relevant memories:\n{lines}"})
        for turn in history:
            if turn.role == "assistant":
                prompt.append({"role": "assistant", "content": turn.content})
            else:
                prompt.append({"role": "user", "content": turn.content})
        prompt.append({"role": "user", "content": message})
        result = await self._llm.complete_text(prompt, purpose="chat")
        return result.value.strip(), result.usage


def grounded_answer(memories: list[ScoredMemory]) -> str:
    """An answer made only of what is remembered, each line quoting its memory and date."""
    relevant = [s for s in memories if (s.similarity or 0.0) >= SIMILARITY_FLOOR][:5]
    if not relevant:
        return "I don't have anything stored that relates to this yet."
    lines = [f'- "{s.memory.text}" ({s.memory.created_at.date().isoformat()})' for s in relevant]
    return "Here is what I remember that relates to this:\n" + "\n".join(lines)
