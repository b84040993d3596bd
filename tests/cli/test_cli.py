"""The everyday commands, run as a user runs them: add, search, sessions, stats, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mnemo.cli.runtime import OPERATOR
from mnemo.config import JobsConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from mnemo.services.working_memory import MessageDraft, WorkingMemoryUpdate
from mnemo.wiring import build_services
from tests.cli.conftest import Mnemo


def put_session(
    data_dir: Path, embedder: LocalEmbedder, namespace: str, session_id: str, user: str
) -> None:
    """A conversation written by the service, as `PUT /v1/working-memory/{id}` does."""

    async def run() -> None:
        settings = Settings(data_dir=data_dir, jobs=JobsConfig(workers_in_process=0))
        services = build_services(settings, embedder)
        await services.start()
        try:
            update = WorkingMemoryUpdate(
                messages=[
                    MessageDraft("user", "I am flying to Lisbon on 3 June"),
                    MessageDraft("assistant", "Noted, enjoy Lisbon!"),
                ],
                user_id=user,
                namespace=namespace,
            )
            await services.sessions.put(OPERATOR, session_id, update)
        finally:
            await services.stop()

    asyncio.run(run())


def test_add_then_search_as_a_table_and_as_json(mnemo: Mnemo) -> None:
    seats = mnemo(
        "add", "Alice prefers window seats on long flights", "--user", "alice",
        "--namespace", "acme", "--topics", "travel, seats",
    ).stdout.strip()  # fmt: skip
    home = mnemo(
        "add", "Alice moved to Lisbon in May", "--user", "alice", "--namespace", "acme",
        "--type", "episodic",
    ).stdout.strip()  # fmt: skip
    peanuts = mnemo("add", "Bob is allergic to peanuts", "--user", "bob").stdout.strip()

    table = mnemo("search", "window seat").stdout
    assert seats in table and "Alice prefers window seats on long flights" in table
    assert "3 of 3 match(es)" in table and "episodic" in table

    found = mnemo.json("search", "where does Alice live now?", "--namespace", "acme")
    assert isinstance(found, dict) and found["total"] == 2
    first, second = found["memories"]
    assert (first["id"], first["memory_type"], first["namespace"]) == (home, "episodic", "acme")
    assert (second["id"], second["topics"]) == (seats, ["travel", "seats"])
    assert mnemo.search_ids("food allergy", "--user", "bob") == [peanuts]
    assert len(mnemo.search_ids("Alice", "--limit", "1")) == 1


def test_add_refuses_a_duplicate_and_an_unknown_type(mnemo: Mnemo) -> None:
    mnemo("add", "Carol speaks Portuguese", "--user", "carol")
    again = mnemo("add", "carol speaks  portuguese", "--user", "carol")
    assert again.stdout == "" and "not added" in again.stderr
    assert "message" in mnemo("add", "x", "--type", "message", expect=2).stderr
    assert len(mnemo.search_ids("Portuguese")) == 1


def test_sessions_lists_and_shows_a_conversation(mnemo: Mnemo, embedder: LocalEmbedder) -> None:
    put_session(mnemo.data_dir, embedder, "acme", "trip-1", "alice")
    listed = mnemo("sessions", "--namespace", "acme").stdout
    assert "1 session(s) in namespace acme" in listed and "trip-1" in listed and "alice" in listed
    assert "0 session(s) in namespace default" in mnemo("sessions").stdout
    assert "trip-1" not in mnemo("sessions", "--namespace", "acme", "--user", "bob").stdout

    shown = mnemo("sessions", "show", "trip-1", "--namespace", "acme").stdout
    assert "I am flying to Lisbon on 3 June" in shown and "Noted, enjoy Lisbon!" in shown
    session = mnemo.json("sessions", "show", "trip-1", "--namespace", "acme")
    assert isinstance(session, dict) and session["user_id"] == "alice"
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    missing = mnemo("sessions", "show", "trip-1", expect=2)  # default namespace: not there
    assert "no session trip-1 in namespace default" in missing.stderr


def test_stats_counts_memories_sessions_and_tasks(mnemo: Mnemo, embedder: LocalEmbedder) -> None:
    mnemo("add", "Alice prefers window seats", "--user", "alice", "--namespace", "acme")
    mnemo("add", "To deploy, run make release", "--namespace", "acme", "--type", "procedural")
    mnemo("add", "Bob is allergic to peanuts", "--user", "bob")
    put_session(mnemo.data_dir, embedder, "acme", "trip-1", "alice")  # schedules extraction

    everything = mnemo.json("stats")
    assert isinstance(everything, dict) and everything["namespace"] is None
    memories = everything["memories"]
    assert memories["semantic"] == {"stored": 2, "searchable": 2}
    assert memories["procedural"]["stored"] == 1 and memories["episodic"]["stored"] == 0
    assert memories["message"]["stored"] == 2  # every turn is searchable
    assert everything["sessions"] == 1
    assert everything["tasks"]["pending"] == 1 and everything["tasks"]["dead"] == 0

    default = mnemo.json("stats", "--namespace", "default")
    assert isinstance(default, dict)
    assert default["memories"]["semantic"]["stored"] == 1 and default["sessions"] == 0
    assert default["tasks"]["pending"] == 0
    table = mnemo("stats", "--namespace", "acme").stdout
    assert "namespace acme" in table and "procedural" in table and "sessions: 1" in table


def test_keys_create_takes_a_rate_tier(mnemo: Mnemo) -> None:
    key = mnemo("keys", "create", "--namespace", "acme", "--tier", "premium").stdout.strip()
    assert key.startswith("mnemo_")
    listed = mnemo("keys", "list").stdout
    assert "premium" in listed and "acme" in listed
    refused = mnemo("keys", "create", "--namespace", "acme", "--tier", "gold", expect=2)
    assert "unknown tier 'gold'" in refused.stderr


def test_bench_locomo_runs_the_harness_of_the_checkout(mnemo: Mnemo) -> None:
    done = mnemo("bench", "locomo", "--help")
    assert "LoCoMo evidence-retrieval benchmark" in done.stdout
    assert "--data" in done.stdout and "--split {dev,test,all}" in done.stdout
