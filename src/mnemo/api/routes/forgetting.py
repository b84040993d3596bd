"""POST /v1/long-term-memory/forget and /compact (seed 001): forgetting policies, compaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from mnemo.api.convert import check_count
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import AckOut
from mnemo.services.forgetting import ForgetScope
from mnemo.services.forgetting_policy import ForgetPolicy

router = APIRouter(prefix="/v1/long-term-memory", tags=["native"])
Opt = Annotated[str | None, Query()]


class ForgetPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age_days: float | None = Field(None, gt=0)
    max_inactive_days: float | None = Field(None, gt=0)
    budget: int | None = Field(None, ge=0)
    memory_type_allowlist: list[str] | None = None
    hard_age_multiplier: float = Field(12.0, ge=1)


class ForgetIn(BaseModel):
    """Seed 001 documents the scope in the body; its client sends it as query parameters."""

    model_config = ConfigDict(extra="forbid")

    policy: ForgetPolicyIn = Field(default_factory=ForgetPolicyIn)
    namespace: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    limit: int | None = Field(None, ge=1, le=10_000)
    dry_run: bool | None = None
    pinned_ids: list[str] | None = None


class ForgetOut(BaseModel):
    scanned: int
    deleted: int
    deleted_ids: list[str]
    dry_run: bool


@router.post("/forget", response_model=ForgetOut)
async def forget(
    body: ForgetIn,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: Opt = None,
    user_id: Opt = None,
    session_id: Opt = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    dry_run: bool = True,
    pinned_ids: Annotated[list[str] | None, Query()] = None,
) -> ForgetOut:
    """Dry run by default: the answer lists exactly what a real run would delete."""
    limits = services.settings.limits
    pinned = [*(body.pinned_ids or []), *(pinned_ids or [])]
    check_count(len(pinned), limits.max_ids_per_request, "pinned ids")
    p = body.policy
    check_count(len(p.memory_type_allowlist or []), limits.max_filter_clauses, "memory types")
    policy = ForgetPolicy(
        p.max_age_days, p.max_inactive_days, p.budget,
        tuple(p.memory_type_allowlist) if p.memory_type_allowlist else None, p.hard_age_multiplier,
    )  # fmt: skip
    scope = ForgetScope(
        body.namespace or namespace, body.user_id or user_id, body.session_id or session_id,
        body.limit or limit,
    )  # fmt: skip
    is_dry = dry_run if body.dry_run is None else body.dry_run
    result = await services.forgetting.forget(who, policy, scope, is_dry, pinned)
    return ForgetOut(**vars(result))


@router.post("/compact", response_model=AckOut)
async def compact(
    who: PrincipalDep, services: ServicesDep, namespace: Opt = None, user_id: Opt = None
) -> AckOut:
    """Merge near-duplicate memories (the merged ones stay, superseded, with a MERGE event)."""
    merged, remaining = await services.forgetting.compact(who, ForgetScope(namespace, user_id))
    return AckOut(status=f"ok, merged {merged} memories, {remaining} memories remaining")
