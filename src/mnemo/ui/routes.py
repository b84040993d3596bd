"""The memory browser's router: login and logout here, the pages in their own modules."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from mnemo.api.deps import ServicesDep
from mnemo.auth.access import require
from mnemo.auth.keys import hash_key
from mnemo.errors import MnemoError
from mnemo.models import Scope
from mnemo.ui import memory_pages, session_pages
from mnemo.ui.auth import (
    LOGIN_COOKIE,
    UI_PREFIX,
    WriterDep,
    clear_login_cookie,
    clear_session_cookie,
    set_login_cookie,
    set_session_cookie,
    signer_of,
)
from mnemo.ui.rendering import UiRoute, render
from mnemo.ui.tokens import SESSION_TTL_S, new_nonce

router = APIRouter(prefix=UI_PREFIX, include_in_schema=False, route_class=UiRoute)


@router.get("")
async def home() -> Response:
    return RedirectResponse(f"{UI_PREFIX}/memories", status_code=303)


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, services: ServicesDep) -> Response:
    """Check the key with the Authenticator, then hand the browser a signed session cookie
    that holds the key's sha256, never the key."""
    form = await request.form()
    api_key, csrf = form.get("api_key"), form.get("csrf")
    signer = signer_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not signer.check_login_form(nonce, csrf if isinstance(csrf, str) else None):
        return _login_page(request, "The login form expired; please try again.", 400)
    key = api_key.strip() if isinstance(api_key, str) else ""
    try:
        principal = await services.authenticator.authenticate(key)
        require(principal, Scope.READ)
    except MnemoError:
        return _login_page(request, "That API key was not accepted.", 401)
    token, _ = signer.issue(hash_key(key))
    response = RedirectResponse(f"{UI_PREFIX}/memories", status_code=303)
    clear_login_cookie(response)
    set_session_cookie(request, response, token, SESSION_TTL_S)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: WriterDep) -> Response:
    signer_of(request).revoke(viewer.session)
    response = RedirectResponse(f"{UI_PREFIX}/login", status_code=303)
    clear_session_cookie(response)
    return response


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = new_nonce()
    csrf = signer_of(request).login_form_token(nonce)
    response = render(request, "login.html", {"csrf": csrf, "error": error}, status)
    set_login_cookie(request, response, nonce)
    return response


router.include_router(memory_pages.router)
router.include_router(session_pages.router)
