"""Offline extraction over HTTP: messages/s with extraction on, duplicate rate, fact P/R."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.servers import serve_in_subprocess  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "conversation_40.json"
DURABLE = {"memory_type": {"any": ["semantic", "episodic", "procedural"]}}


def sessions_of(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        grouped.setdefault(m["session"], []).append(m)
    return grouped


def ingest_user(client: httpx.Client, user: str, messages: list[dict[str, Any]]) -> None:
    for session, turns in sessions_of(messages).items():
        sid = f"{user}-{session}"
        body = {"user_id": user, "messages": [
            {"id": f"{user}-{t['id']}", "role": t["role"], "content": t["content"],
             "created_at": t["created_at"]} for t in turns]}  # fmt: skip
        client.put(f"/v1/working-memory/{sid}", json=body).raise_for_status()
        client.post("/v1/long-term-memory/extract", json={"session_id": sid}).raise_for_status()


def memories_of(client: httpx.Client, user: str) -> list[dict[str, Any]]:
    body = {
        "text": "",
        "limit": 100,
        "user_id": {"eq": user},
        "include_superseded": True,
        **DURABLE,
    }
    result: list[dict[str, Any]] = client.post("/v1/long-term-memory/search", json=body).json()[
        "memories"
    ]
    return result


def score(memories: list[dict[str, Any]], labels: list[dict[str, Any]]) -> dict[str, float]:
    extracted = {m["text"].lower() for m in memories}
    wanted = {f["text"].lower() for f in labels}
    active = [m["text"].lower() for m in memories if m["status"] == "active"]
    hits = len(extracted & wanted)
    return {
        "precision": hits / len(extracted) if extracted else 0.0,
        "recall": hits / len(wanted),
        "duplicate_rate": 1 - len(set(active)) / len(active) if active else 0.0,
        "active": len(active),
        "superseded": sum(m["status"] == "superseded" for m in memories),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=25, help="copies of the 40-turn conversation")
    args = parser.parse_args()
    fixture = json.loads(FIXTURE.read_text())
    headers = {"X-API-Key": "dev-key-12345"}
    with (
        tempfile.TemporaryDirectory() as data,
        serve_in_subprocess(Path(data)) as url,
        httpx.Client(base_url=url, headers=headers, timeout=120) as c,
    ):
        started = time.perf_counter()
        for i in range(args.users):
            ingest_user(c, f"bench-{i}", fixture["messages"])
        elapsed = time.perf_counter() - started
        scores = [
            score(memories_of(c, f"bench-{i}"), fixture["labels"]["facts"])
            for i in range(args.users)
        ]
    n = len(fixture["messages"]) * args.users
    mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
    print(f"Offline extraction through HTTP: {args.users} users x {len(fixture['messages'])} turns")
    columns = ("messages", "seconds", "msgs/s", "precision", "recall", "dup rate", "active")
    print("".join(f"{c:>11}" for c in columns) + f"{'superseded':>12}")
    print(
        f"{n:>11}{elapsed:>11.1f}{n / elapsed:>11.1f}{mean['precision']:>11.3f}"
        f"{mean['recall']:>11.3f}{mean['duplicate_rate']:>11.3f}{mean['active']:>11.1f}"
        f"{mean['superseded']:>12.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
