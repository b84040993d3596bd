"""create_app(settings): the FastAPI application with every router, built from Settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from mnemo import __version__
from mnemo.api.body_limit import BodyLimitMiddleware
from mnemo.api.dialects import DIALECTS
from mnemo.api.errors import ErrorRenderers, install_error_handlers
from mnemo.api.middleware import RequestContextMiddleware
from mnemo.api.routes import (
    forgetting,
    health,
    intelligence,
    long_term,
    prompt,
    stats,
    tasks,
    webhooks,
    working_memory,
)
from mnemo.api.routes import metrics as metrics_routes
from mnemo.config import Settings
from mnemo.embedders.base import Embedder
from mnemo.heap import settle_heap
from mnemo.mcp.http import McpHttp
from mnemo.ui import install_ui
from mnemo.wiring import Services, build_services

OPENAPI_TAGS = [
    {"name": "native", "description": "Native API: seed 001 (Agent Memory Server) and more."},
    {"name": "seed 000", "description": "Semantic memory REST API: sessions, chat, search."},
    {"name": "seed 002", "description": "mem0-style memory API with the {success, data} envelope."},
    {"name": "seed 003", "description": "MemoryKit: conversations, patterns, webhooks."},
    {"name": "seed 004", "description": "OmniMemory: /api/v1 with 202 tasks, batcher, evolution."},
]


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """Build the app; the lifespan opens the store and starts background helpers."""
    settings = settings or Settings()
    services = build_services(settings, embedder)
    mcp_http = McpHttp(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        settle_heap()
        try:
            async with mcp_http.running():  # MCP sessions run inside the app lifespan
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
    renderers = ErrorRenderers()
    install_error_handlers(app, renderers)
    for dialect in DIALECTS:
        app.include_router(dialect.router)
        dialect.install(renderers)
    for module in (health, working_memory, intelligence, long_term, prompt):
        app.include_router(module.router)
    app.include_router(forgetting.router)
    app.include_router(stats.router)
    app.include_router(long_term.delete_router)
    app.include_router(tasks.router)
    app.include_router(webhooks.router)
    app.include_router(metrics_routes.router)
    mcp_http.install(app)
    install_ui(app)  # the memory browser at /ui
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    if settings.cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                            "X-RateLimit-Reset", "Retry-After"],
        )  # fmt: skip
    metrics = services.metrics if settings.observability.metrics_enabled else None
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services
