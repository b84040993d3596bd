"""Issue stored API keys: a new key for a namespace, within the namespace's key cap."""

from __future__ import annotations

from mnemo.auth.keys import generate_key
from mnemo.errors import ConflictError
from mnemo.models import ApiKey, Scope
from mnemo.stores.base import Store


async def issue_key(
    store: Store,
    max_per_namespace: int,
    *,
    namespace: str,
    user_id: str | None = None,
    scopes: list[Scope] | None = None,
    name: str | None = None,
    rate_tier: str = "standard",
) -> tuple[str, ApiKey]:
    """Store a new key bound to `namespace` and return its plaintext (shown once) and record.

    Only active keys count: revoking one frees its place. The count and the insert are two
    statements, so two creations racing for the last place can both succeed; keys are made
    by an operator at a terminal, where that does not happen by accident.
    """
    active = [k for k in await store.list_api_keys(namespace) if k.revoked_at is None]
    if len(active) >= max_per_namespace:
        raise ConflictError(
            f"namespace '{namespace}' already has {len(active)} active API keys, the limit "
            "(MNEMO_LIMITS__MAX_KEYS_PER_NAMESPACE); revoke one with `mnemo keys revoke` first",
            details={"limit": max_per_namespace},
        )
    plaintext, record = generate_key(
        namespace=namespace, user_id=user_id, scopes=scopes, name=name, rate_tier=rate_tier
    )
    await store.add_api_key(record)
    return plaintext, record
