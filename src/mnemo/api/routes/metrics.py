"""GET /metrics: Prometheus exposition of the app's metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from mnemo.api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=True, response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    """Scraped by Prometheus; like /health it needs no key (keep it off public networks)."""
    await services.metrics.refresh(services)
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
