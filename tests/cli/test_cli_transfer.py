"""`mnemo export` and `mnemo import`: round trips, mem0 and seed 001 files, resumption."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.embedders.local import LocalEmbedder
from mnemo.models import EventKind, Memory, MemoryEvent, MemoryStatus, MemoryType
from mnemo.stores.base import VectorRecord
from tests.cli.conftest import MNEMO, Mnemo

MakeMnemo = Callable[[str], Mnemo]


def write_memories(data_dir: Path, embedder: LocalEmbedder, memories: list[Memory]) -> None:
    async def run() -> None:
        async with opened_store(Settings(data_dir=data_dir)) as store:
            await store.ensure_embedding_model(embedder.model_name, embedder.dimension)
            vectors = embedder.embed([m.text for m in memories])
            events = [
                MemoryEvent(memory_id=m.id, namespace=m.namespace, event=EventKind.ADD,
                            new_text=m.text, actor="test")
                for m in memories
            ]  # fmt: skip
            old = memories[0]
            events.append(
                MemoryEvent(memory_id=old.id, namespace=old.namespace, event=EventKind.SUPERSEDE,
                            old_text=old.text, details={"superseded_by": "home-2"})
            )  # fmt: skip
            records = [VectorRecord(m, v) for m, v in zip(memories, vectors, strict=True)]
            await store.upsert_memories(records, events)

    asyncio.run(run())


def a_supersede_chain() -> list[Memory]:
    at = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
    return [
        Memory(id="home-1", namespace="acme", user_id="alice", text="Alice lives in Paris",
               status=MemoryStatus.SUPERSEDED, superseded_by="home-2", created_at=at,
               updated_at=at, last_accessed_at=at).with_hash(),
        Memory(id="home-2", namespace="acme", user_id="alice", text="Alice lives in Berlin",
               supersedes="home-1", extracted_from=["msg-9"], topics=["home"],
               entities=["Berlin"], metadata={"source": "chat", "n": 2}, importance=0.8,
               pinned=True, event_date=at, access_count=4).with_hash(),
        Memory(id="deploy", namespace="ops", text="To deploy, run make release",
               memory_type=MemoryType.PROCEDURAL).with_hash(),
    ]  # fmt: skip


def read_export(path: Path) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    header, *lines = (json.loads(line) for line in path.read_text().splitlines())
    return header, {line["id"]: line for line in lines}


def test_export_then_import_restores_the_same_memories(
    mnemo: Mnemo, make_mnemo: MakeMnemo, embedder: LocalEmbedder, tmp_path: Path
) -> None:
    write_memories(mnemo.data_dir, embedder, a_supersede_chain())
    exported = tmp_path / "all.jsonl"
    assert "exported 3 memories" in mnemo("export", "-o", str(exported), "--with-embeddings").stderr
    header, lines = read_export(exported)
    assert header["format"] == "mnemo-export" and header["version"] == 1
    assert (header["embedding_model"], header["dimension"]) == (embedder.model_name, 384)
    assert datetime.fromisoformat(str(header["exported_at"])).tzinfo is not None
    assert (
        lines["home-1"]["status"] == "superseded" and lines["home-1"]["superseded_by"] == "home-2"
    )
    assert [e["event"] for e in lines["home-1"]["history"]] == ["ADD", "SUPERSEDE"]
    assert len(lines["deploy"]["embedding"]) == 384

    restored = make_mnemo("restored")
    assert "imported 3 memories" in restored("import", str(exported)).stderr
    again = tmp_path / "again.jsonl"
    restored("export", "-o", str(again), "--with-embeddings")
    _, relines = read_export(again)
    assert relines.keys() == lines.keys()
    for memory_id, line in lines.items():
        vector, revector = line.pop("embedding"), relines[memory_id].pop("embedding")
        np.testing.assert_allclose(revector, vector, atol=1e-6)
        assert relines[memory_id] == line  # every field, status, chain and history
    assert restored.search_ids("where does Alice live?", "--namespace", "acme") == ["home-2"]


def test_import_without_embeddings_or_history_embeds_and_records_the_import(
    mnemo: Mnemo, make_mnemo: MakeMnemo, embedder: LocalEmbedder, tmp_path: Path
) -> None:
    write_memories(mnemo.data_dir, embedder, a_supersede_chain())
    exported = tmp_path / "acme.jsonl"
    mnemo("export", "-o", str(exported), "--namespace", "acme", "--no-history")
    _, lines = read_export(exported)
    assert sorted(lines) == ["home-1", "home-2"] and "embedding" not in lines["home-2"]

    other = make_mnemo("other")
    other("import", str(exported), "--namespace", "moved")
    again = tmp_path / "again.jsonl"
    other("export", "-o", str(again), "--with-embeddings")
    _, relines = read_export(again)
    assert {line["namespace"] for line in relines.values()} == {"moved"}
    assert relines["home-2"]["pinned"] is True and relines["home-2"]["access_count"] == 4
    assert [(e["event"], e["actor"]) for e in relines["home-2"]["history"]] == [("ADD", "import")]
    np.testing.assert_allclose(
        relines["home-2"]["embedding"], embedder.embed(["Alice lives in Berlin"])[0], atol=1e-5
    )


def test_import_reads_a_mem0_export(mnemo: Mnemo, tmp_path: Path) -> None:
    results = [
        {"id": "5f1b1c3e-8d1e-4a5e-9a61-2b7c1f0e9d11", "memory": "Prefers vegetarian food",
         "hash": "3c9a", "user_id": "carol", "metadata": {"source": "onboarding"},
         "categories": ["food"], "created_at": "2024-07-20T01:02:03.123456-07:00",
         "updated_at": "2024-07-21T09:00:00-07:00"},
        {"id": "8e2c7a10-1b2d-4c3e-8f90-0a1b2c3d4e5f", "memory": "Is training for a marathon",
         "user_id": "carol", "agent_id": "coach", "run_id": "run-7", "metadata": None,
         "created_at": "2024-08-01T10:00:00Z", "updated_at": None},
    ]  # fmt: skip
    wrapped, bare = tmp_path / "mem0.json", tmp_path / "mem0-list.json"
    wrapped.write_text(json.dumps({"results": results}, indent=2))
    bare.write_text(json.dumps(results[:1]))
    assert "(format mem0)" in mnemo("import", str(wrapped), "--namespace", "m0").stderr
    assert "(format mem0)" in mnemo("import", str(bare), "--namespace", "m0b").stderr

    found = mnemo.json("search", "what does Carol eat?", "--namespace", "m0")
    assert isinstance(found, dict)
    food, run = sorted(found["memories"], key=lambda m: m["text"], reverse=True)
    assert food["id"] == results[0]["id"] and food["user_id"] == "carol"
    assert food["topics"] == ["food"] and food["metadata"] == {"source": "onboarding"}
    assert food["created_at"] == "2024-07-20T08:02:03.123456Z"
    assert (run["agent_id"], run["session_id"]) == ("coach", "run-7")
    assert mnemo.search_ids("vegetarian", "--namespace", "m0b") == [results[0]["id"]]


def test_import_reads_seed001_memory_json_idempotently(mnemo: Mnemo, tmp_path: Path) -> None:
    records = {"memories": [
        {"id": "mem-123", "text": "User prefers direct communication", "memory_type": "semantic",
         "namespace": "default", "topics": ["style"], "created_at": "2025-01-01T00:00:00Z",
         "last_accessed": "2025-02-01T00:00:00Z", "pinned": True, "access_count": 3,
         "memory_hash": "ignored", "discrete_memory_extracted": "t",
         "persisted_at": "2025-01-01T00:00:00Z"},
        {"text": "User is interested in AI and machine learning", "session_id": "session-123",
         "memory_type": "episodic", "created_at": 1735689600},
    ]}  # fmt: skip
    path = tmp_path / "seed001.json"
    path.write_text(json.dumps(records))
    assert "(format seed001)" in mnemo("import", str(path)).stderr
    mnemo("import", str(path), "--restart")  # again, from the start: no duplicates

    counts = mnemo.json("stats")
    assert isinstance(counts, dict)
    assert counts["memories"]["semantic"]["stored"] == 1
    assert counts["memories"]["episodic"]["stored"] == 1
    found = mnemo.json("search", "communication style")
    assert isinstance(found, dict)
    direct = next(m for m in found["memories"] if m["id"] == "mem-123")
    assert direct["pinned"] is True and direct["access_count"] == 3
    ai = next(m for m in found["memories"] if m["id"] != "mem-123")
    assert ai["id"].startswith("imp_") and ai["created_at"] == "2025-01-01T00:00:00Z"


def jsonl(path: Path, count: int, bad: dict[int, str] | None = None) -> None:
    """A headerless mnemo JSONL file of `count` memories; `bad` replaces lines (from 1)."""
    lines = [
        json.dumps({"id": f"r{i}", "namespace": "bulk", "text": f"Reminder number {i}"})
        for i in range(1, count + 1)
    ]
    for number, text in (bad or {}).items():
        lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_bad_lines_are_reported_by_number_and_skipped(mnemo: Mnemo, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    jsonl(path, 6, bad={3: "{not json", 4: json.dumps({"id": "r4", "namespace": "bulk"})})
    done = mnemo("import", str(path), expect=1)
    assert "2 bad line(s)" in done.stderr and "imported 4 memories" in done.stderr
    assert "line 3: not JSON" in done.stderr and "line 4: text: Field required" in done.stderr
    assert "already imported" in mnemo("import", str(path)).stderr
    ids = mnemo.search_ids("Reminder", "--namespace", "bulk", "--limit", "10")
    assert sorted(ids) == ["r1", "r2", "r5", "r6"]


def test_import_resumes_after_its_checkpoint(mnemo: Mnemo, tmp_path: Path) -> None:
    path = tmp_path / "six.jsonl"
    jsonl(path, 6)
    checkpoint = {
        "source": str(path), "target": str((mnemo.data_dir / "mnemo.db").resolve()),
        "size": path.stat().st_size, "format": "mnemo", "namespace": None, "done": 4,
        "imported": 4, "bad": [], "complete": False,
    }  # fmt: skip
    Path(f"{path}.mnemo-import-state").write_text(json.dumps(checkpoint))
    assert "imported 6 memories" in mnemo("import", str(path)).stderr  # 4 before, 2 now
    ids = mnemo.search_ids("Reminder", "--namespace", "bulk", "--limit", "10")
    assert sorted(ids) == ["r5", "r6"]  # lines up to the checkpoint were not read again


def test_an_interrupted_import_completes_on_rerun_without_duplicates(
    mnemo: Mnemo, tmp_path: Path
) -> None:
    path, state = tmp_path / "many.jsonl", Path(f"{tmp_path / 'many.jsonl'}.mnemo-import-state")
    jsonl(path, 600)
    env = {**os.environ, **mnemo.env, "MNEMO_DATA_DIR": str(mnemo.data_dir)}
    proc = subprocess.Popen(
        [str(MNEMO), "import", str(path), "--batch", "3"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (state.exists() and json.loads(state.read_text())["done"] >= 30):
        assert proc.poll() is None and time.monotonic() < deadline, "import ended too soon"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = json.loads(state.read_text())
    assert not interrupted["complete"] and 30 <= interrupted["done"] < 600

    mnemo("import", str(path))
    counts = mnemo.json("stats", "--namespace", "bulk")
    assert isinstance(counts, dict) and counts["memories"]["semantic"]["stored"] == 600
    exported = tmp_path / "out.jsonl"
    mnemo("export", "-o", str(exported))
    _, lines = read_export(exported)
    assert len(lines) == 600
    assert all(len(line["history"]) == 1 for line in lines.values())  # one ADD each
