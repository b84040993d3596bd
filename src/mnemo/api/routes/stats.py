"""GET /v1/stats: counts per namespace (sessions, memories by type, messages, patterns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.auth.access import require, resolve_user
from mnemo.models import MemoryType, Scope

router = APIRouter(tags=["native"])


class StatsOut(BaseModel):
    namespace: str | None
    user_id: str | None
    sessions: int
    memories: int
    messages: int
    memories_by_type: dict[str, int]
    patterns: int


@router.get("/v1/stats", response_model=StatsOut)
async def stats(
    who: PrincipalDep,
    services: ServicesDep,
    namespace: Annotated[str | None, Query()] = None,
    user_id: Annotated[str | None, Query()] = None,
) -> StatsOut:
    """The key's own namespace when it is bound to one; any (or all) for an operator key."""
    require(who, Scope.READ)
    ns = namespace if namespace is not None else who.namespace  # another one: 403 below
    found = await services.stats.counts(who, ns, resolve_user(who, user_id))
    return StatsOut(
        namespace=found.namespace,
        user_id=found.user_id,
        sessions=found.sessions,
        memories=found.memories,
        messages=found.memories_by_type[MemoryType.MESSAGE.value],
        memories_by_type=found.memories_by_type,
        patterns=found.patterns,
    )
