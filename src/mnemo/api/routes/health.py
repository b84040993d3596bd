"""Health: seed 001's GET /v1/health, and GET /health with the union of seeds 000, 002, 004."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mnemo.api.deps import ServicesDep
from mnemo.api.schemas import HealthOut
from mnemo.errors import StoreUnavailableError
from mnemo.models import utcnow

router = APIRouter()


class ServiceHealthOut(BaseModel):
    """GET /health: every field any seed documents (000: status, timestamp, database;
    004: status, sdk_initialized, service)."""

    status: str
    timestamp: str
    database: str
    sdk_initialized: bool
    service: str


@router.get("/v1/health", response_model=HealthOut, tags=["native"])
async def health() -> HealthOut:
    return HealthOut(now=int(time.time() * 1000))


@router.get(
    "/health",
    response_model=ServiceHealthOut,
    tags=["seed 000", "seed 002", "seed 004"],
    responses={503: {"model": ServiceHealthOut}},
)
async def service_health(services: ServicesDep) -> JSONResponse:
    """No key needed; 503 while the database does not answer."""
    try:
        await services.store.ping()
        healthy = True
    except StoreUnavailableError:
        healthy = False
    body = ServiceHealthOut(
        status="healthy" if healthy else "unhealthy",
        timestamp=utcnow().isoformat().replace("+00:00", "Z"),
        database="connected" if healthy else "disconnected",
        sdk_initialized=True,
        service="mnemo",
    )
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
