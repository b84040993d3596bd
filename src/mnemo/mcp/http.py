"""Streamable HTTP at /mcp: the MCP server behind the REST API's API-key check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mnemo.config import Settings
from mnemo.errors import MnemoError, RateLimitedError
from mnemo.mcp.server import build_server
from mnemo.models import Principal
from mnemo.wiring import Services

MCP_PATH = "/mcp"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
PRINCIPAL_STATE = "principal"  # request.state.principal, as the REST routes set it


class ApiKeyGate:
    """Authenticates every HTTP request to /mcp like the REST API does (X-API-Key or
    Authorization: Bearer; 401 missing, 403 unknown, 429 over the rate limit) and leaves the
    principal in the request state for the tools."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        try:
            principal = await self._services.authenticator.authenticate(_presented_key(scope))
            if self._services.rate_limiter is not None:
                state["rate_limit"] = await self._services.rate_limiter.hit(principal)
        except MnemoError as exc:
            headers = (
                {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
            )
            response = JSONResponse({"detail": exc.message}, exc.status, headers=headers)
            await response(scope, receive, send)
            return
        state[PRINCIPAL_STATE] = principal
        await self.app(scope, receive, send)


def _presented_key(scope: Scope) -> str | None:
    headers = Headers(scope=scope)
    if key := headers.get("x-api-key"):
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


async def principal_of_request(ctx: Context) -> Principal:
    """The principal ApiKeyGate found for the HTTP request carrying this tool call."""
    request = ctx.request_context.request
    if isinstance(request, Request):
        principal = request.scope.get("state", {}).get(PRINCIPAL_STATE)
        if isinstance(principal, Principal):
            return principal
    raise ToolError("UNAUTHORIZED: this request carries no authenticated API key")


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host and Origin checks while the well-known development key works, since a web page
    reached through DNS rebinding could present it; with real keys only, they would just
    break reverse proxies that forward their own Host."""
    if not settings.dev_key_enabled:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    bound = f"[{settings.host}]" if ":" in settings.host else settings.host
    hosts = list(dict.fromkeys([bound, *_LOOPBACK_NAMES]))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{host}:*" for host in hosts],
        allowed_origins=[f"{scheme}://{host}:*" for host in hosts for scheme in ("http", "https")],
    )


class McpHttp:
    """The MCP server for one app: stateless streamable HTTP with JSON answers, so any
    replica can serve any request, mounted at /mcp behind ApiKeyGate."""

    def __init__(self, services: Services) -> None:
        self._settings = services.settings
        self._server = build_server(services, principal_of_request)
        self._gate = ApiKeyGate(self._serve, services)
        self._transport: ASGIApp | None = None

    def install(self, app: FastAPI) -> None:
        # A route, not a Mount: a Mount at /mcp would answer /mcp itself with a redirect.
        app.router.routes.append(Route(MCP_PATH, endpoint=self._gate, include_in_schema=False))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve while the app's lifespan runs. The SDK's session manager runs only once, so
        each lifespan gets a fresh one and the app can be started again."""
        self._transport = self._server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=self._settings.limits.max_body_bytes,
            transport_security=transport_security(self._settings),
        )
        try:
            async with self._server.session_manager.run():
                yield
        finally:
            self._transport = None

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._transport is None:
            response = JSONResponse({"detail": "MCP is not running"}, status_code=503)
            await response(scope, receive, send)
            return
        await self._transport(scope, receive, send)
