"""Render the UI's Jinja2 templates, its error pages and its security headers."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from mnemo.errors import MnemoError, RateLimitedError
from mnemo.ui.auth import UI_PREFIX, LoginRequiredError, check_host

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Pages load only this server's script and stylesheet: no inline script, no other origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _as_json(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters["when"] = _when
templates.env.filters["as_json"] = _as_json


def render(
    request: Request, name: str, context: Mapping[str, object], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, dict(context), status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(request: Request, url: str) -> Response:
    """After a POST: htmx follows HX-Redirect, a plain form follows 303 See Other."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, exc: MnemoError) -> Response:
    if isinstance(exc, LoginRequiredError):
        return redirect(request, f"{UI_PREFIX}/login")
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else {}
    response = render(
        request, "error.html", {"status": exc.status, "message": exc.message}, exc.status
    )
    response.headers.update(headers)
    return response


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class UiRoute(APIRoute):
    """A UI route: domain errors become HTML pages (or a trip to the login page) instead of
    the API's JSON bodies, and every answer carries the security headers."""

    def get_route_handler(self) -> Endpoint:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                check_host(request, request.app.state.services.settings)
                response = await handler(request)
            except MnemoError as exc:
                response = error_page(request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handle
