"""The files `mnemo import` reads: mnemo JSONL exports, mem0 exports, seed 001 memory JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from mnemo.api.schemas import Moment
from mnemo.models import Memory, MemoryEvent, MemoryType, utcnow

EXPORT_FORMAT = "mnemo-export"
EXPORT_VERSION = 1

Text = Annotated[str, Field(min_length=1)]


class ImportFormat(StrEnum):
    MNEMO = "mnemo"  # JSONL: a header line, then one memory per line (mnemo export)
    MEM0 = "mem0"  # JSON: a list, or {"results": [...]}, of mem0 memories
    SEED001 = "seed001"  # JSON: a list, or {"memories": [...]}, of seed 001 MemoryRecords


class FormatError(ValueError):
    """The file is in none of the formats, or not in the one it was said to be in."""


@dataclass
class ImportItem:
    """One memory to write, the history it arrived with, and its embedding if it had one."""

    memory: Memory
    events: list[MemoryEvent] = field(default_factory=list)
    vector: list[float] | None = None


@dataclass(frozen=True)
class Unit:
    """One line of a JSONL file, or one item of a JSON document; `number` counts from 1."""

    number: int
    raw: object
    error: str | None = None


def detect_format(path: Path) -> ImportFormat:
    first = _first_line(path)
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        head = None  # a JSON document spread over several lines
    if isinstance(head, dict) and (head.get("format") == EXPORT_FORMAT or "text" in head):
        return ImportFormat.MNEMO
    items = load_items(path)
    sample = next((i for i in items if isinstance(i, dict)), {})
    return ImportFormat.MEM0 if "memory" in sample else ImportFormat.SEED001


def read_header(path: Path) -> dict[str, object]:
    """The header of a mnemo export ({} for headerless JSONL)."""
    try:
        head = json.loads(_first_line(path))
    except json.JSONDecodeError:
        return {}
    return head if isinstance(head, dict) and head.get("format") == EXPORT_FORMAT else {}


def load_items(path: Path) -> list[object]:
    """The items of a JSON document: a list, or the list under "results" or "memories"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path} is not a JSON document: {exc}") from None
    if isinstance(data, dict):
        for key in ("results", "memories"):
            if isinstance(data.get(key), list):
                return list(data[key])
    if isinstance(data, list):
        return data
    raise FormatError(f"{path}: expected a list of memories, or {{'results'|'memories': [...]}}")


def read_units(path: Path, fmt: ImportFormat) -> Iterator[Unit]:
    if fmt is not ImportFormat.MNEMO:
        for number, item in enumerate(load_items(path), start=1):
            yield Unit(number, item)
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Unit(number, None, f"not JSON: {exc}")
                continue
            if not (number == 1 and isinstance(raw, dict) and raw.get("format")):
                yield Unit(number, raw)


def count_units(path: Path, fmt: ImportFormat) -> int:
    if fmt is not ImportFormat.MNEMO:
        return len(load_items(path))
    with path.open(encoding="utf-8") as lines:
        count = sum(1 for line in lines if line.strip())
    return count - 1 if read_header(path) else count


def to_item(raw: object, fmt: ImportFormat, namespace: str, force: bool) -> ImportItem:
    """One unit as an ImportItem, in `namespace` when the record names none or `force` is set.
    Raises ValueError (pydantic's ValidationError is one) when the unit is not a memory."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    if fmt is ImportFormat.MNEMO:
        return _mnemo_item(raw, namespace, force)
    if fmt is ImportFormat.MEM0:
        return ImportItem(Mem0Record.model_validate(raw).to_memory(namespace))
    record = Seed001Record.model_validate(raw)
    return ImportItem(record.to_memory(namespace if force else record.namespace or namespace))


def _mnemo_item(raw: dict[str, object], namespace: str, force: bool) -> ImportItem:
    fields = dict(raw)
    history = fields.pop("history", None) or []
    embedding = fields.pop("embedding", None)
    fields["namespace"] = namespace if force else fields.get("namespace") or namespace
    memory = Memory.model_validate(fields).with_hash()
    if not isinstance(history, list):
        raise ValueError("history must be a list of events")
    events = [
        MemoryEvent.model_validate({**e, "memory_id": memory.id, "namespace": memory.namespace})
        for e in history
        if isinstance(e, dict)
    ]
    vector = None
    if embedding is not None:
        if not isinstance(embedding, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in embedding
        ):
            raise ValueError("embedding must be a list of numbers")
        vector = [float(x) for x in embedding]
    return ImportItem(memory, events, vector)


class Mem0Record(BaseModel):
    """A memory as mem0's get_all / export returns it."""

    model_config = ConfigDict(extra="ignore")

    id: str | int
    memory: Text = Field(validation_alias=AliasChoices("memory", "text"))
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, JsonValue] | None = None
    categories: list[str] | None = None
    created_at: Moment | None = None
    updated_at: Moment | None = None

    def to_memory(self, namespace: str) -> Memory:
        metadata = dict(self.metadata or {})
        procedural = metadata.get("memory_type") == "procedural_memory"
        created = self.created_at or utcnow()
        updated = self.updated_at or created
        return Memory(
            id=str(self.id), namespace=namespace, user_id=self.user_id, agent_id=self.agent_id,
            session_id=self.run_id, text=self.memory, topics=self.categories or [],
            metadata=metadata,
            memory_type=MemoryType.PROCEDURAL if procedural else MemoryType.SEMANTIC,
            created_at=created, updated_at=updated, last_accessed_at=updated,
        ).with_hash()  # fmt: skip


class Seed001Record(BaseModel):
    """Seed 001's MemoryRecord (the long-term memory JSON its server returns)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    text: Text
    namespace: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    topics: list[str] | None = None
    entities: list[str] | None = None
    memory_type: MemoryType = MemoryType.SEMANTIC
    event_date: Moment | None = None
    created_at: Moment | None = None
    updated_at: Moment | None = None
    last_accessed: Moment | None = None
    pinned: bool = False
    access_count: int = Field(0, ge=0)
    extracted_from: list[str] | None = None
    metadata: dict[str, JsonValue] | None = None

    def to_memory(self, ns: str) -> Memory:
        created = self.created_at or utcnow()
        return Memory(
            id=self.id or _stable_id(ns, self.user_id, self.text), namespace=ns,
            user_id=self.user_id, agent_id=self.agent_id, session_id=self.session_id,
            text=self.text, memory_type=self.memory_type, topics=self.topics or [],
            entities=self.entities or [], metadata=self.metadata or {}, pinned=self.pinned,
            event_date=self.event_date, created_at=created,
            updated_at=self.updated_at or created,
            last_accessed_at=self.last_accessed or created, access_count=self.access_count,
            extracted_from=self.extracted_from or [],
        ).with_hash()  # fmt: skip


def _stable_id(namespace: str, user_id: str | None, text: str) -> str:
    """A record without an id gets the same id on every import, so reruns do not duplicate."""
    digest = hashlib.sha256(f"{namespace}\0{user_id or ''}\0{text}".encode()).hexdigest()
    return "imp_" + digest[:26]


def _first_line(path: Path) -> str:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                return line
    raise FormatError(f"{path} is empty")
