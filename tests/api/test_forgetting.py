"""Forgetting policies and compaction over HTTP: the dry run is exactly the real run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mnemo.app import create_app
from mnemo.config import ForgettingConfig, JobsConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from tests.conftest import key_client
from tests.helpers.servers import serve_in_thread

OLD, RECENT = "2020-01-01T00:00:00Z", None


def seed(client: httpx.Client) -> None:
    memories = [
        {
            "id": f"old-{i}",
            "text": f"old note {i} about topic {i}",
            "created_at": OLD,
            "user_id": "f",
        }
        for i in range(5)
    ] + [
        {"id": f"new-{i}", "text": f"fresh note {i} on subject {i}", "user_id": "f"}
        for i in range(3)
    ]
    memories[0]["pinned"] = True
    assert client.post("/v1/long-term-memory/", json={"memories": memories}).status_code == 200


def test_dry_run_lists_exactly_what_the_real_run_deletes(client: httpx.Client) -> None:
    seed(client)
    body = {"policy": {"max_age_days": 30}, "user_id": "f", "pinned_ids": ["old-1"]}
    dry = client.post("/v1/long-term-memory/forget", json=body).json()
    assert dry["dry_run"] is True and dry["scanned"] == 8
    assert sorted(dry["deleted_ids"]) == ["old-2", "old-3", "old-4"]  # old-0 pinned, old-1 spared
    assert client.get("/v1/long-term-memory/old-2").status_code == 200  # nothing deleted yet
    real = client.post("/v1/long-term-memory/forget", json={**body, "dry_run": False}).json()
    assert real["dry_run"] is False and sorted(real["deleted_ids"]) == sorted(dry["deleted_ids"])
    assert client.get("/v1/long-term-memory/old-2").status_code == 404
    events = client.get("/v1/long-term-memory/old-2/history").json()["events"]
    assert events[-1]["event"] == "DELETE" and events[-1]["actor"] == "forgetting"


def test_budget_keeps_the_most_recent(client: httpx.Client) -> None:
    seed(client)
    body = {"policy": {"budget": 3}, "user_id": "f", "dry_run": False}
    result = client.post("/v1/long-term-memory/forget", json=body).json()
    assert result["deleted"] == 4  # 7 unpinned, keep 3
    left = client.post("/v1/long-term-memory/search", json={"text": "", "limit": 20}).json()
    assert {m["id"] for m in left["memories"]} == {"old-0", "new-0", "new-1", "new-2"}


def test_forgetting_stays_inside_the_key_binding(
    server_url: str, make_key: Callable[..., str], client: httpx.Client
) -> None:
    seed(client)  # namespace "default"
    with key_client(server_url, make_key("elsewhere")) as other:
        body = {"policy": {"max_age_days": 1}, "dry_run": False}
        assert other.post("/v1/long-term-memory/forget", json=body).json()["deleted"] == 0
        denied = other.post("/v1/long-term-memory/forget", json={**body, "namespace": "default"})
        assert denied.status_code == 403
    assert client.get("/v1/long-term-memory/old-3").status_code == 200


def test_compact_merges_near_duplicates(client: httpx.Client) -> None:
    twins = [{"id": "c1", "text": "The user prefers tea over coffee", "user_id": "c", "extracted_from": ["m1"]},
             {"id": "c2", "text": "The user prefers tea over coffee.", "user_id": "c", "extracted_from": ["m2"]},
             {"id": "c3", "text": "The user has a cat named Tom", "user_id": "c"}]  # fmt: skip
    client.post("/v1/long-term-memory/", json={"memories": twins, "deduplicate": False})
    ack = client.post("/v1/long-term-memory/compact", params={"user_id": "c"}).json()
    assert ack["status"] == "ok, merged 1 memories, 2 memories remaining"
    kept = client.get("/v1/long-term-memory/c1").json()
    assert kept["status"] == "active" and kept["extracted_from"] == ["m1", "m2"]
    merged = client.get("/v1/long-term-memory/c2").json()
    assert merged["status"] == "superseded" and merged["superseded_by"] == "c1"
    assert client.get("/v1/long-term-memory/c2/history").json()["events"][-1]["event"] == "MERGE"


def test_periodic_forgetting_runs_as_a_durable_task(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    config = ForgettingConfig(enabled=True, every_minutes=1 / 60, max_age_days=30)
    settings = Settings(data_dir=tmp_path, forgetting=config, jobs=JobsConfig(poll_interval_s=0.05))
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": "dev-key-12345"}, timeout=30) as client,
    ):
        seed(client)
        deadline = time.monotonic() + 30
        while client.get("/v1/long-term-memory/old-3").status_code == 200:
            assert time.monotonic() < deadline, "the periodic pass never ran"
            time.sleep(0.1)
        assert client.get("/v1/long-term-memory/old-0").status_code == 200  # pinned
        assert client.get("/v1/long-term-memory/new-1").status_code == 200
        done = client.get("/v1/tasks", params={"state": "succeeded", "namespace": "_system"}).json()
        assert any(t["type"] == "forget.periodic" for t in done["tasks"]), done
