"""Seed 000's `python migrations/run_migration.py`: apply migrations, as `mnemo migrate` does."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

try:
    import mnemo  # noqa: F401 - only checks that mnemo is importable
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.console import Console

from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.errors import MnemoError
from mnemo.stores.migrations import load_migrations
from mnemo.stores.postgres import PostgresStore

console = Console(highlight=False, soft_wrap=True)


async def migrate(settings: Settings) -> None:
    """Open the configured store (which migrates it) and say what was applied."""
    if settings.resolved_database_url() is None:
        console.print(
            "No PostgreSQL configured (set MNEMO_DATABASE_URL, or POSTGRES_HOST, POSTGRES_PORT, "
            f"POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD): migrating the embedded SQLite "
            f"store at {settings.sqlite_path}"
        )
    async with opened_store(settings) as store:
        if not isinstance(store, PostgresStore):
            console.print("SQLite schema is up to date")
            return
        where = f"PostgreSQL at {store.db.target}"
        for migration in store.applied_migrations:
            console.print(f"{where}: applied {migration.version:04d}_{migration.name}")
        latest = max(m.version for m in load_migrations("postgres"))
        if not store.applied_migrations:
            console.print(f"{where}: schema already at version {latest:04d}, nothing to apply")
        else:
            console.print(f"{where}: schema now at version {latest:04d}")


def main() -> int:
    try:
        asyncio.run(migrate(Settings()))
    except MnemoError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {exc.message}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
