"""Forgetting policies and compaction over HTTP: the dry run is exactly the real run."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import key_client

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
