"""Build the MCP server from mnemo's services and a principal resolver; serve it on stdio."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from mcp.server.mcpserver import Context, MCPServer

from mnemo import __version__
from mnemo.config import DEV_API_KEY, Settings
from mnemo.embedders.base import Embedder
from mnemo.errors import UnauthorizedError
from mnemo.mcp.tools import MemoryTools, PrincipalResolver
from mnemo.models import Principal
from mnemo.wiring import Services, build_services

INSTRUCTIONS = (
    "mnemo is the user's long-term memory. Before answering questions about the user, their "
    "preferences or past conversations, search it (search_long_term_memory or memory_prompt). "
    "Store durable facts with create_long_term_memories, written as self-contained sentences; "
    "call get_current_datetime first to turn relative dates into absolute ones."
)

T = TypeVar("T")


def build_server(services: Services, resolve: PrincipalResolver) -> MCPServer:
    """An MCP server whose tools call the services directly, as `resolve`'s principal."""
    server = _keeping_root_logging(
        lambda: MCPServer(
            name="mnemo", title="mnemo memory", version=__version__, instructions=INSTRUCTIONS
        )
    )
    for tool in MemoryTools(services, resolve).all():
        server.add_tool(tool)
    return server


def fixed_principal(principal: Principal) -> PrincipalResolver:
    """For stdio: one process, one user, one key checked at start."""

    async def resolve(_ctx: Context) -> Principal:
        return principal

    return resolve


def stdio_api_key(settings: Settings, given: str | None) -> str:
    """The key `mnemo mcp` acts with: the one given, else the development key where it works
    (no API_KEY configured, loopback host): a stdio pipe is as local as loopback gets."""
    if given:
        return given
    if settings.dev_key_enabled:
        return DEV_API_KEY
    raise UnauthorizedError(
        "mnemo mcp needs an API key: set MNEMO_MCP_API_KEY (or pass --api-key); the "
        "development key is off because API_KEY is set or HOST is not loopback"
    )


async def serve_stdio(
    settings: Settings, api_key: str | None, embedder: Embedder | None = None
) -> None:
    """Open the services as the app's lifespan does, check the key, serve until stdin ends."""
    key = stdio_api_key(settings, api_key)
    services = build_services(settings, embedder)
    await services.start()
    try:
        principal = await services.authenticator.authenticate(key)
        await build_server(services, fixed_principal(principal)).run_stdio_async()
    finally:
        await services.stop()


def _keeping_root_logging(build: Callable[[], T]) -> T:
    """MCPServer() calls logging.basicConfig, which would install its own root handler before
    the app configures logging (and make that configuration a no-op): undo it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return build()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
