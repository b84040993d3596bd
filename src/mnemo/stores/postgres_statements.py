"""SQL statements of the PostgreSQL store that more than one of its modules runs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mnemo.models import EventKind, Memory, MemoryEvent
from mnemo.stores.base import Vector
from mnemo.stores.records import EVENT_COLUMNS, MEMORY_COLUMNS, event_to_row, memory_to_row

# records.py renders lists and objects as JSON text; these columns take it as jsonb.
JSONB_COLUMNS = frozenset(
    {"topics", "entities", "metadata", "extracted_from", "details", "data", "memories", "strategy"}
)


def value_list(columns: Sequence[str]) -> str:
    """Named placeholders for `columns`, cast to jsonb where the column is jsonb."""
    return ", ".join(f"%({c})s::jsonb" if c in JSONB_COLUMNS else f"%({c})s" for c in columns)


def assignments(columns: Sequence[str], source: str | None = None) -> str:
    """`c = EXCLUDED.c, ...` (source "EXCLUDED") or `c = %(c)s, ...` (source None)."""
    if source is not None:
        return ", ".join(f"{c} = {source}.{c}" for c in columns)
    return ", ".join(
        f"{c} = %({c})s::jsonb" if c in JSONB_COLUMNS else f"{c} = %({c})s" for c in columns
    )


_MEMORY_FIELDS = (*MEMORY_COLUMNS, "embedding", "terms")
_MEMORY_VALUES = [c for c in _MEMORY_FIELDS if c not in {"namespace", "id"}]

INSERT_MEMORY = (
    f"INSERT INTO memories ({', '.join(_MEMORY_FIELDS)}) VALUES ({value_list(_MEMORY_FIELDS)})"
)
# A new text or vector leaves the context window behind (SQLite deletes and re-inserts the row).
_NO_CONTEXT = "context_terms = NULL, context_embedding = NULL, context_neighbours = NULL"
# An overwrite gets a fresh seq: it lists as the newest of memories created in the same instant.
UPSERT_MEMORY = (
    f"{INSERT_MEMORY} ON CONFLICT (namespace, id) DO UPDATE SET "
    f"{assignments(_MEMORY_VALUES, 'EXCLUDED')}, seq = DEFAULT, {_NO_CONTEXT}"
)
INSERT_MEMORY_IF_ABSENT = f"{INSERT_MEMORY} ON CONFLICT (namespace, id) DO NOTHING RETURNING id"
_KEY = "WHERE namespace = %(namespace)s AND id = %(id)s"
# Fields only: the text stays with the vector it was embedded from.
UPDATE_FIELDS = (
    "UPDATE memories SET "
    f"{assignments([c for c in _MEMORY_VALUES if c not in {'text', 'embedding'}])} {_KEY}"
)
# A new vector: everything changes, and the row lists as rewritten now (like an overwrite).
UPDATE_MEMORY_AND_VECTOR = (
    f"UPDATE memories SET {assignments(_MEMORY_VALUES)}, seq = DEFAULT, {_NO_CONTEXT} {_KEY}"
)
INSERT_EVENT = (
    f"INSERT INTO memory_events ({', '.join(EVENT_COLUMNS)}) VALUES ({value_list(EVENT_COLUMNS)})"
)
SELECT_MEMORY = f"SELECT {', '.join('m.' + c for c in MEMORY_COLUMNS)} FROM memories m"


def memory_params(memory: Memory, vector: Vector) -> dict[str, object]:
    row = memory_to_row(memory)
    row["embedding"] = np.asarray(vector, dtype=np.float32)
    return row


def added_event(memory: Memory, actor: str) -> dict[str, object]:
    """The ADD event of a memory indexed by the store itself (a session's message)."""
    return event_to_row(
        MemoryEvent(
            memory_id=memory.id,
            namespace=memory.namespace,
            event=EventKind.ADD,
            new_text=memory.text,
            actor=actor,
        )
    )
