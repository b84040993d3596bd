"""SQL statements of the SQLite store that more than one of its modules runs."""

from __future__ import annotations

import numpy as np

from mnemo.models import Memory
from mnemo.stores.records import EVENT_COLUMNS, MEMORY_COLUMNS, memory_to_row
from mnemo.stores.vector_index import Vector

INSERT_MEMORY = (
    f"INSERT INTO memories ({', '.join(MEMORY_COLUMNS)}, embedding, terms) "
    f"VALUES ({', '.join(':' + c for c in MEMORY_COLUMNS)}, :embedding, :terms)"
)
INSERT_EVENT = (
    f"INSERT INTO memory_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in EVENT_COLUMNS)})"
)
UPDATE_FIELDS = (
    "UPDATE memories SET "
    + ", ".join(f"{c} = :{c}" for c in MEMORY_COLUMNS if c not in {"namespace", "id", "text"})
    + ", terms = :terms WHERE namespace = :namespace AND id = :id"
)
SELECT_MEMORY = f"SELECT {', '.join('m.' + c for c in MEMORY_COLUMNS)} FROM memories m"


def memory_params(memory: Memory, vector: Vector) -> dict[str, object]:
    row = memory_to_row(memory)
    row["embedding"] = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
    return row
