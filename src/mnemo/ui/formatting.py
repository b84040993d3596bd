"""What templates call: filters for dates and JSON, links to pages, the key's binding."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

from jinja2 import Environment

from mnemo.models import Principal
from mnemo.ui.auth import UI_PREFIX


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def as_json(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def as_text(value: object) -> str:
    """A history detail in words: lists joined with commas, other values as JSON."""
    if isinstance(value, list):
        return ", ".join(as_text(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def binding_label(principal: Principal) -> str:
    """What the logged-in key may see, for the top bar."""
    if principal.namespace is None:
        return "all namespaces (operator key)"
    label = f"namespace {principal.namespace}"
    return f"{label} · user {principal.user_id}" if principal.user_id else label


def memory_url(memory_id: str, namespace: str, action: str = "") -> str:
    """A memory's page, or one of its actions ("/pin", "/delete")."""
    path = f"{UI_PREFIX}/memories/{quote(memory_id, safe='')}{action}"
    return f"{path}?ns={quote(namespace, safe='')}"


def session_url(session_id: str, namespace: str) -> str:
    return f"{UI_PREFIX}/sessions/{quote(session_id, safe='')}?ns={quote(namespace, safe='')}"


def register(env: Environment) -> None:
    env.filters.update(when=when, as_json=as_json, as_text=as_text)
    env.globals.update(memory_url=memory_url, session_url=session_url, binding_label=binding_label)
