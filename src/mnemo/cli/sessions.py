"""`mnemo sessions` and `mnemo sessions show ID`: working memory from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mnemo.cli.runtime import DataDir, console, fail, run, settings_of
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.models import Session

sessions_app = typer.Typer(
    help="List sessions, or show one with its messages.", invoke_without_command=True
)

Namespace = Annotated[str | None, typer.Option(help="Namespace (default: MNEMO_DEFAULT_NAMESPACE)")]


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")


@sessions_app.callback()
def list_sessions(
    ctx: typer.Context,
    namespace: Namespace = None,
    user: Annotated[str | None, typer.Option(help="Only this user's sessions")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, most recent first")] = 50,
    data_dir: DataDir = None,
) -> None:
    """List the sessions of a namespace, most recently updated first."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_of(data_dir)
    ns = namespace or settings.default_namespace
    total, found = run(_list(settings, ns, user, limit))
    table = Table(
        "session", "user", "messages", "tokens", "updated",
        title=f"{total} session(s) in namespace {ns}",
    )  # fmt: skip
    for s in found:
        table.add_row(
            s.session_id, s.user_id or "", str(len(s.messages)), str(s.tokens),
            s.updated_at.isoformat(timespec="seconds"),
        )  # fmt: skip
    console.print(table)


async def _list(
    settings: Settings, namespace: str, user: str | None, limit: int
) -> tuple[int, list[Session]]:
    async with opened_store(settings) as store:
        page = await store.list_sessions(namespace, user, limit, 0)
        found = [await store.get_session(namespace, session_id) for session_id in page.items]
    return page.total, [s for s in found if s is not None]


@sessions_app.command("show")
def show(
    session_id: Annotated[str, typer.Argument(help="The session id")],
    namespace: Namespace = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the session as JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """Show one session: its summary (context), data and messages."""
    settings = settings_of(data_dir)
    ns = namespace or settings.default_namespace
    session = run(_get(settings, ns, session_id))
    if session is None:
        fail(f"no session {session_id} in namespace {ns}")
    if as_json:
        print(session.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{session.session_id}[/] namespace {session.namespace} "
        f"user {session.user_id or '-'} · {len(session.messages)} message(s), "
        f"{session.tokens} tokens · updated {session.updated_at.isoformat(timespec='seconds')}",
        highlight=False,
    )
    if session.context:
        console.print(f"[bold]context:[/] {session.context}", highlight=False)
    if session.data:
        console.print(f"[bold]data:[/] {session.data}", highlight=False)
    table = Table("at", "role", "content", "extracted")
    for m in session.messages:
        table.add_row(
            m.created_at.isoformat(timespec="seconds"), m.role, m.content,
            "yes" if m.extracted else "",
        )  # fmt: skip
    console.print(table)


async def _get(settings: Settings, namespace: str, session_id: str) -> Session | None:
    async with opened_store(settings) as store:
        return await store.get_session(namespace, session_id)
