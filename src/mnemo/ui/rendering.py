"""Render the UI's Jinja2 templates, its error pages and its security headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from mnemo.errors import MnemoError, RateLimitedError
from mnemo.ui import formatting
from mnemo.ui.auth import SESSION_COOKIE, UI_PREFIX, LoginRequiredError, check_host

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


templates = Jinja2Templates(directory=TEMPLATES_DIR)
formatting.register(templates.env)


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
    """A full error page; for htmx, a notice swapped into the page's #flash area."""
    if isinstance(exc, LoginRequiredError):
        return redirect(request, f"{UI_PREFIX}/login")
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else {}
    if is_htmx(request):
        headers |= {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    name = "_error.html" if is_htmx(request) else "error.html"
    # The tabs only link to other pages: showing them to a browser with a cookie costs nothing.
    context = {
        "status": exc.status, "message": exc.message,
        "show_tabs": SESSION_COOKIE in request.cookies,
    }  # fmt: skip
    response = render(request, name, context, exc.status)
    response.headers.update(headers)
    return response


def is_partial(request: Request, target: str) -> bool:
    """An htmx request that replaces only the element with this id (not a history restore)."""
    return (
        is_htmx(request)
        and request.headers.get("HX-Target") == target
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


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
