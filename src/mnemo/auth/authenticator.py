"""Turn a presented API key into a Principal, or refuse it (401 missing, 403 unknown)."""

from __future__ import annotations

from mnemo.auth.keys import hash_key, same_secret
from mnemo.config import DEV_API_KEY
from mnemo.errors import ForbiddenError, UnauthorizedError
from mnemo.models import Principal, Scope
from mnemo.stores.base import Store

ALL_SCOPES = frozenset(Scope)


class Authenticator:
    """Operator keys (API_KEY, or the loopback-only dev key) see every namespace; stored keys
    see only their binding."""

    def __init__(self, store: Store, operator_key: str | None, dev_key_enabled: bool) -> None:
        self._store = store
        self._operator_key = operator_key
        self._dev_key_enabled = dev_key_enabled

    async def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise UnauthorizedError("Missing API key: send X-API-Key or Authorization: Bearer")
        if self._operator_key is not None and same_secret(presented, self._operator_key):
            return Principal(
                key_id="operator", namespace=None, user_id=None, scopes=ALL_SCOPES,
                rate_tier="operator",
            )  # fmt: skip
        if self._dev_key_enabled and same_secret(presented, DEV_API_KEY):
            return Principal(
                key_id="dev", namespace=None, user_id=None, scopes=ALL_SCOPES, rate_tier="operator"
            )
        record = await self._store.find_api_key(hash_key(presented))
        if record is None or record.revoked_at is not None:
            raise ForbiddenError("Invalid API key")
        return Principal(
            key_id=record.id,
            namespace=record.namespace,
            user_id=record.user_id,
            scopes=frozenset(record.scopes),
            rate_tier=record.rate_tier,
        )
