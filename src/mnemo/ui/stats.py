"""Counts for the stats page: memories by type, superseded memories, sessions."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import MemoryType, Principal
from mnemo.wiring import Services


@dataclass(frozen=True)
class Stats:
    by_type: dict[str, int]
    superseded: int
    sessions: int

    @property
    def active(self) -> int:
        return sum(self.by_type.values())


async def gather_stats(services: Services, who: Principal, namespace: str | None) -> Stats:
    """Active memories of each type, inside the caller's binding (and one namespace, if
    given), plus the superseded ones and the sessions."""
    scope = TagFilter(eq=namespace) if namespace else None
    by_type: dict[str, int] = {}
    for kind in MemoryType:
        only = MemoryFilter(namespace=scope, memory_type=TagFilter(eq=kind.value))
        by_type[kind.value] = (await services.memories.list_memories(who, only, 1, 0)).total
    everything = MemoryFilter(namespace=scope, include_superseded=True)
    with_superseded = (await services.memories.list_memories(who, everything, 1, 0)).total
    sessions = await services.sessions.list_sessions(who, namespace, None, 1, 0)
    return Stats(by_type, max(0, with_superseded - sum(by_type.values())), sessions.total)
