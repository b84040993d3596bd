"""`mnemo export`: every memory (and its history) to JSONL, a header line first."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO

import typer

from mnemo.cli.formats import EXPORT_FORMAT, EXPORT_VERSION
from mnemo.cli.runtime import DataDir, configured_model, err, progress_bar, run, settings_of
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import Memory, utcnow
from mnemo.stores.base import Store

PAGE_SIZE = 500


@dataclass(frozen=True)
class ExportJob:
    output: Path
    namespace: str | None
    user_id: str | None
    with_embeddings: bool
    with_history: bool


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write")],
    namespace: Annotated[str | None, typer.Option(help="Only this namespace")] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's memories")] = None,
    with_embeddings: Annotated[
        bool, typer.Option("--with-embeddings", help="Include each memory's vector")
    ] = False,
    with_history: Annotated[
        bool, typer.Option("--history/--no-history", help="Include each memory's events")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Write memories to JSONL: a header line, then one memory per line with every field.

    Superseded and expired memories are included (with their status and chain), so an
    import restores the same state. The file appears only once complete.
    """
    settings = settings_of(data_dir)
    job = ExportJob(output, namespace, user, with_embeddings, with_history)
    count = run(_export(settings, job))
    err.print(f"exported {count} memories to {output}", highlight=False)


async def _export(settings: Settings, job: ExportJob) -> int:
    model, dimension = configured_model(settings)
    partial = job.output.with_name(job.output.name + ".partial")
    async with opened_store(settings) as store:
        # Refuses a store built with another model, so the header tells the truth.
        await store.ensure_embedding_model(model, dimension)
        memory_filter = MemoryFilter(
            namespace=TagFilter(eq=job.namespace) if job.namespace else None,
            user_id=TagFilter(eq=job.user_id) if job.user_id else None,
            include_superseded=True,
            include_expired=True,
        )
        first = await store.list_memories(memory_filter, utcnow(), limit=1, offset=0)
        header = {
            "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "embedding_model": model,
            "dimension": dimension, "exported_at": utcnow().isoformat(),
            "namespace": job.namespace, "user_id": job.user_id, "count": first.total,
            "with_embeddings": job.with_embeddings, "with_history": job.with_history,
        }  # fmt: skip
        try:
            with partial.open("w", encoding="utf-8") as out:
                out.write(json.dumps(header) + "\n")
                count = await _write_memories(store, memory_filter, job, out, first.total)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, job.output)
    return count


async def _write_memories(
    store: Store, memory_filter: MemoryFilter, job: ExportJob, out: TextIO, total: int
) -> int:
    """Page through the memories, newest first; a memory the server writes meanwhile shifts
    the pages, so ids already written are skipped rather than written twice."""
    seen: set[tuple[str, str]] = set()
    offset = 0
    with progress_bar() as bar:
        task = bar.add_task("exporting", total=total)
        while True:
            page = await store.list_memories(memory_filter, utcnow(), PAGE_SIZE, offset)
            if not page.items:
                return len(seen)
            offset += len(page.items)
            fresh = [m for m in page.items if (m.namespace, m.id) not in seen]
            for line in await _lines(store, fresh, job):
                out.write(json.dumps(line) + "\n")
            seen.update((m.namespace, m.id) for m in fresh)
            bar.update(task, completed=len(seen), total=max(total, len(seen)))


async def _lines(store: Store, memories: list[Memory], job: ExportJob) -> list[dict[str, object]]:
    vectors: dict[tuple[str, str], list[float]] = {}
    if job.with_embeddings:
        for ns in {m.namespace for m in memories}:
            found = await store.get_vectors(ns, [m.id for m in memories if m.namespace == ns])
            vectors.update({(ns, mid): v.tolist() for mid, v in found.items()})
    lines = []
    for memory in memories:
        line: dict[str, object] = memory.model_dump(mode="json")
        if job.with_history:
            events = await store.history(memory.namespace, memory.id)
            line["history"] = [
                e.model_dump(mode="json", exclude={"memory_id", "namespace"}) for e in events
            ]
        if job.with_embeddings:
            line["embedding"] = vectors.get((memory.namespace, memory.id))
        lines.append(line)
    return lines
