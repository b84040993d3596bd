"""Counts inside a key's binding: sessions, memories by type, messages, patterns."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import MemoryType, Principal
from mnemo.services.memories import MemoryService
from mnemo.services.patterns import PatternService
from mnemo.services.working_memory import WorkingMemoryService


@dataclass(frozen=True)
class Stats:
    namespace: str | None
    user_id: str | None
    sessions: int
    memories_by_type: dict[str, int]
    patterns: int

    @property
    def memories(self) -> int:
        return sum(self.memories_by_type.values())


class StatsService:
    def __init__(
        self,
        memories: MemoryService,
        sessions: WorkingMemoryService,
        patterns: PatternService,
    ) -> None:
        self._memories = memories
        self._sessions = sessions
        self._patterns = patterns

    async def counts(
        self, who: Principal, namespace: str | None = None, user_id: str | None = None
    ) -> Stats:
        """Active memories only; None namespace means every namespace the key may see."""
        by_type: dict[str, int] = {}
        for kind in MemoryType:
            only = MemoryFilter(
                namespace=TagFilter(eq=namespace) if namespace else None,
                user_id=TagFilter(eq=user_id) if user_id else None,
                memory_type=TagFilter(eq=kind.value),
            )
            by_type[kind.value] = (await self._memories.list_memories(who, only, 1, 0)).total
        sessions = await self._sessions.list_sessions(who, namespace, user_id, 1, 0)
        patterns = await self._patterns.list_patterns(who, namespace, user_id, 1, 0)
        return Stats(namespace, user_id, sessions.total, by_type, patterns.total)
