"""create_app(settings): the FastAPI application with every router, built from Settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mnemo import __version__
from mnemo.api.body_limit import BodyLimitMiddleware
from mnemo.api.errors import ErrorRenderers, install_error_handlers
from mnemo.api.routes import health, long_term, prompt, working_memory
from mnemo.config import Settings
from mnemo.embedders.base import Embedder
from mnemo.wiring import Services, build_services

OPENAPI_TAGS = [
    {
        "name": "native",
        "description": "mnemo's native API: seed 001 (Agent Memory Server) and more.",
    },
]


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """Build the app; the lifespan opens the store and starts background helpers."""
    settings = settings or Settings()
    services = build_services(settings, embedder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(
        title="mnemo",
        version=__version__,
        description="Long-term memory server for LLM agents.",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app, ErrorRenderers())
    for module in (health, working_memory, long_term, prompt):
        app.include_router(module.router)
    app.include_router(long_term.delete_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    return app


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services
