"""mnemo's CLI: serve, worker, mcp, migrate, keys, and the data commands registered below."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mnemo.auth.issuing import issue_key
from mnemo.cli import exporting, importing, memories, reembed, sessions, stats
from mnemo.cli.benchmarks import bench_app
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.errors import ConfigurationError, MnemoError
from mnemo.models import ApiKey, Scope, utcnow

app = typer.Typer(help="mnemo: a long-term memory server for LLM agents.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
console = Console()
err = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)  # type: ignore[arg-type]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (env HOST/MNEMO_HOST)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (env PORT/MNEMO_PORT)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (env MNEMO_DATA_DIR)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes sharing the port (env MNEMO_WORKERS)", min=1)
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Start the HTTP server."""
    from mnemo.cli.serving import serve as run_server

    settings = _settings(host=host, port=port, data_dir=data_dir, workers=workers)
    try:
        asyncio.run(_check_bind(settings))
        run_server(settings, log_level)
    except MnemoError as exc:
        _fail(exc.message)


async def _check_bind(settings: Settings) -> None:
    """Refuse to listen beyond loopback unless some key other than the dev key exists."""
    if settings.is_loopback or settings.api_key is not None:
        return
    async with opened_store(settings) as store:
        active = [k for k in await store.list_api_keys(None) if k.revoked_at is None]
    if not active:
        raise ConfigurationError(
            f"refusing to listen on {settings.host}: the development key only works on "
            "loopback. Set API_KEY (or MNEMO_API_KEY), or create a key with "
            "`mnemo keys create --namespace NAME` first."
        )


@app.command()
def migrate(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Apply pending database migrations (also done at start)."""

    async def run() -> None:
        async with opened_store(_settings(data_dir=data_dir)):
            pass

    asyncio.run(run())
    console.print("migrations applied")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks run at the same time")] = 1,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (env MNEMO_DATA_DIR)")] = None,
    log_level: Annotated[str, typer.Option(help="Log level")] = "info",
) -> None:
    """Run background workers only (scale-out); SIGTERM stops them gracefully."""
    import logging

    from mnemo.cli.worker import run_workers

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(run_workers(_settings(data_dir=data_dir), concurrency))
    except MnemoError as exc:
        _fail(exc.message)


@app.command("mcp")
def mcp_stdio(
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="MNEMO_MCP_API_KEY",
            help="Key the tools act with; without one, the dev key where it works (docs/mcp.md)",
        ),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (env MNEMO_DATA_DIR)")] = None,
    log_level: Annotated[str, typer.Option(help="Log level (logs go to stderr)")] = "warning",
) -> None:
    """Serve the memory tools over MCP on stdio, for Claude Desktop, Cursor and the like."""
    import logging

    from mnemo.mcp.server import serve_stdio

    logging.basicConfig(level=log_level.upper(), stream=sys.stderr)  # stdout carries MCP
    try:
        asyncio.run(serve_stdio(_settings(data_dir=data_dir), api_key))
    except MnemoError as exc:
        _fail(exc.message)


@keys_app.command("create")
def keys_create(
    namespace: Annotated[str, typer.Option(help="Namespace the key is bound to")],
    user: Annotated[str | None, typer.Option(help="Bind the key to one user too")] = None,
    scopes: Annotated[str, typer.Option(help="Comma-separated: read,write,admin")] = "read,write",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    tier: Annotated[str, typer.Option(help="Rate-limit tier (MNEMO_RATE_LIMITS__TIERS)")] = (
        "standard"
    ),
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    settings = _settings(data_dir=data_dir)
    if tier != "standard" and tier not in settings.rate_limits.tiers:
        _fail(f"unknown tier {tier!r}; configured: {', '.join(sorted(settings.rate_limits.tiers))}")
    try:
        scope_list = [Scope(s.strip()) for s in scopes.split(",") if s.strip()]
    except ValueError:
        _fail(f"unknown scope in {scopes!r}; use read, write, admin")

    async def run() -> tuple[str, ApiKey]:
        async with opened_store(settings) as store:
            return await issue_key(
                store, settings.limits.max_keys_per_namespace, namespace=namespace,
                user_id=user, scopes=scope_list, name=name, rate_tier=tier,
            )  # fmt: skip

    try:
        plaintext, record = asyncio.run(run())
    except MnemoError as exc:
        _fail(exc.message)
    if sys.stdout.isatty():
        console.print(
            f"key id {record.id} (namespace {namespace}); store it now, it is not shown again:"
        )
    print(plaintext)


@keys_app.command("list")
def keys_list(
    namespace: Annotated[str | None, typer.Option()] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """List keys (prefixes only, never the secrets)."""

    async def run() -> None:
        async with opened_store(_settings(data_dir=data_dir)) as store:
            found = await store.list_api_keys(namespace)
        table = Table("id", "prefix", "namespace", "user", "scopes", "tier", "created", "revoked")
        for k in found:
            table.add_row(
                k.id, k.prefix + "…", k.namespace or "*", k.user_id or "",
                ",".join(s.value for s in k.scopes), k.rate_tier,
                k.created_at.isoformat(timespec="seconds"),
                k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
            )  # fmt: skip
        console.print(table)

    asyncio.run(run())


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Revoke a key by id; it stops working at once."""

    async def run() -> bool:
        async with opened_store(_settings(data_dir=data_dir)) as store:
            return await store.revoke_api_key(key_id, utcnow())

    if not asyncio.run(run()):
        _fail(f"no active key with id {key_id}")
    console.print(f"revoked {key_id}")


# The data commands, each module registering its own (listed after the commands above).
memories.register(app)  # add, search
sessions.register(app)
stats.register(app)
exporting.register(app)
importing.register(app)
reembed.register(app)


if __name__ == "__main__":
    app()
