"""What the data commands share: settings, the operator principal, open services, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mnemo.config import Settings
from mnemo.errors import EmbedderUnavailableError as RemoteEmbedderError
from mnemo.errors import MnemoError
from mnemo.models import Principal, Scope
from mnemo.wiring import Services, build_services

T = TypeVar("T")

DataDir = Annotated[Path | None, typer.Option(help="Data folder (env MNEMO_DATA_DIR)")]

console = Console()
err = Console(stderr=True)

# The CLI acts for the operator: every namespace, every scope, like API_KEY does.
OPERATOR = Principal(
    key_id="cli", namespace=None, user_id=None, scopes=frozenset(Scope), rate_tier="operator"
)


def settings_of(data_dir: Path | None) -> Settings:
    """The server's settings (same environment), with --data-dir when given."""
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def run(work: Coroutine[Any, Any, T], interrupted: str = "interrupted") -> T:
    """Run a command's coroutine; mnemo's own errors end it with their message, exit code 2;
    Ctrl-C with `interrupted`, exit code 130."""
    try:
        return asyncio.run(work)
    except MnemoError as exc:
        fail(exc.message)
    except RemoteEmbedderError as exc:
        fail(f"embedding server: {exc}")
    except KeyboardInterrupt:
        fail(interrupted, code=130)


def configured_model(settings: Settings) -> tuple[str, int]:
    """The embedding model and dimension the settings name, without loading the model."""
    if settings.embedder.provider == "local":
        from mnemo.embedders.local import MODEL_NAME

        return MODEL_NAME, 384
    return settings.embedder.model, settings.embedder.dimension


def store_location(settings: Settings) -> str:
    """Where the configured store is (no password): the SQLite file or host:port/db."""
    url = settings.resolved_database_url()
    if not url:
        return str(settings.sqlite_path.resolve())
    from mnemo.stores.postgres_db import describe_target, parse_url

    return "postgresql://" + describe_target(parse_url(url))


@asynccontextmanager
async def opened_services(settings: Settings) -> AsyncIterator[Services]:
    """The app's services on the configured store, without background workers: tasks the
    commands queue (webhook deliveries) are run by the server or `mnemo worker`."""
    jobs = settings.jobs.model_copy(update={"workers_in_process": 0})
    services = build_services(settings.model_copy(update={"jobs": jobs}))
    await services.store.open()
    try:
        embedder = services.embedder
        await services.store.ensure_embedding_model(embedder.model_name, embedder.dimension)
        await services.jobs.start()
        yield services
    finally:
        await services.stop()


def progress_bar() -> Progress:
    """A progress bar on stderr, so stdout stays clean for data."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )
