"""`mnemo import`: load memories from a file, resumably, idempotently by (namespace, id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import anyio.to_thread
import numpy as np
import typer
from pydantic import ValidationError

from mnemo.api.convert import check_text
from mnemo.cli.checkpoint import BadUnit, CheckpointMismatchError, ImportCheckpoint
from mnemo.cli.formats import (
    FormatError,
    ImportFormat,
    ImportItem,
    Unit,
    count_units,
    detect_format,
    read_header,
    read_units,
    to_item,
)
from mnemo.cli.runtime import (
    DataDir,
    err,
    fail,
    opened_services,
    progress_bar,
    run,
    settings_of,
    store_location,
)
from mnemo.config import Settings
from mnemo.errors import MnemoError
from mnemo.models import EventKind, MemoryEvent, utcnow
from mnemo.stores.base import Vector, VectorRecord
from mnemo.wiring import Services

SHOWN_BAD_UNITS = 20


@dataclass(frozen=True)
class ImportJob:
    path: Path
    fmt: ImportFormat
    namespace: str | None  # forced on every memory when given
    batch: int


def register(app: typer.Typer) -> None:
    app.command("import")(import_memories)


def import_memories(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File to import")],
    namespace: Annotated[
        str | None, typer.Option(help="Put every memory in this namespace")
    ] = None,
    fmt: Annotated[
        ImportFormat | None, typer.Option("--format", help="Skip detection: the file's format")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore the checkpoint of an earlier run")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, help="Memories written per transaction")] = 64,
    data_dir: DataDir = None,
) -> None:
    """Import a mnemo export (JSONL), a mem0 export or seed 001 memory JSON.

    Resumable: progress is saved next to the file (PATH.mnemo-import-state) after every
    batch, and a rerun continues after the last batch written. Idempotent: a memory whose
    (namespace, id) exists is overwritten, never duplicated. Bad lines are reported with
    their numbers (exit code 1) and do not stop the import.
    """
    settings = settings_of(data_dir)
    try:
        chosen = fmt or detect_format(path)
        where = store_location(settings)
        fresh = ImportCheckpoint.start(path, where, chosen.value, namespace)
        checkpoint = (
            fresh if restart else ImportCheckpoint.resume(path, where, chosen.value, namespace)
        )
        total = count_units(path, chosen)
    except (FormatError, CheckpointMismatchError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    if checkpoint.complete:
        err.print(
            f"{path} was already imported ({checkpoint.imported} memories, "
            f"{len(checkpoint.bad)} bad); pass --restart to import it again"
        )
        return
    job = ImportJob(path, chosen, namespace, batch)
    run(_import(settings, job, checkpoint, total), "interrupted: run it again to continue")
    _report(path, chosen, checkpoint)


async def _import(
    settings: Settings, job: ImportJob, checkpoint: ImportCheckpoint, total: int
) -> None:
    header = read_header(job.path) if job.fmt is ImportFormat.MNEMO else {}
    async with opened_services(settings) as services:
        writer = BatchWriter(services, job, header)
        with progress_bar() as bar:
            task = bar.add_task(f"importing {job.path.name}", total=total)
            pending: list[Unit] = []
            for unit in read_units(job.path, job.fmt):
                if unit.number <= checkpoint.done:
                    bar.advance(task)
                    continue
                pending.append(unit)
                if len(pending) >= job.batch:
                    await writer.write(pending, checkpoint)
                    bar.advance(task, len(pending))
                    pending = []
            if pending:
                await writer.write(pending, checkpoint)
                bar.advance(task, len(pending))
    checkpoint.complete = True
    checkpoint.save(job.path)


class BatchWriter:
    """Turns units into memories and writes each batch in one transaction, then saves the
    checkpoint: a crash loses at most the batch in flight, which a rerun writes again."""

    def __init__(self, services: Services, job: ImportJob, header: dict[str, object]) -> None:
        self._services = services
        self._job = job
        embedder = services.embedder
        self._same_model = (header.get("embedding_model"), header.get("dimension")) == (
            embedder.model_name,
            embedder.dimension,
        )

    async def write(self, units: list[Unit], checkpoint: ImportCheckpoint) -> None:
        items: dict[tuple[str, str], ImportItem] = {}  # a repeated id: the last one wins
        for unit in units:
            item = self._parse(unit, checkpoint)
            if item is not None:
                items[(item.memory.namespace, item.memory.id)] = item
        chosen = list(items.values())
        vectors = await self._vectors(chosen)
        known = await self._existing(chosen)
        now = utcnow()
        events = [
            event
            for item in chosen
            if (item.memory.namespace, item.memory.id) not in known
            for event in item.events or [_added(item, self._job.fmt, now)]
        ]
        records = [VectorRecord(i.memory, v) for i, v in zip(chosen, vectors, strict=True)]
        await self._services.store.upsert_memories(records, events)
        checkpoint.done = units[-1].number
        checkpoint.imported += len(records)
        checkpoint.save(self._job.path)

    def _parse(self, unit: Unit, checkpoint: ImportCheckpoint) -> ImportItem | None:
        settings = self._services.settings
        namespace = self._job.namespace or settings.default_namespace
        try:
            if unit.error is not None:
                raise ValueError(unit.error)
            item = to_item(unit.raw, self._job.fmt, namespace, self._job.namespace is not None)
            check_text(item.memory.text, settings.limits, "memory text")
        except (ValueError, MnemoError) as exc:
            checkpoint.bad.append(BadUnit(unit.number, _reason(exc)))
            return None
        return item

    async def _vectors(self, items: list[ImportItem]) -> list[Vector]:
        """The file's embeddings when they come from the configured model, else new ones."""
        embedder = self._services.embedder
        vectors: list[Vector | None] = [self._usable(item.vector) for item in items]
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            texts = [items[i].memory.text for i in missing]
            fresh = await anyio.to_thread.run_sync(embedder.embed, texts)
            for position, vector in zip(missing, fresh, strict=True):
                vectors[position] = vector
        return [v for v in vectors if v is not None]

    def _usable(self, given: list[float] | None) -> Vector | None:
        if given is None or not self._same_model or len(given) != self._services.embedder.dimension:
            return None
        vector = np.asarray(given, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if np.isfinite(norm) and norm > 0 else None

    async def _existing(self, items: list[ImportItem]) -> set[tuple[str, str]]:
        by_namespace: dict[str, list[str]] = {}
        for item in items:
            by_namespace.setdefault(item.memory.namespace, []).append(item.memory.id)
        store = self._services.store
        return {
            (m.namespace, m.id)
            for ns, ids in by_namespace.items()
            for m in await store.get_memories(ns, ids)
        }


def _added(item: ImportItem, fmt: ImportFormat, at: datetime) -> MemoryEvent:
    memory = item.memory
    return MemoryEvent(
        memory_id=memory.id, namespace=memory.namespace, event=EventKind.ADD,
        new_text=memory.text, actor="import", at=at, details={"format": fmt.value},
    )  # fmt: skip


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors()
        )
    return exc.message if isinstance(exc, MnemoError) else str(exc)


def _report(path: Path, fmt: ImportFormat, checkpoint: ImportCheckpoint) -> None:
    err.print(
        f"imported {checkpoint.imported} memories from {path} (format {fmt.value})",
        highlight=False,
    )
    if not checkpoint.bad:
        return
    unit = "line" if fmt is ImportFormat.MNEMO else "item"
    err.print(f"[bold red]{len(checkpoint.bad)} bad {unit}(s) skipped:[/]")
    for bad in checkpoint.bad[:SHOWN_BAD_UNITS]:
        err.print(f"  {unit} {bad.at}: {bad.error}", highlight=False, markup=False)
    if len(checkpoint.bad) > SHOWN_BAD_UNITS:
        err.print(f"  … and {len(checkpoint.bad) - SHOWN_BAD_UNITS} more (see the checkpoint)")
    raise typer.Exit(code=1)
