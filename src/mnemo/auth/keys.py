"""API key material: generate, hash and compare. Pure functions, no storage."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mnemo.models import ApiKey, Scope

KEY_PREFIX = "mnemo_"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_key(
    *,
    namespace: str | None,
    user_id: str | None = None,
    scopes: list[Scope] | None = None,
    name: str | None = None,
    rate_tier: str = "standard",
) -> tuple[str, ApiKey]:
    """A new random key: the plaintext (shown once) and the record to store."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        prefix=plaintext[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(plaintext),
        name=name,
        namespace=namespace,
        user_id=user_id,
        scopes=scopes or [Scope.READ, Scope.WRITE],
        rate_tier=rate_tier,
    )
    return plaintext, record


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison, so timing tells nothing about the expected key."""
    return hmac.compare_digest(given.encode(), expected.encode())
