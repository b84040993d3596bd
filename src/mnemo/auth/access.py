"""Tenancy rules: a key reads and writes only inside its namespace (and user) binding."""

from __future__ import annotations

from mnemo.errors import ForbiddenError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import Principal, Scope


def require(principal: Principal, scope: Scope) -> None:
    if not principal.has(scope):
        raise ForbiddenError(f"this API key lacks the '{scope.value}' scope")


def resolve_namespace(principal: Principal, requested: str | None, default: str) -> str:
    """The namespace a write or a single read acts in; a bound key cannot leave its own."""
    if principal.namespace is None:
        return requested or default
    if requested is not None and requested != principal.namespace:
        raise ForbiddenError(
            f"this API key is bound to namespace '{principal.namespace}', not '{requested}'"
        )
    return principal.namespace


def resolve_user(principal: Principal, requested: str | None) -> str | None:
    """The user a request acts for; a user-bound key acts only for its own user."""
    if principal.user_id is None:
        return requested
    if requested is not None and requested != principal.user_id:
        raise ForbiddenError(f"this API key is bound to user '{principal.user_id}'")
    return principal.user_id


def confine_filter(principal: Principal, memory_filter: MemoryFilter) -> MemoryFilter:
    """Narrow a search filter to the key's binding; refuse one that asks outside it."""
    update: dict[str, TagFilter] = {}
    if principal.namespace is not None:
        _check_tag(memory_filter.namespace, principal.namespace, "namespace")
        update["namespace"] = TagFilter(eq=principal.namespace)
    if principal.user_id is not None:
        _check_tag(memory_filter.user_id, principal.user_id, "user")
        update["user_id"] = TagFilter(eq=principal.user_id)
    return memory_filter.model_copy(update=update) if update else memory_filter


def can_see(principal: Principal, namespace: str, user_id: str | None) -> bool:
    if principal.namespace is not None and namespace != principal.namespace:
        return False
    return principal.user_id is None or user_id == principal.user_id


def _check_tag(tag: TagFilter | None, bound: str, what: str) -> None:
    if tag is None:
        return
    allowed = tag.allowed_values()
    if allowed is not None and bound not in allowed:
        raise ForbiddenError(f"this API key is bound to {what} '{bound}'")
    if tag.ne == bound or bound in (tag.none or []):
        raise ForbiddenError(f"this API key is bound to {what} '{bound}'")
