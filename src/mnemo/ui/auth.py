"""Who is browsing: the session cookie turned back into the key's Principal, and CSRF checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from mnemo.api.deps import ServicesDep
from mnemo.auth.keys import hash_key, same_secret
from mnemo.config import DEV_API_KEY, Settings
from mnemo.errors import ForbiddenError, MnemoError, UnauthorizedError
from mnemo.models import Principal
from mnemo.ui.tokens import LOGIN_FORM_TTL_S, BrowserSession, TokenSigner
from mnemo.wiring import Services

UI_PREFIX = "/ui"
SESSION_COOKIE = "mnemo_ui_session"
LOGIN_COOKIE = "mnemo_ui_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


class LoginRequiredError(UnauthorizedError):
    """No valid session: the browser is sent to the login page."""


@dataclass(frozen=True)
class Viewer:
    """The logged-in key, its browser session and the CSRF token its forms carry."""

    principal: Principal
    session: BrowserSession
    csrf: str


def signer_of(request: Request) -> TokenSigner:
    signer: TokenSigner = request.app.state.ui_signer
    return signer


async def principal_for_key_hash(services: Services, key_hash: str) -> Principal | None:
    """The Principal of the key whose sha256 a session holds, checked again on every request
    so that a revoked key, or a changed operator key, ends its browser sessions at once.

    Keys the server itself knows (API_KEY, the loopback-only dev key) go through the
    Authenticator; stored keys are looked up by hash, as the Authenticator does.
    """
    for known in _server_keys(services.settings):
        if same_secret(key_hash, hash_key(known)):
            try:
                return await services.authenticator.authenticate(known)
            except MnemoError:
                return None
    record = await services.store.find_api_key(key_hash)
    if record is None or record.revoked_at is not None:
        return None
    return Principal(
        key_id=record.id,
        namespace=record.namespace,
        user_id=record.user_id,
        scopes=frozenset(record.scopes),
        rate_tier=record.rate_tier,
    )


def _server_keys(settings: Settings) -> list[str]:
    keys = [settings.api_key.get_secret_value()] if settings.api_key else []
    return [*keys, DEV_API_KEY] if settings.dev_key_enabled else keys


def check_host(request: Request, settings: Settings) -> None:
    """While the well-known dev key works, answer only loopback names: a page reached through
    DNS rebinding must not be able to log in with it and read the pages."""
    if not settings.dev_key_enabled:
        return
    allowed = _LOOPBACK_NAMES | {settings.host.strip("[]")}
    if (request.url.hostname or "") not in allowed:
        raise ForbiddenError("this server answers only loopback host names while the dev key works")


async def get_viewer(request: Request, services: ServicesDep) -> Viewer:
    signer = signer_of(request)
    session = signer.verify(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequiredError("Please log in with an API key.")
    principal = await principal_for_key_hash(services, session.key_hash)
    if principal is None:
        raise LoginRequiredError("This API key is no longer valid; log in again.")
    request.state.principal = principal
    if services.rate_limiter is not None:
        request.state.rate_limit = await services.rate_limiter.hit(principal)
    return Viewer(principal, session, signer.csrf_token(session))


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_writer(request: Request, viewer: ViewerDep) -> Viewer:
    """A viewer whose state-changing request carries this session's CSRF token."""
    form = await request.form()
    presented = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    token = presented if isinstance(presented, str) else None
    if not signer_of(request).check_csrf(viewer.session, token):
        raise ForbiddenError("This form has expired or did not come from this page; reload it.")
    return viewer


WriterDep = Annotated[Viewer, Depends(get_writer)]


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path=UI_PREFIX, httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_TTL_S, path=f"{UI_PREFIX}/login",
        httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=UI_PREFIX, httponly=True, samesite="strict")


def clear_login_cookie(response: Response) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, path=f"{UI_PREFIX}/login", httponly=True, samesite="strict"
    )
