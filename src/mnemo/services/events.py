"""Domain events out of the services: who listens (webhooks) is decided in wiring."""

from __future__ import annotations

from typing import Protocol

from pydantic import JsonValue

from mnemo.models import Memory


class EventSink(Protocol):
    async def emit(self, namespace: str, event: str, data: dict[str, JsonValue]) -> object: ...


class NoEvents:
    """For tools that run services without webhooks (CLI imports, benchmarks)."""

    async def emit(self, namespace: str, event: str, data: dict[str, JsonValue]) -> object:
        del namespace, event, data
        return None


def memory_event_data(memory: Memory) -> dict[str, JsonValue]:
    """What a webhook receiver learns about a memory: enough to fetch it, and its text."""
    return {
        "memory_id": memory.id,
        "text": memory.text,
        "memory_type": memory.memory_type.value,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "status": memory.status.value,
        "supersedes": memory.supersedes,
        "superseded_by": memory.superseded_by,
    }
