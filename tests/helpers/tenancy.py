"""Two tenants on one server: the victim's data written through every API, and its fingerprint.

The victim's texts all carry MARKERS, words no other tenant ever sends: a response to another
tenant that contains one has leaked the victim's data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from mnemo.services.webhooks import WEBHOOK_EVENTS

VICTIM_NS = "tenant-b-victim"  # seed 004 wants ids of 10+ characters
VICTIM_USER = "victim-user-01"
SECRET = "QX7SECRET"
MARKERS = (SECRET, "Quixtrella", "Vorbridge", "Kestrelton")
VICTIM_HOOK_SECRET = f"whsec-{SECRET}"
SEED004_SESSION = "victim-sess-004"

_MEMORY_FIELDS = (
    "text", "namespace", "user_id", "session_id", "memory_type", "topics", "entities",
    "metadata", "pinned", "importance", "status", "supersedes", "superseded_by", "updated_at",
    "expires_at", "event_date", "memory_hash", "extracted_from",
)  # fmt: skip  # everything but the access statistics, which the victim's own reads move
_SESSION_FIELDS = ("memories", "data", "context", "user_id", "namespace", "ttl_seconds")


@dataclass(frozen=True)
class Victim:
    """What the victim owns, by id: every id another tenant will try."""

    memory_ids: tuple[str, ...]
    session_ids: tuple[str, ...]  # native, seed 000 and seed 003 sessions alike
    task_ids: tuple[str, ...]
    pattern_ids: tuple[str, ...]
    webhook_id: str


def leaked_markers(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def _ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response


def seed_victim(api: httpx.Client, hook_url: str) -> None:
    """The victim's data, written through the native API and every seed dialect."""
    _ok(api.post("/v1/webhooks", json={
        "url": hook_url, "events": sorted(WEBHOOK_EVENTS), "secret": VICTIM_HOOK_SECRET,
    }), 201)  # fmt: skip
    owned = {"user_id": VICTIM_USER}
    _ok(api.post("/v1/long-term-memory/", json={"deduplicate": False, "memories": [
        {"id": "vic-secret", "text": f"The vault code of Quixtrella is 4711 {SECRET}",
         "topics": ["vault"], "entities": ["Quixtrella"], "session_id": "vic-session", **owned},
        {"id": "vic-tea-1", "text": f"Quixtrella drinks green tea every morning {SECRET}", **owned},
        {"id": "vic-tea-2", "text": f"Quixtrella drinks green tea each morning {SECRET}", **owned},
        {"id": "vic-rule", "text": f"Always greet Quixtrella in French {SECRET}",
         "memory_type": "procedural", **owned},
        {"id": "vic-old", "text": f"Quixtrella visited Vorbridge in 2019 {SECRET}",
         "memory_type": "episodic", "created_at": "2019-06-01T00:00:00Z", **owned},
        {"id": "vic-pinned", "text": f"Quixtrella's locker is number 12 {SECRET}",
         "pinned": True},
    ]}))  # fmt: skip
    turns = [
        ("vic-msg-1", "user", f"I live in Vorbridge. {SECRET}"),
        ("vic-msg-2", "assistant", f"Noted, Quixtrella. {SECRET}"),
        ("vic-msg-3", "user", f"I moved, I live in Kestrelton now. {SECRET}"),
    ]
    _ok(api.put("/v1/working-memory/vic-session", params={"wait": "true"}, json={
        "user_id": VICTIM_USER, "context": f"Quixtrella's plans {SECRET}", "data": {"note": SECRET},
        "messages": [{"id": i, "role": r, "content": c} for i, r, c in turns],
    }))  # fmt: skip
    _seed_dialects(api, hook_url)


def _seed_dialects(api: httpx.Client, hook_url: str) -> None:
    session = _ok(api.post("/sessions", json={"user_id": VICTIM_USER, "session_name": SECRET}), 201)
    _ok(api.post("/chat", json={"message": f"My name is Quixtrella {SECRET}",
                                "session_id": session.json()["session_id"], "user_id": VICTIM_USER}))  # fmt: skip
    _ok(api.post("/v1/memories", json={"user_id": VICTIM_USER, "messages": [
        {"role": "user", "content": f"I prefer tea over coffee, Quixtrella here {SECRET}"}]}))  # fmt: skip
    conversation = _ok(api.post("/v1/conversations", json={
        "title": f"{SECRET} trip", "userId": VICTIM_USER}), 201).json()["id"]  # fmt: skip
    _ok(api.post(f"/v1/conversations/{conversation}/messages", json={
        "role": "user", "content": f"Please always answer Quixtrella in French {SECRET}"}), 201)  # fmt: skip
    owner = {"app_id": VICTIM_NS, "user_id": VICTIM_USER, "session_id": SEED004_SESSION}
    notes = [{"role": "user", "content": f"Quixtrella note {i} {SECRET}"} for i in range(10)]
    _ok(api.post("/api/v1/memories", json={**owner, "messages": notes}), 202)
    _ok(api.post("/api/v1/memory-batcher/messages", json={
        **owner, "session_id": "victim-batch-01", "messages": notes[:3]}))  # fmt: skip
    _ok(api.post("/api/v1/agent/memories", json={**owner, "messages": f"Quixtrella {SECRET}"}), 202)
    _ok(api.post("/api/v1/agent/summaries", json={
        **owner, "messages": f"Quixtrella summary {SECRET}", "callback_url": hook_url,
        "callback_secret": VICTIM_HOOK_SECRET}), 202)  # fmt: skip


def victim_ids(api: httpx.Client) -> Victim:
    """Every id the victim owns, read back through the victim's own key."""
    hooks = _ok(api.get("/v1/webhooks")).json()["webhooks"]
    patterns = _ok(api.get("/v1/patterns", params={"pageSize": 100})).json()["items"]
    assert patterns, "the victim's procedural memory should be a pattern"
    return Victim(
        memory_ids=tuple(str(m["id"]) for m in all_memories(api)),
        session_ids=tuple(_paged(api, "/v1/working-memory/", "sessions")),
        task_ids=tuple(t["id"] for t in _paged(api, "/v1/tasks", "tasks")),
        pattern_ids=tuple(p["id"] for p in patterns),
        webhook_id=hooks[0]["id"],
    )


def all_memories(api: httpx.Client) -> Iterator[dict[str, object]]:
    """Every memory the key sees, superseded and expired ones included."""
    body: dict[str, object] = {"text": "", "limit": 100, "offset": 0,
                               "include_superseded": True, "include_expired": True}  # fmt: skip
    while True:
        page = _ok(api.post("/v1/long-term-memory/search", json=body)).json()
        yield from page["memories"]
        if page["next_offset"] is None:
            return
        body["offset"] = page["next_offset"]


def _paged(api: httpx.Client, path: str, items: str) -> Iterator[Any]:
    offset = 0
    while True:
        page = _ok(api.get(path, params={"limit": 100, "offset": offset})).json()
        yield from page[items]
        offset += len(page[items])
        if not page[items] or offset >= page["total"]:
            return


def victim_state(api: httpx.Client) -> dict[str, object]:
    """A fingerprint of everything the victim owns; any write by someone else changes it."""
    memories = {str(m["id"]): {k: m[k] for k in _MEMORY_FIELDS} for m in all_memories(api)}
    sessions = {}
    for session_id in _paged(api, "/v1/working-memory/", "sessions"):
        body = _ok(api.get(f"/v1/working-memory/{session_id}")).json()
        sessions[session_id] = {k: body[k] for k in _SESSION_FIELDS} | {
            "messages": [(m["id"], m["role"], m["content"]) for m in body["messages"]]
        }
    hooks = _ok(api.get("/v1/webhooks")).json()["webhooks"]
    deliveries = {
        h["id"]: _ok(api.get(f"/v1/webhooks/{h['id']}/deliveries")).json()["total"] for h in hooks
    }
    return {
        "memories": memories,
        "sessions": sessions,
        "webhooks": hooks,
        "deliveries": deliveries,
        "tasks": sorted(str(t["id"]) for t in _paged(api, "/v1/tasks", "tasks")),
        "stats": _ok(api.get("/v1/stats")).json(),
        "patterns": sorted(
            p["id"] for p in _ok(api.get("/v1/patterns", params={"pageSize": 100})).json()["items"]
        ),
        "history": _ok(api.get("/v1/long-term-memory/vic-secret/history")).json()["events"],
    }


def wait_until_idle(operator: httpx.Client, namespaces: list[str], timeout_s: float = 120) -> None:
    """Until no task of these namespaces is pending or running: background work that a request
    set off (extraction, webhook deliveries, seed 004 tasks) has had its effect."""
    deadline = time.monotonic() + timeout_s
    while True:
        busy = [
            (ns, state)
            for ns in namespaces
            for state in ("pending", "running")
            if _ok(operator.get("/v1/tasks", params={"namespace": ns, "state": state})).json()[
                "total"
            ]
        ]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"tasks still busy after {timeout_s}s: {busy}")
        time.sleep(0.05)
