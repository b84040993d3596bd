"""Streamable HTTP at /mcp: the MCP server behind the REST API's API-key check."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

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
        settings = services.settings
        self._server = build_server(services, principal_of_request)
        starlette_app = self._server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=settings.limits.max_body_bytes,
            transport_security=transport_security(settings),
        )
        self._asgi = ApiKeyGate(starlette_app, services)

    def install(self, app: FastAPI) -> None:
        # A route, not a Mount: a Mount at /mcp would answer /mcp itself with a redirect.
        app.router.routes.append(Route(MCP_PATH, endpoint=self._asgi, include_in_schema=False))

    def running(self) -> AbstractAsyncContextManager[None]:
        """The session manager's task group; enter it inside the app's lifespan."""
        return self._server.session_manager.run()
