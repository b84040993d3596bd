"""Tenant isolation, route by route: a key of namespace A against namespace B's data.

One table, PROBES, holds an attack for every route the app serves (native, the four seed
dialects, MCP, the memory browser, the public pages); test_every_route_has_a_probe fails when
a route exists that the table does not cover, so a new route cannot slip through. Each probe
runs with a fresh key bound to its own namespace (with read, write and admin scopes) against
the victim's data, written beforehand through the victim's key in every API's shape. Every
response the attacker gets is checked for the victim's marker words, and after each probe
(and the background work it set off) the victim's data must be exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from mnemo.app import create_app
from mnemo.auth.issuing import issue_key
from mnemo.cli.stores import opened_store
from mnemo.config import Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from mnemo.models import Scope
from mnemo.services.webhooks import WEBHOOK_EVENTS
from tests.conftest import DEV_KEY, ROOMY_LIMITS
from tests.helpers.servers import serve_in_thread
from tests.helpers.tenancy import (
    VICTIM_HOOK_SECRET,
    VICTIM_NS,
    VICTIM_USER,
    Victim,
    leaked_markers,
    seed_victim,
    victim_ids,
    victim_state,
    wait_until_idle,
)
from tests.jobs.conftest import fast_jobs
from tests.jobs.receiver import Receiver, running_receiver
from tests.mcp.test_mcp import call as mcp_call
from tests.mcp.test_mcp import http_client as mcp_client
from tests.mcp.test_mcp import refused as mcp_refused
from tests.ui.conftest import csrf_in, http_login

ATTACKER_HOOK_SECRET = "whsec-attacker"
ALL_SCOPES = [Scope.READ, Scope.WRITE, Scope.ADMIN]


@dataclass
class Attacker:
    """A key bound to a namespace of its own, aimed at the victim's data."""

    namespace: str
    key: str
    base_url: str
    method: str  # the route under attack
    path: str
    victim: Victim
    hook_url: str
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **headers: str) -> httpx.Client:
        """A client whose every response is checked for the victim's words."""

        def no_leak(response: httpx.Response) -> None:
            response.read()
            leaked = leaked_markers(response.text)
            request = response.request
            assert not leaked, f"{request.method} {request.url} leaked {leaked}: {response.text}"

        made = httpx.Client(base_url=self.base_url, headers=headers, timeout=60,
                            event_hooks={"response": [no_leak]})  # fmt: skip
        self._clients.append(made)
        return made

    @cached_property
    def api(self) -> httpx.Client:
        return self.client(**{"X-API-Key": self.key})

    @cached_property
    def ui(self) -> httpx.Client:
        """A browser session logged in with the attacker's key."""
        browser = self.client()
        assert http_login(browser, self.key).status_code == 303
        return browser

    def close(self) -> None:
        for made in self._clients:
            made.close()


Probe = Callable[[Attacker], None]
PROBES: dict[str, Probe] = {}  # "METHOD /path" (as the app declares it) -> its attack


def probe(*routes: str) -> Callable[[Probe], Probe]:
    def register(attack: Probe) -> Probe:
        for route in routes:
            assert route not in PROBES, route
            PROBES[route] = attack
        return attack

    return register


def refused(response: httpx.Response, *statuses: int) -> None:
    expected = statuses or (403, 404)
    assert response.status_code in expected, (
        f"{response.request.method} {response.request.url} answered {response.status_code}, "
        f"expected {expected}: {response.text}"
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def only_own(a: Attacker, memories: object) -> None:
    """Every memory in an answer is the attacker's own."""
    assert isinstance(memories, list)
    assert all(m["namespace"] == a.namespace for m in memories), memories


# --- public: nothing of any tenant -----------------------------------------------------------


@probe("GET /", "GET /docs", "GET /docs/oauth2-redirect", "GET /openapi.json", "GET /redoc",
       "GET /health", "GET /v1/health", "GET /v1/memory/health", "GET /metrics",
       "GET /api/v1/system/pool-stats")  # fmt: skip
def public_pages(a: Attacker) -> None:
    for client in (a.api, a.client()):
        response = client.get(a.path)
        if a.path == "/api/v1/system/pool-stats" and client is not a.api:
            refused(response, 401)
            continue
        assert response.status_code == 200, response.text
        assert VICTIM_NS not in response.text and VICTIM_USER not in response.text


@probe("MOUNT /ui/static")
def ui_static(a: Attacker) -> None:
    for asset in ("htmx.min.js", "style.css"):
        assert a.client().get(f"/ui/static/{asset}").status_code == 200


# --- native: working memory --------------------------------------------------------------


@probe("GET /v1/working-memory/")
def list_sessions(a: Attacker) -> None:
    assert ok(a.api.get(a.path)) == {"sessions": [], "total": 0}
    assert ok(a.api.get(a.path, params={"user_id": VICTIM_USER}))["total"] == 0
    refused(a.api.get(a.path, params={"namespace": VICTIM_NS}), 403)


@probe("GET /v1/working-memory/{session_id}")
def read_sessions(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        refused(a.api.get(f"/v1/working-memory/{sid}"), 404)
        refused(a.api.get(f"/v1/working-memory/{sid}", params={"user_id": VICTIM_USER}), 404)
        refused(a.api.get(f"/v1/working-memory/{sid}", params={"namespace": VICTIM_NS}), 403)


@probe("PUT /v1/working-memory/{session_id}")
def overwrite_sessions(a: Attacker) -> None:
    # the victim's message ids too: a message is a memory, keyed by namespace and id
    planted = {"user_id": VICTIM_USER, "context": "overwritten",
               "messages": [{"id": "vic-msg-1", "role": "user", "content": "overwritten"}]}  # fmt: skip
    for sid in a.victim.session_ids:
        path = f"/v1/working-memory/{sid}"
        refused(a.api.put(path, json={**planted, "namespace": VICTIM_NS}), 403)
        assert ok(a.api.put(path, json=planted))["namespace"] == a.namespace
    into_victim = {"messages": [], "memories": [{"text": "planted", "namespace": VICTIM_NS}]}
    refused(a.api.put("/v1/working-memory/vic-session", json=into_victim), 403)


@probe("DELETE /v1/working-memory/{session_id}")
def delete_sessions(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        assert a.api.delete(f"/v1/working-memory/{sid}").status_code in (200, 404)
        refused(a.api.delete(f"/v1/working-memory/{sid}", params={"namespace": VICTIM_NS}), 403)


# --- native: long-term memory ------------------------------------------------------------

SEARCH = "/v1/long-term-memory/search"


@probe("POST /v1/long-term-memory/")
def create_memories(a: Attacker) -> None:
    refused(a.api.post(a.path, json={"memories": [{"text": "x", "namespace": VICTIM_NS}]}), 403)
    same_ids = [
        {"id": mid, "text": f"the attacker's own memory {i}", "user_id": VICTIM_USER}
        for i, mid in enumerate(a.victim.memory_ids)
    ]
    ok(a.api.post(a.path, json={"memories": same_ids}))  # into its own namespace


@probe("DELETE /v1/long-term-memory", "DELETE /v1/long-term-memory/")
def bulk_delete(a: Attacker) -> None:
    ids = {"memory_ids": list(a.victim.memory_ids)}
    assert ok(a.api.delete(a.path, params=ids))["status"] == "ok, deleted 0 memories"
    refused(a.api.delete(a.path, params={**ids, "namespace": VICTIM_NS}), 403)


@probe("POST /v1/long-term-memory/search")
def search(a: Attacker) -> None:
    wide = {"include_superseded": True, "include_expired": True, "limit": 100}
    for text in ("vault code", "green tea every morning", "where does the user live", ""):
        assert ok(a.api.post(SEARCH, json={"text": text, **wide})) == {
            "memories": [], "total": 0, "next_offset": None,
        }  # fmt: skip
    assert (
        ok(a.api.post(SEARCH, json={"text": "vault", "user_id": {"eq": VICTIM_USER}}))["total"] == 0
    )
    for outside in ({"eq": VICTIM_NS}, {"any": [VICTIM_NS]}, {"ne": a.namespace},
                    {"none": [a.namespace]}):  # fmt: skip
        refused(a.api.post(SEARCH, json={"text": "vault", "namespace": outside}), 403)
    for wider in ({"startswith": "tenant-b"}, {"any": [VICTIM_NS, a.namespace]}):
        answer = a.api.post(SEARCH, json={"text": "vault", "namespace": wider, **wide})
        assert answer.status_code == 403 or answer.json()["total"] == 0


@probe("GET /v1/long-term-memory/{memory_id}", "GET /v1/long-term-memory/{memory_id}/history")
def read_memories(a: Attacker) -> None:
    for mid in a.victim.memory_ids:
        path = a.path.replace("{memory_id}", mid)
        refused(a.api.get(path), 404)
        refused(a.api.get(path, params={"namespace": VICTIM_NS}), 403)


@probe("PATCH /v1/long-term-memory/{memory_id}")
def edit_memories(a: Attacker) -> None:
    for mid in a.victim.memory_ids:
        path = f"/v1/long-term-memory/{mid}"
        refused(a.api.patch(path, json={"text": "pwned", "pinned": False}), 404)
        refused(a.api.patch(path, json={"text": "pwned"}, params={"namespace": VICTIM_NS}), 403)
    ok(a.api.post("/v1/long-term-memory/", json={"memories": [{"id": "mine", "text": "mine"}]}))
    refused(a.api.patch("/v1/long-term-memory/mine", json={"namespace": VICTIM_NS}), 403)


@probe("POST /v1/long-term-memory/compact")
def compact(a: Attacker) -> None:
    refused(a.api.post(a.path, params={"namespace": VICTIM_NS}), 403)
    for scope in ({}, {"user_id": VICTIM_USER}):
        answer = ok(a.api.post(a.path, params=scope))
        assert answer["status"] == "ok, merged 0 memories, 0 memories remaining"


@probe("POST /v1/long-term-memory/forget")
def forget(a: Attacker) -> None:
    policy = {"max_age_days": 1, "budget": 0}  # everything in scope would go
    real = {"policy": policy, "dry_run": False}
    refused(a.api.post(a.path, json={**real, "namespace": VICTIM_NS}), 403)
    refused(a.api.post(a.path, json=real, params={"namespace": VICTIM_NS}), 403)
    for scope in ({}, {"user_id": VICTIM_USER}, {"session_id": "vic-session"}):
        answer = ok(a.api.post(a.path, json={**real, **scope}))
        assert answer["scanned"] == 0 and answer["deleted_ids"] == []


@probe("POST /v1/long-term-memory/extract", "POST /v1/summaries")
def session_work(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        refused(a.api.post(a.path, json={"session_id": sid}), 404)
        refused(a.api.post(a.path, json={"session_id": sid, "namespace": VICTIM_NS}), 403)


@probe("POST /v1/memory/prompt")
def memory_prompt(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        body = {"query": "what is the vault code", "session": {"session_id": sid},
                "long_term_search": {"text": "vault code"}}  # fmt: skip
        answer = ok(a.api.post(a.path, json=body))
        assert answer["long_term_memories"] == []
        assert [m["role"] for m in answer["messages"]] == ["system", "user"]
        aimed = {"query": "x", "session": {"session_id": sid, "namespace": VICTIM_NS}}
        refused(a.api.post(a.path, json=aimed), 403)
    outside = {"query": "x", "long_term_search": {"text": "x", "namespace": {"eq": VICTIM_NS}}}
    refused(a.api.post(a.path, json=outside), 403)
    assert (
        ok(a.api.post(a.path, json={"query": "vault code", "long_term_search": True}))[
            "long_term_memories"
        ]
        == []
    )


@probe("POST /v1/chat")
def chat(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        body = {"message": "what is my vault code", "session_id": sid, "user_id": VICTIM_USER}
        only_own(a, ok(a.api.post(a.path, json=body))["memories"])
        refused(a.api.post(a.path, json={**body, "namespace": VICTIM_NS}), 403)


@probe("GET /v1/stats")
def stats(a: Attacker) -> None:
    for params in ({}, {"user_id": VICTIM_USER}):
        counts = ok(a.api.get(a.path, params=params))
        assert counts["namespace"] == a.namespace
        assert (counts["memories"], counts["sessions"], counts["patterns"]) == (0, 0, 0)
    refused(a.api.get(a.path, params={"namespace": VICTIM_NS}), 403)


# --- native: tasks and webhooks ----------------------------------------------------------


@probe("GET /v1/tasks")
def list_tasks(a: Attacker) -> None:
    assert ok(a.api.get(a.path)) == {"tasks": [], "total": 0}
    for state in ("pending", "running", "succeeded", "dead"):
        assert ok(a.api.get(a.path, params={"state": state}))["total"] == 0
    refused(a.api.get(a.path, params={"namespace": VICTIM_NS}), 403)


@probe("GET /v1/tasks/{task_id}")
def read_tasks(a: Attacker) -> None:
    assert a.victim.task_ids
    for task_id in a.victim.task_ids:
        refused(a.api.get(f"/v1/tasks/{task_id}"), 404)


@probe("POST /v1/webhooks")
def subscribe(a: Attacker) -> None:
    body = {"url": a.hook_url, "events": sorted(WEBHOOK_EVENTS), "secret": ATTACKER_HOOK_SECRET}
    refused(a.api.post(a.path, json=body, params={"namespace": VICTIM_NS}), 403)
    assert ok(a.api.post(a.path, json=body), 201)["namespace"] == a.namespace


@probe("GET /v1/webhooks")
def list_webhooks(a: Attacker) -> None:
    assert ok(a.api.get(a.path)) == {"webhooks": [], "total": 0}
    refused(a.api.get(a.path, params={"namespace": VICTIM_NS}), 403)


@probe("GET /v1/webhooks/{webhook_id}", "DELETE /v1/webhooks/{webhook_id}",
       "GET /v1/webhooks/{webhook_id}/deliveries", "POST /v1/webhooks/{webhook_id}/ping")  # fmt: skip
def victim_webhook(a: Attacker) -> None:
    method = a.method
    path = a.path.replace("{webhook_id}", a.victim.webhook_id)
    refused(a.api.request(method, path), 404)
    refused(a.api.request(method, path, params={"namespace": VICTIM_NS}), 403)


# --- MCP at /mcp ---------------------------------------------------------------------------


@probe("* /mcp")
def mcp(a: Attacker) -> None:
    asyncio.run(_mcp_attack(a))


MCP_TOOLS_PROBED = {
    "get_current_datetime", "create_long_term_memories", "search_long_term_memory",
    "get_long_term_memory", "edit_long_term_memory", "delete_long_term_memories",
    "memory_prompt", "get_working_memory", "set_working_memory",
}  # fmt: skip


async def _mcp_attack(a: Attacker) -> None:
    async with mcp_client(a.base_url, {"X-API-Key": a.key}) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == MCP_TOOLS_PROBED, "a new MCP tool needs its attack here"
        answers = [await mcp_call(client, "get_current_datetime")]
        await mcp_refused(client, "create_long_term_memories",
                          memories=[{"text": "x", "namespace": VICTIM_NS}])  # fmt: skip
        ids = list(a.victim.memory_ids)
        answers.append(await mcp_call(client, "create_long_term_memories",
                                      memories=[{"id": i, "text": "mine"} for i in ids[:5]]))  # fmt: skip
        for text in ("vault code", ""):
            found = await mcp_call(client, "search_long_term_memory", text=text, limit=100)
            assert found["total"] <= 5 and {m["namespace"] for m in found["memories"]} <= {
                a.namespace
            }
            answers.append(found)
        await mcp_refused(client, "search_long_term_memory", text="vault", namespace=VICTIM_NS)
        for mid in ids[5:]:
            await mcp_refused(client, "get_long_term_memory", memory_id=mid)
            await mcp_refused(client, "edit_long_term_memory", memory_id=mid, text="pwned")
        for mid in ids[:5]:
            await mcp_refused(client, "get_long_term_memory", memory_id=mid, namespace=VICTIM_NS)
            await mcp_refused(client, "edit_long_term_memory", memory_id=mid, text="pwned",
                              namespace=VICTIM_NS)  # fmt: skip
        gone = await mcp_call(client, "delete_long_term_memories", memory_ids=ids[5:])
        assert gone["deleted"] == []
        await mcp_refused(client, "delete_long_term_memories", memory_ids=ids,
                          namespace=VICTIM_NS)  # fmt: skip
        for sid in a.victim.session_ids:
            await mcp_refused(client, "get_working_memory", session_id=sid)
            await mcp_refused(client, "get_working_memory", session_id=sid, namespace=VICTIM_NS)
            await mcp_refused(client, "set_working_memory", session_id=sid, namespace=VICTIM_NS,
                              messages=[{"role": "user", "content": "x"}])  # fmt: skip
            prompt = await mcp_call(client, "memory_prompt", query="vault code", session_id=sid)
            answers.append(prompt)
            await mcp_refused(client, "memory_prompt", query="x", session_id=sid,
                              namespace=VICTIM_NS)  # fmt: skip
        answers.append(await mcp_call(client, "set_working_memory", session_id="vic-session",
                                      messages=[{"id": "vic-msg-1", "role": "user",
                                                 "content": "mine"}]))  # fmt: skip
    text = json.dumps(answers)
    assert not leaked_markers(text) and VICTIM_NS not in text


# --- seed 000 ------------------------------------------------------------------------------


@probe("POST /sessions")
def seed000_create_session(a: Attacker) -> None:
    created = ok(a.api.post(a.path, json={"user_id": VICTIM_USER, "session_name": "x"}), 201)
    assert ok(a.api.get(f"/v1/working-memory/{created['session_id']}"))["namespace"] == a.namespace


@probe("GET /sessions/{session_id}", "DELETE /sessions/{session_id}")
def seed000_sessions(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        refused(a.api.request(a.method, f"/sessions/{sid}"), 404)


@probe("POST /chat")
def seed000_chat(a: Attacker) -> None:
    for sid in a.victim.session_ids:
        body = {"message": "what is my vault code", "session_id": sid, "user_id": VICTIM_USER}
        ok(a.api.post(a.path, json=body))  # the answer is checked for the victim's words


@probe("POST /search")
def seed000_search(a: Attacker) -> None:
    for sid in (None, *a.victim.session_ids):
        body = {"query": "vault code", "user_id": VICTIM_USER, "session_id": sid}
        assert ok(a.api.post(a.path, json=body)) == {"memories": [], "count": 0}


# --- seed 002 ------------------------------------------------------------------------------


@probe("POST /v1/memories", "POST /v1/memories/")
def seed002_add(a: Attacker) -> None:
    turn = {"role": "user", "content": "I live in Lisbon and drink green tea every morning"}
    added = ok(a.api.post(a.path, json={"messages": [turn], "user_id": VICTIM_USER}))
    memories = added["data"]["memories"]
    assert memories and {m["event"] for m in memories} == {"ADD"}
    assert not {m["id"] for m in memories} & set(a.victim.memory_ids)


@probe("GET /v1/memories/search", "GET /v1/memories/user/{user_id}")
def seed002_lists(a: Attacker) -> None:
    path = a.path.replace("{user_id}", VICTIM_USER)
    for params in ({"query": "vault code"}, {"query": "tea", "user_id": VICTIM_USER}):
        assert ok(a.api.get(path, params=params))["data"]["total"] == 0


@probe("GET /v1/memories/{memory_id}", "PUT /v1/memories/{memory_id}",
       "DELETE /v1/memories/{memory_id}")  # fmt: skip
def seed002_memory(a: Attacker) -> None:
    for mid in a.victim.memory_ids:
        body = {"content": "pwned"} if a.method == "PUT" else None
        refused(a.api.request(a.method, f"/v1/memories/{mid}", json=body), 404)


@probe("GET /status", "GET /v1/status", "GET /v1/metrics")
def seed002_counts(a: Attacker) -> None:
    data = ok(a.api.get(a.path))["data"]
    assert data["memories"] == {
        "namespace": a.namespace, "total": 0,
        "by_type": {"semantic": 0, "episodic": 0, "procedural": 0, "message": 0},
    }  # fmt: skip
    if a.path == "/v1/metrics":
        assert data["sessions"] == 0


# --- seed 003 ------------------------------------------------------------------------------


@probe("POST /v1/conversations")
def seed003_create(a: Attacker) -> None:
    created = ok(a.api.post(a.path, json={"title": "mine", "userId": VICTIM_USER}), 201)
    assert ok(a.api.get(f"/v1/working-memory/{created['id']}"))["namespace"] == a.namespace


@probe("POST /v1/conversations/{conversation_id}/messages",
       "POST /v1/conversations/{conversation_id}/query",
       "GET /v1/conversations/{conversation_id}/context")  # fmt: skip
def seed003_conversation(a: Attacker) -> None:
    method = a.method
    body: dict[str, object] | None = None
    if a.path.endswith("messages"):
        body = {"role": "user", "content": "hello"}
    if a.path.endswith("query"):
        body = {"question": "what is the vault code", "includeDebugInfo": True}
    for sid in a.victim.session_ids:
        path = a.path.replace("{conversation_id}", sid)
        refused(a.api.request(method, path, json=body, params={"query": "vault"}), 404)


@probe("GET /v1/memory/statistics")
def seed003_statistics(a: Attacker) -> None:
    for params in ({}, {"userId": VICTIM_USER}):
        counts = ok(a.api.get(a.path, params=params))
        assert counts["namespace"] == a.namespace
        assert counts["messageCount"] == counts["factCount"] == counts["conversationCount"] == 0


@probe("GET /v1/patterns")
def seed003_patterns(a: Attacker) -> None:
    for params in ({}, {"userId": VICTIM_USER}):
        assert ok(a.api.get(a.path, params=params))["totalCount"] == 0


@probe("DELETE /v1/patterns/{pattern_id}")
def seed003_delete_pattern(a: Attacker) -> None:
    for pid in (*a.victim.pattern_ids, *a.victim.memory_ids):
        refused(a.api.delete(f"/v1/patterns/{pid}"), 404)


# --- seed 004 ------------------------------------------------------------------------------


@probe("POST /api/v1/memories", "POST /api/v1/memory-batcher/messages",
       "POST /api/v1/agent/memories", "POST /api/v1/agent/summaries")  # fmt: skip
def seed004_writes(a: Attacker) -> None:
    turns = [{"role": "user", "content": f"note {i}"} for i in range(10)]
    owner = {"user_id": VICTIM_USER, "session_id": "victim-batch-01", "messages": turns}
    refused(a.api.post(a.path, json={**owner, "app_id": VICTIM_NS}), 403)
    if a.path.endswith("summaries"):
        aimed = {**owner, "app_id": VICTIM_NS, "callback_url": a.hook_url}
        refused(a.api.post(a.path, json=aimed), 403)
    assert a.api.post(a.path, json={**owner, "app_id": a.namespace}).status_code in (200, 202)


@probe("GET /api/v1/memories/query")
def seed004_query(a: Attacker) -> None:
    query = {"query": "vault code", "user_id": VICTIM_USER}
    refused(a.api.get(a.path, params={**query, "app_id": VICTIM_NS}), 403)
    assert ok(a.api.get(a.path, params={**query, "app_id": a.namespace}))["count"] == 0


@probe("GET /api/v1/memories/{memory_id}", "DELETE /api/v1/memories/{memory_id}",
       "GET /api/v1/memories/{memory_id}/evolution")  # fmt: skip
def seed004_memory(a: Attacker) -> None:
    method = a.method
    for mid in a.victim.memory_ids:
        path = a.path.replace("{memory_id}", mid)
        refused(a.api.request(method, path, params={"app_id": VICTIM_NS}), 403)
        refused(a.api.request(method, path, params={"app_id": a.namespace}), 404)


# --- the memory browser at /ui -----------------------------------------------------------


@probe("GET /ui", "GET /ui/login", "POST /ui/login", "POST /ui/logout")
def ui_login(a: Attacker) -> None:
    browser = a.ui  # logs in through GET and POST /ui/login
    assert browser.get("/ui").headers["location"] == "/ui/memories"
    csrf = csrf_in(browser.get("/ui/memories").text)
    assert browser.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    assert browser.get("/ui/memories").headers["location"] == "/ui/login"


@probe("GET /ui/memories", "GET /ui/sessions", "GET /ui/stats")
def ui_lists(a: Attacker) -> None:
    asks: tuple[dict[str, str], ...] = ({}, {"q": "vault code"}, {"user": VICTIM_USER}, {"ns": VICTIM_NS},
            {"superseded": "1", "ns": VICTIM_NS})  # fmt: skip
    for params in asks:
        page = a.ui.get(a.path, params=params)
        assert page.status_code == 200, page.text
        assert not [i for i in (*a.victim.memory_ids, *a.victim.session_ids) if i in page.text]


@probe("GET /ui/memories/{memory_id:path}", "POST /ui/memories/{memory_id:path}/delete",
       "POST /ui/memories/{memory_id:path}/pin", "GET /ui/sessions/{session_id:path}")  # fmt: skip
def ui_pages(a: Attacker) -> None:
    method = a.method
    csrf = csrf_in(a.ui.get("/ui/memories").text)
    is_session = "{session_id:path}" in a.path
    for target in a.victim.session_ids if is_session else a.victim.memory_ids:
        path = a.path.replace("{session_id:path}", target).replace("{memory_id:path}", target)
        form = {"csrf": csrf, "pinned": "0"} if method == "POST" else None
        refused(a.ui.request(method, path, data=form), 404)
        refused(a.ui.request(method, path, data=form, params={"ns": VICTIM_NS}), 404)


# --- the table, and the suite --------------------------------------------------------------


def served_routes(app: FastAPI) -> set[str]:
    """Every (method, path) the app answers, as PROBES names them; HEAD is GET's twin."""
    routes = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            routes.add(f"MOUNT {context.path}")
        elif context.methods is None:  # a raw ASGI endpoint answers every method
            routes.add(f"* {context.path}")
        else:
            routes |= {f"{m} {context.path}" for m in context.methods - {"HEAD"}}
    return routes


@dataclass(frozen=True)
class World:
    base_url: str
    app: FastAPI
    victim: Victim
    victim_api: httpx.Client
    operator: httpx.Client
    keys: dict[str, tuple[str, str]]  # route -> (namespace, key) of its attacker
    attacker_receiver: Receiver


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Iterator[World]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tenancy"),
        rate_limits=ROOMY_LIMITS,
        jobs=fast_jobs(),
        webhooks=WebhooksConfig(allow_private=True, timeout_s=5.0),
    )
    app = create_app(settings, embedder)
    routes = sorted(PROBES)
    victim_key, keys = asyncio.run(_make_keys(settings, routes))
    with (
        running_receiver() as victim_hook,
        running_receiver() as attacker_hook,
        serve_in_thread(app) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": victim_key}, timeout=60) as victim_api,
        httpx.Client(base_url=url, headers={"X-API-Key": DEV_KEY}, timeout=60) as operator,
    ):
        victim_hook.secret = VICTIM_HOOK_SECRET
        attacker_hook.secret = ATTACKER_HOOK_SECRET
        seed_victim(victim_api, victim_hook.url)
        wait_until_idle(operator, [VICTIM_NS])
        assert victim_hook.accepted, "the victim's own events reach the victim's webhook"
        yield World(url, app, victim_ids(victim_api), victim_api, operator, keys, attacker_hook)


async def _make_keys(
    settings: Settings, routes: list[str]
) -> tuple[str, dict[str, tuple[str, str]]]:
    """The victim's key and one attacker key per route, each in a namespace of its own."""
    async with opened_store(settings) as store:
        cap = settings.limits.max_keys_per_namespace
        victim, _ = await issue_key(store, cap, namespace=VICTIM_NS, scopes=ALL_SCOPES)
        keys = {}
        for n, route in enumerate(routes):
            namespace = f"tenant-a-{n:03d}"
            key, _ = await issue_key(store, cap, namespace=namespace, scopes=ALL_SCOPES)
            keys[route] = (namespace, key)
    return victim, keys


def test_every_route_has_a_probe(world: World) -> None:
    served = served_routes(world.app)
    assert served - set(PROBES) == set(), "routes no probe attacks: add them to PROBES"
    assert set(PROBES) - served == set(), "probes of routes the app no longer serves"
    documented = {
        f"{method.upper()} {path}"
        for path, operations in world.app.openapi()["paths"].items()
        for method in operations
    }
    assert documented and documented <= served  # the enumeration sees every documented route


@pytest.mark.parametrize("route", sorted(PROBES))
def test_a_key_of_another_namespace_gets_nothing_of_the_victims(route: str, world: World) -> None:
    namespace, key = world.keys[route]
    method, path = route.split(" ", 1)
    attacker = Attacker(namespace, key, world.base_url, method, path, world.victim,
                        world.attacker_receiver.url)  # fmt: skip
    before = victim_state(world.victim_api)
    try:
        PROBES[route](attacker)
    finally:
        attacker.close()
    wait_until_idle(world.operator, [VICTIM_NS, namespace])
    assert victim_state(world.victim_api) == before


def test_events_reach_only_their_own_namespaces_webhooks(world: World) -> None:
    namespace, key = world.keys["POST /v1/webhooks"]
    body = {"url": world.attacker_receiver.url, "events": sorted(WEBHOOK_EVENTS),
            "secret": ATTACKER_HOOK_SECRET}  # fmt: skip
    with httpx.Client(base_url=world.base_url, headers={"X-API-Key": key}, timeout=60) as a:
        hooks = ok(a.get("/v1/webhooks"))["webhooks"] or [
            ok(a.post("/v1/webhooks", json=body), 201)
        ]
        hook_id = hooks[0]["id"]
        seen = ok(a.get(f"/v1/webhooks/{hook_id}/deliveries"))["total"]
        victim = world.victim_api
        before = ok(victim.get(f"/v1/webhooks/{world.victim.webhook_id}/deliveries"))["total"]
        memory = {"id": "vic-event", "text": "an event of the victim's", "user_id": VICTIM_USER}
        ok(victim.post("/v1/long-term-memory/", json={"memories": [memory]}))
        ok(victim.delete("/v1/long-term-memory", params={"memory_ids": "vic-event"}))
        wait_until_idle(world.operator, [VICTIM_NS, namespace])
        after = ok(victim.get(f"/v1/webhooks/{world.victim.webhook_id}/deliveries"))["total"]
        assert after == before + 2  # memory.created and memory.deleted, to the victim
        assert ok(a.get(f"/v1/webhooks/{hook_id}/deliveries"))["total"] == seen
