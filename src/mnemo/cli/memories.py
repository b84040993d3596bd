"""`mnemo add` and `mnemo search`: long-term memories from the terminal."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from mnemo.api.convert import check_text, result_of, search_query
from mnemo.api.schemas import SearchRequestIn
from mnemo.cli.runtime import OPERATOR, DataDir, console, err, opened_services, run, settings_of
from mnemo.config import Settings
from mnemo.filters import TagFilter
from mnemo.models import MemoryType, utcnow
from mnemo.retrieval.pipeline import Retriever, SearchResult
from mnemo.services.memories import CreateOutcome, MemoryDraft


class LongTermType(StrEnum):
    """The memory types a person adds by hand (`message` memories come from sessions)."""

    SEMANTIC = "semantic"
    EPISODIC = "episodic"
    PROCEDURAL = "procedural"


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("search")(search)


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def add(
    text: Annotated[str, typer.Argument(help="The memory, as a self-contained sentence")],
    user: Annotated[str | None, typer.Option(help="Owner user id")] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Namespace (default: MNEMO_DEFAULT_NAMESPACE)")
    ] = None,
    memory_type: Annotated[
        LongTermType, typer.Option("--type", help="Kind of memory")
    ] = LongTermType.SEMANTIC,
    topics: Annotated[str | None, typer.Option(help="Comma-separated topics")] = None,
    entities: Annotated[str | None, typer.Option(help="Comma-separated entities")] = None,
    session: Annotated[str | None, typer.Option(help="Session id it came from")] = None,
    data_dir: DataDir = None,
) -> None:
    """Store one long-term memory and print its id."""
    settings = settings_of(data_dir)
    draft = MemoryDraft(
        text=text, namespace=namespace, user_id=user, session_id=session,
        memory_type=MemoryType(memory_type.value), topics=split_list(topics),
        entities=split_list(entities),
    )  # fmt: skip
    outcome = run(_add(settings, draft))
    if not outcome.created:
        err.print("not added: this user already has a memory with the same text")
        return
    print(outcome.created[0].id)


async def _add(settings: Settings, draft: MemoryDraft) -> CreateOutcome:
    check_text(draft.text, settings.limits, "memory text")
    async with opened_services(settings) as services:
        return await services.memories.create(OPERATOR, [draft])


def search(
    query: Annotated[str, typer.Argument(help="What to look for (meaning and keywords)")],
    user: Annotated[str | None, typer.Option(help="Only this user's memories")] = None,
    namespace: Annotated[str | None, typer.Option(help="Only this namespace")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many results")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's JSON instead of a table")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Hybrid search over long-term memories (every namespace unless --namespace).

    A search from the command line is not recorded as an access to the memories it finds.
    """
    settings = settings_of(data_dir)
    body = SearchRequestIn(
        text=query,
        namespace=TagFilter(eq=namespace) if namespace else None,
        user_id=TagFilter(eq=user) if user else None,
        limit=limit,
    )
    result = run(_search(settings, body))
    if as_json:
        memories = [result_of(s, explain=False).model_dump(mode="json") for s in result.items]
        print(json.dumps({"memories": memories, "total": result.total}, indent=2))
        return
    table = Table(title=f"{len(result.items)} of {result.total} match(es)")
    table.add_column("score", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("text", ratio=1)
    table.add_column("id", no_wrap=True, min_width=26)
    table.add_column("created", no_wrap=True)
    for scored in result.items:
        m = scored.memory
        table.add_row(
            f"{scored.score:.3f}", m.memory_type.value, m.text, m.id,
            m.created_at.strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
    console.print(table)


async def _search(settings: Settings, body: SearchRequestIn) -> SearchResult:
    query = search_query(body, settings.limits, settings.retrieval)
    async with opened_services(settings) as services:
        retriever = Retriever(services.store, services.embedder, settings.retrieval.rerank_window)
        return await retriever.search(query, utcnow())
