"""The few SQL spellings that differ between SQLite and PostgreSQL in the queue-side tables.

The task, webhook and batch tables have the same columns on both databases (times are epoch
seconds, JSON is text on SQLite and jsonb on PostgreSQL), so their statements are written once
(`jobs/task_table.py`, `stores/webhook_table.py`, `stores/batch_table.py`) and spelled here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue


@dataclass(frozen=True)
class Spelling:
    placeholder: str  # the driver's parameter marker
    greatest: str  # the two-argument maximum
    json_append: str  # `{column}` with one bound JSON value appended to its array
    decode_json: Callable[[Any], JsonValue]  # a JSON column's value as the driver returns it

    def marks(self, count: int) -> str:
        """`count` parameter markers, comma-separated (for VALUES and IN lists)."""
        return ", ".join([self.placeholder] * count)


def _already_decoded(value: Any) -> JsonValue:
    """psycopg decodes jsonb itself (a JSON string arrives as a str: never json.loads it)."""
    decoded: JsonValue = value
    return decoded


SQLITE = Spelling(
    placeholder="?",
    greatest="max",
    json_append="json_insert({column}, '$[#]', json(?))",
    decode_json=json.loads,
)
POSTGRES = Spelling(
    placeholder="%s",
    greatest="GREATEST",
    json_append="{column} || jsonb_build_array(%s::jsonb)",
    decode_json=_already_decoded,
)
