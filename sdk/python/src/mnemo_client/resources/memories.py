"""client.memories: create, search, read, edit, delete and extract long-term memories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, TypeAlias

from pydantic import JsonValue

from mnemo_client._endpoints import R, Resource, endpoint, paginated
from mnemo_client._wire import Call, segment
from mnemo_client.errors import MemoryNotFoundError, SessionNotFoundError
from mnemo_client.models import (
    Ack,
    ExtractionReport,
    Memory,
    MemoryHistory,
    NewMemory,
    SearchResults,
)

PATH = "/v1/long-term-memory"
MemoryInput: TypeAlias = NewMemory | Mapping[str, object]
# A tag filter: "x" (equals), ["x", "y"] (any of them), or the server's DSL as a mapping,
# e.g. {"ne": "x"}, {"all": [...]}, {"none": [...]}, {"startswith": "x"}.
TagValue: TypeAlias = str | Sequence[str] | Mapping[str, JsonValue]
SearchMode: TypeAlias = Literal["hybrid", "semantic", "keyword"]


def tag_filter(value: TagValue) -> dict[str, JsonValue]:
    if isinstance(value, str):
        return {"eq": value}
    if isinstance(value, Mapping):
        return dict(value)
    return {"any": list(value)}


def memory_body(memory: MemoryInput) -> dict[str, JsonValue]:
    """A memory as the server reads it: validated here, unset fields left out."""
    model = memory if isinstance(memory, NewMemory) else NewMemory.model_validate(memory)
    return model.model_dump(mode="json", exclude_none=True)


class MemoriesResource(Resource[R]):
    """Long-term memories: durable facts, preferences, events and procedures, searchable."""

    @endpoint
    def create(self, memories: Sequence[MemoryInput], *, deduplicate: bool = True) -> Call[Ack]:
        """Store memories (dicts or `NewMemory`); an `id` makes the write idempotent."""
        body = {"memories": [memory_body(m) for m in memories], "deduplicate": deduplicate}
        return Call("POST", f"{PATH}/", Ack.model_validate, json=body)

    @endpoint
    def search(
        self,
        text: str = "",
        *,
        user_id: TagValue | None = None,
        namespace: TagValue | None = None,
        session_id: TagValue | None = None,
        agent_id: TagValue | None = None,
        topics: TagValue | None = None,
        entities: TagValue | None = None,
        memory_type: TagValue | None = None,
        search_mode: SearchMode = "hybrid",
        distance_threshold: float | None = None,
        include_superseded: bool = False,
        explain: bool = False,
        filters: Mapping[str, JsonValue] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> Call[SearchResults]:
        """One page of hybrid search; empty `text` lists the matching memories, newest first.

        `filters` passes any other field of the server's search request as it is, e.g.
        {"created_at": {"gte": "2025-01-01T00:00:00Z"}, "recency_boost": False}.
        """
        tags = {
            "user_id": user_id, "namespace": namespace, "session_id": session_id,
            "agent_id": agent_id, "topics": topics, "entities": entities,
            "memory_type": memory_type,
        }  # fmt: skip
        body: dict[str, JsonValue] = {
            name: tag_filter(value) for name, value in tags.items() if value is not None
        }
        body |= {
            "text": text, "search_mode": search_mode, "include_superseded": include_superseded,
            "explain": explain, "limit": limit, "offset": offset,
        }  # fmt: skip
        if distance_threshold is not None:
            body["distance_threshold"] = distance_threshold
        body |= dict(filters or {})
        return Call("POST", f"{PATH}/search", SearchResults.model_validate, json=body)

    iter_search = paginated(search)

    @endpoint
    def get(self, memory_id: str, *, namespace: str | None = None) -> Call[Memory]:
        return Call(
            "GET",
            f"{PATH}/{segment(memory_id)}",
            Memory.model_validate,
            params={"namespace": namespace},
            not_found=MemoryNotFoundError,
        )

    @endpoint
    def edit(
        self,
        memory_id: str,
        *,
        text: str | None = None,
        topics: Sequence[str] | None = None,
        entities: Sequence[str] | None = None,
        memory_type: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        event_date: datetime | None = None,
        pinned: bool | None = None,
        importance: float | None = None,
        metadata: Mapping[str, JsonValue] | None = None,
        namespace: str | None = None,
    ) -> Call[Memory]:
        """Change the given fields (the others stay); the change is kept in its history."""
        changes = {
            "text": text, "topics": topics, "entities": entities, "memory_type": memory_type,
            "user_id": user_id, "session_id": session_id, "event_date": event_date,
            "pinned": pinned, "importance": importance, "metadata": metadata,
        }  # fmt: skip
        return Call(
            "PATCH",
            f"{PATH}/{segment(memory_id)}",
            Memory.model_validate,
            params={"namespace": namespace},
            json={k: v for k, v in changes.items() if v is not None},
            not_found=MemoryNotFoundError,
        )

    @endpoint
    def delete(self, memory_ids: str | Sequence[str], *, namespace: str | None = None) -> Call[Ack]:
        ids = [memory_ids] if isinstance(memory_ids, str) else list(memory_ids)
        return Call(
            "DELETE",
            PATH,
            Ack.model_validate,
            params={"memory_ids": ids, "namespace": namespace},
            not_found=MemoryNotFoundError,
        )

    @endpoint
    def history(self, memory_id: str, *, namespace: str | None = None) -> Call[MemoryHistory]:
        """Every event of a memory: created, updated, merged, superseded, deleted."""
        return Call(
            "GET",
            f"{PATH}/{segment(memory_id)}/history",
            MemoryHistory.model_validate,
            params={"namespace": namespace},
            not_found=MemoryNotFoundError,
        )

    @endpoint
    def extract(self, session_id: str, *, namespace: str | None = None) -> Call[ExtractionReport]:
        """Extract durable memories from a session's turns now (each turn is extracted once)."""
        return Call(
            "POST",
            f"{PATH}/extract",
            ExtractionReport.model_validate,
            json={"session_id": session_id, "namespace": namespace},
            not_found=SessionNotFoundError,
        )
