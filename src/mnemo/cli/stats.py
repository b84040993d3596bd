"""`mnemo stats`: how many memories of each type, sessions, and tasks in each state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Annotated

import typer
from rich.table import Table

from mnemo.cli.runtime import DataDir, configured_model, console, run, settings_of
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.jobs.queue import TaskQueue, TaskStatus
from mnemo.models import MemoryType, utcnow
from mnemo.stores.base import Store
from mnemo.wiring import build_jobs


@dataclass
class Stats:
    namespace: str | None
    embedding_model: str
    dimension: int
    memories: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> stored/searchable
    sessions: int = 0
    tasks: dict[str, int] = field(default_factory=dict)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)


def stats(
    namespace: Annotated[
        str | None, typer.Option(help="One namespace (default: all of them)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    data_dir: DataDir = None,
) -> None:
    """Count memories by type, sessions, and background tasks by state."""
    settings = settings_of(data_dir)
    found = run(_collect(settings, namespace))
    if as_json:
        print(json.dumps(asdict(found), indent=2))
        return
    where = f"namespace {namespace}" if namespace else "all namespaces"
    console.print(
        f"[bold]{where}[/] · embedding model {found.embedding_model} ({found.dimension})",
        highlight=False,
    )
    memories = Table("memory type", "stored", "searchable", title="memories")
    for kind, counts in found.memories.items():
        memories.add_row(kind, str(counts["stored"]), str(counts["searchable"]))
    console.print(memories)
    console.print(f"sessions: {found.sessions}")
    tasks = Table("task state", "count", title="background tasks")
    for state, count in found.tasks.items():
        tasks.add_row(state, str(count))
    console.print(tasks)


async def _collect(settings: Settings, namespace: str | None) -> Stats:
    model, dimension = configured_model(settings)
    found = Stats(namespace, model, dimension)
    async with opened_store(settings) as store:
        for kind in MemoryType:
            found.memories[kind.value] = {
                "stored": await _count(store, namespace, kind, everything=True),
                "searchable": await _count(store, namespace, kind, everything=False),
            }
        found.sessions = (await store.list_sessions(namespace, None, 1, 0)).total
        jobs = build_jobs(settings, store)
        await jobs.queue.open()
        try:
            found.tasks = await _task_counts(jobs.queue, namespace)
        finally:
            await jobs.queue.close()
    return found


async def _count(store: Store, namespace: str | None, kind: MemoryType, everything: bool) -> int:
    """All stored memories of a type, or only those a search can return (active, unexpired)."""
    memory_filter = MemoryFilter(
        namespace=TagFilter(eq=namespace) if namespace else None,
        memory_type=TagFilter(eq=kind.value),
        include_superseded=everything,
        include_expired=everything,
    )
    return (await store.list_memories(memory_filter, utcnow(), limit=1, offset=0)).total


async def _task_counts(queue: TaskQueue, namespace: str | None) -> dict[str, int]:
    if namespace is None:
        totals = dict.fromkeys((s.value for s in TaskStatus), 0)
        for (_, status), count in (await queue.counts()).items():
            totals[status.value] += count
        return totals
    return {s.value: (await queue.list(namespace, s, limit=1, offset=0)).total for s in TaskStatus}
