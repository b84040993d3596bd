"""GET /v1/health: liveness with the server time in milliseconds (seed 001)."""

from __future__ import annotations

import time

from fastapi import APIRouter

from mnemo.api.schemas import HealthOut

router = APIRouter(tags=["native"])


@router.get("/v1/health", response_model=HealthOut)
async def health() -> HealthOut:
    return HealthOut(now=int(time.time() * 1000))
