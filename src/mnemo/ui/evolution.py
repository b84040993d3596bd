"""A memory's evolution chain: the memories it superseded and those that superseded it."""

from __future__ import annotations

from mnemo.errors import MemoryNotFoundError
from mnemo.models import Memory, Principal
from mnemo.wiring import Services

MAX_LINKS = 25  # a guard against a corrupt, endless chain


async def evolution_chain(services: Services, who: Principal, memory: Memory) -> list[Memory]:
    """Oldest first, the given memory included; links the caller may not see end the chain."""
    older = await _follow(services, who, memory, backwards=True)
    newer = await _follow(services, who, memory, backwards=False)
    return [*reversed(older), memory, *newer]


async def _follow(
    services: Services, who: Principal, start: Memory, *, backwards: bool
) -> list[Memory]:
    seen = {start.id}
    found: list[Memory] = []
    current = start
    while len(found) < MAX_LINKS:
        next_id = current.supersedes if backwards else current.superseded_by
        if next_id is None or next_id in seen:
            break
        try:
            current = await services.memories.get(who, next_id, _namespace(who, start))
        except MemoryNotFoundError:  # deleted since, or outside the caller's binding
            break
        seen.add(current.id)
        found.append(current)
    return found


def _namespace(who: Principal, memory: Memory) -> str | None:
    return memory.namespace if who.namespace is None else None
