"""The checkpoint that makes `mnemo import` resumable: how far it got in which file."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

SUFFIX = ".mnemo-import-state"


class CheckpointMismatchError(ValueError):
    """The checkpoint belongs to another file, format or namespace than this import."""


@dataclass
class BadUnit:
    at: int  # line (JSONL) or item (JSON document) number, from 1
    error: str


@dataclass
class ImportCheckpoint:
    """Written after every batch (atomically): units up to `done` are in the store."""

    source: str
    target: str  # the store imported into: another store starts its own import
    size: int
    format: str
    namespace: str | None
    done: int = 0
    imported: int = 0
    bad: list[BadUnit] = field(default_factory=list)
    complete: bool = False

    @staticmethod
    def path_for(source: Path) -> Path:
        return source.with_name(source.name + SUFFIX)

    @classmethod
    def start(cls, source: Path, target: str, fmt: str, namespace: str | None) -> ImportCheckpoint:
        return cls(str(source.resolve()), target, source.stat().st_size, fmt, namespace)

    @classmethod
    def resume(cls, source: Path, target: str, fmt: str, namespace: str | None) -> ImportCheckpoint:
        """The saved checkpoint of this import into `target`, else a fresh one."""
        fresh = cls.start(source, target, fmt, namespace)
        path = cls.path_for(source)
        if not path.exists():
            return fresh
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            saved = cls(**{**data, "bad": [BadUnit(**b) for b in data.get("bad", [])]})
        except (ValueError, TypeError) as exc:
            raise CheckpointMismatchError(
                f"{path} is not a readable checkpoint ({exc}); pass --restart to start over"
            ) from None
        if saved.target != target:
            return fresh
        if (saved.size, saved.format, saved.namespace) != (fresh.size, fmt, namespace):
            raise CheckpointMismatchError(
                f"{path} was written by an import of another file, format or namespace "
                f"(size {saved.size}, format {saved.format}, namespace {saved.namespace}); "
                "pass --restart to start over, or delete it"
            )
        return saved

    def save(self, source: Path) -> None:
        path = self.path_for(source)
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(partial, path)
