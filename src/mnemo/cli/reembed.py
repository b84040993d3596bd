"""`mnemo reembed`: give every memory a vector from another embedding model, online."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import anyio.to_thread
import typer
from pydantic import SecretStr

from mnemo.cli.runtime import DataDir, console, err, fail, progress_bar, run, settings_of
from mnemo.config import Settings
from mnemo.embedders.base import Embedder
from mnemo.errors import ConfigurationError
from mnemo.filters import MemoryFilter, NumberFilter
from mnemo.models import utcnow
from mnemo.stores.base import Store, VectorUpdate
from mnemo.wiring import build_embedder, build_store

# Passes over what the running server wrote during the previous pass, before giving up on
# catching up with it (its writes until it restarts are for `--since`).
CATCH_UP_PASSES = 3
KEY_PAGE = 1000

Key = tuple[str, str]


class Provider(StrEnum):
    LOCAL = "local"
    OPENAI = "openai"


@dataclass(frozen=True)
class ReembedJob:
    batch: int
    since: datetime | None
    allow_dimension_change: bool


def register(app: typer.Typer) -> None:
    app.command("reembed")(reembed)


def reembed(
    model: Annotated[str, typer.Option(help="The new embedding model's name")],
    provider: Annotated[
        Provider | None,
        typer.Option(help="local (bundled MiniLM) or openai (any /v1/embeddings server)"),
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Embeddings server, e.g. .../v1")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="MNEMO_REEMBED_API_KEY", help="Embeddings server key")
    ] = None,
    dimension: Annotated[int | None, typer.Option(min=1, help="The new model's dimension")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Memories embedded per request")] = 256,
    since: Annotated[
        str | None, typer.Option(help="Only memories written since this ISO date/time")
    ] = None,
    allow_dimension_change: Annotated[
        bool,
        typer.Option(
            "--allow-dimension-change", help="SQLite only, with the server stopped: a new dimension"
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Re-embed every memory with another model, then record that model in the store.

    Online: the server keeps serving meanwhile (searching with its own model); restart it
    with the new model's settings afterwards. Unset options keep the configured values
    (MNEMO_EMBEDDER__*).
    """
    settings = settings_of(data_dir)
    job = ReembedJob(batch, _moment(since) if since else None, allow_dimension_change)
    config = settings.embedder.model_copy(
        update={
            "provider": provider.value if provider else settings.embedder.provider,
            "model": model,
            "base_url": base_url or settings.embedder.base_url,
            "api_key": SecretStr(api_key) if api_key else settings.embedder.api_key,
            "dimension": dimension or settings.embedder.dimension,
        }
    )
    target = _embedder(settings.model_copy(update={"embedder": config}))
    started = utcnow()
    count = run(_reembed(settings, target, job), "interrupted: run it again to finish")
    _explain(config.provider, target, count, started)


def _embedder(settings: Settings) -> Embedder:
    """The new model's embedder (settings.embedder describes it)."""
    try:
        target = build_embedder(settings)
    except ConfigurationError as exc:
        fail(exc.message)
    if target.model_name != settings.embedder.model:
        fail(
            f"the local provider has one model, {target.model_name}; "
            f"--model {settings.embedder.model} is not it"
        )
    return target


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since takes an ISO date/time such as 2025-06-01T12:00:00+00:00, not {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _reembed(settings: Settings, target: Embedder, job: ReembedJob) -> int:
    store = build_store(settings, target.dimension)
    await store.open()
    try:
        await _check_dimension(settings, store, target, job)
        started = utcnow()
        count = await _pass(store, target, job.batch, job.since, "re-embedding")
        for _ in range(CATCH_UP_PASSES):
            mark = utcnow()
            written = await _pass(store, target, job.batch, started, "catching up")
            started = mark
            if not written:
                break
            count += written
        await store.pin_embedding_model(target.model_name, target.dimension)
        return count
    finally:
        await store.close()
        close = getattr(target, "close", None)
        if callable(close):
            close()


async def _check_dimension(
    settings: Settings, store: Store, target: Embedder, job: ReembedJob
) -> None:
    """Refuse a new dimension on PostgreSQL (the column has one), and on SQLite unless the
    operator confirms the server is stopped (a running server cannot search such vectors)."""
    sample = await store.list_memories(_filter(None), utcnow(), limit=1, offset=0)
    if not sample.items:
        return
    first = sample.items[0]
    stored = len((await store.get_vectors(first.namespace, [first.id]))[first.id])
    if stored == target.dimension:
        return
    change = f"{stored} to {target.dimension} dimensions"
    if settings.resolved_database_url():
        raise ConfigurationError(
            f"{target.model_name} would change the vectors from {change}; on PostgreSQL "
            "reembed keeps the dimension. Export, then import into a new database configured "
            "with the new model"
        )
    if not job.allow_dimension_change:
        raise ConfigurationError(
            f"{target.model_name} would change the vectors from {change}; a running server "
            "cannot search those. Stop it, then pass --allow-dimension-change"
        )


async def _pass(
    store: Store, target: Embedder, batch: int, since: datetime | None, label: str
) -> int:
    keys = await _keys(store, since)
    with progress_bar() as bar:
        task = bar.add_task(label, total=len(keys))
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            await _rewrite(store, target, chunk)
            bar.advance(task, len(chunk))
    return len(keys)


async def _keys(store: Store, since: datetime | None) -> list[Key]:
    """Every memory's key, listed before any is rewritten (vectors only change in place, so
    the listing order holds; the catch-up passes take what the server adds meanwhile)."""
    keys: dict[Key, None] = {}
    offset = 0
    while True:
        page = await store.list_memories(_filter(since), utcnow(), KEY_PAGE, offset)
        if not page.items:
            return list(keys)
        keys.update(((m.namespace, m.id), None) for m in page.items)
        offset += len(page.items)


async def _rewrite(store: Store, target: Embedder, keys: list[Key]) -> None:
    by_namespace: dict[str, list[str]] = {}
    for ns, memory_id in keys:
        by_namespace.setdefault(ns, []).append(memory_id)
    memories = [m for ns, ids in by_namespace.items() for m in await store.get_memories(ns, ids)]
    if not memories:
        return
    vectors = await anyio.to_thread.run_sync(target.embed, [m.text for m in memories])
    await store.replace_vectors(
        [
            VectorUpdate(m.namespace, m.id, m.content_hash, v)
            for m, v in zip(memories, vectors, strict=True)
        ]
    )


def _filter(since: datetime | None) -> MemoryFilter:
    return MemoryFilter(
        updated_at=NumberFilter(gte=since.timestamp()) if since else None,
        include_superseded=True,
        include_expired=True,
    )


def _explain(provider: str, target: Embedder, count: int, started: datetime) -> None:
    err.print(
        f"re-embedded {count} memories with {target.model_name} ({target.dimension} dims); "
        "the store now expects this model.",
        highlight=False,
    )
    settings = [f"MNEMO_EMBEDDER__PROVIDER={provider}"]
    if provider == "openai":
        settings += [
            f"MNEMO_EMBEDDER__MODEL={target.model_name}",
            f"MNEMO_EMBEDDER__DIMENSION={target.dimension}",
            "MNEMO_EMBEDDER__BASE_URL=...",
        ]
    console.print(
        "Restart the server and workers with " + " ".join(settings) + ". Then re-embed what "
        "the old server wrote until its restart: mnemo reembed --model "
        f"{target.model_name} --since {started.isoformat(timespec='seconds')}",
        highlight=False,
        markup=False,
    )
