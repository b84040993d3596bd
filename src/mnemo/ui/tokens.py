"""Signed browser-session tokens and CSRF tokens for the memory browser (HMAC-SHA256)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_TTL_S = 12 * 3600
LOGIN_FORM_TTL_S = 3600


@dataclass(frozen=True)
class BrowserSession:
    """What a session cookie holds once verified: the key's sha256, a nonce, an expiry."""

    key_hash: str
    nonce: str
    expires_at: float


class TokenSigner:
    """Signs and checks the UI's cookies with a secret that lives only in this process.

    The cookie never carries the API key: only its sha256 (what the key store is indexed
    by), a random nonce and an expiry, signed so that it cannot be forged or altered.
    """

    def __init__(self, secret: bytes | None = None, ttl_s: int = SESSION_TTL_S) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._ttl_s = ttl_s
        self._revoked: dict[str, float] = {}  # nonce -> expiry of sessions logged out

    def issue(self, key_hash: str) -> tuple[str, BrowserSession]:
        session = BrowserSession(key_hash, secrets.token_urlsafe(16), time.time() + self._ttl_s)
        payload = _b64(json.dumps({"h": key_hash, "n": session.nonce, "e": session.expires_at}))
        return f"{payload}.{self._sign('session', payload)}", session

    def verify(self, token: str | None) -> BrowserSession | None:
        """The session a cookie stands for, or None if it is forged, expired or logged out."""
        if not token or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        try:
            fields = json.loads(_unb64(payload))
            session = BrowserSession(str(fields["h"]), str(fields["n"]), float(fields["e"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if session.expires_at < time.time() or session.nonce in self._revoked:
            return None
        return session

    def revoke(self, session: BrowserSession) -> None:
        """Log a session out for good, even if its cookie was copied elsewhere."""
        now = time.time()
        self._revoked = {n: e for n, e in self._revoked.items() if e > now}
        self._revoked[session.nonce] = session.expires_at

    def csrf_token(self, session: BrowserSession) -> str:
        return self._sign("csrf", session.nonce)

    def check_csrf(self, session: BrowserSession, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(str(presented), self.csrf_token(session))

    def login_form_token(self, nonce: str) -> str:
        """The CSRF token of the login form, tied to the nonce in its short-lived cookie."""
        return self._sign("login", nonce)

    def check_login_form(self, nonce: str | None, presented: str | None) -> bool:
        if not nonce or not presented:
            return False
        return hmac.compare_digest(presented, self.login_form_token(nonce))

    def _sign(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._secret, f"{purpose}\0{value}".encode(), hashlib.sha256)
        return _b64(mac.digest())


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
