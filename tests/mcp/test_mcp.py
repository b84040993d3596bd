"""The MCP server through the SDK's own client: `mnemo mcp` on stdio and /mcp over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters, get_default_environment
from mcp.client.streamable_http import streamable_http_client

from mnemo.app import create_app
from mnemo.auth.keys import generate_key
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.embedders.local import LocalEmbedder
from mnemo.models import Scope
from tests.conftest import DEV_KEY
from tests.helpers.servers import serve_in_thread

TOOLS = {
    "get_current_datetime", "create_long_term_memories", "search_long_term_memory",
    "get_long_term_memory", "edit_long_term_memory", "delete_long_term_memories",
    "memory_prompt", "get_working_memory", "set_working_memory",
}  # fmt: skip


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """The text of a tool error; the call must fail as a tool error, not crash the session."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert text
    return text


def stdio_server(data_dir: Path, **env: str) -> StdioServerParameters:
    """`mnemo mcp` as an assistant launches it: the venv's script, config in the environment."""
    mnemo = Path(sys.executable).with_name("mnemo")
    return StdioServerParameters(
        command=str(mnemo), args=["mcp"], env={"MNEMO_DATA_DIR": str(data_dir), **env}
    )


@asynccontextmanager
async def http_client(
    base_url: str, headers: dict[str, str], mode: str = "auto"
) -> AsyncIterator[Client]:
    """The SDK's client on /mcp; "auto" settles on the 2026 protocol, "legacy" is the
    initialize handshake that today's assistants still speak."""
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


def run_mnemo_mcp(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`mnemo mcp` with nothing on stdin: it must refuse before serving, or serve and exit."""
    mnemo = Path(sys.executable).with_name("mnemo")
    full_env = {**get_default_environment(), "MNEMO_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [str(mnemo), "mcp"], env=full_env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def list_tools_over_http(base_url: str, **headers: str) -> httpx.Response:
    """A raw MCP request, to see the HTTP status the SDK client hides."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    return httpx.post(f"{base_url}/mcp", json=body, headers={**accept, **headers}, timeout=30)


async def add_key(settings: Settings, namespace: str) -> str:
    """A stored key bound to one namespace, as `mnemo keys create` (and `make_key`) make it."""
    plaintext, record = generate_key(namespace=namespace, scopes=[Scope.READ, Scope.WRITE])
    async with opened_store(settings) as store:
        await store.add_api_key(record)
    return plaintext


async def check_memory_round_trip(client: Client) -> None:
    """The tools an assistant uses in one conversation, in the order it uses them."""
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS
    now = await call(client, "get_current_datetime")
    assert now["iso_utc"].endswith("Z") and abs(now["unix_ts"] - time.time()) < 60

    created = await call(client, "create_long_term_memories", memories=[
        {"text": "Alice drinks green tea every morning", "user_id": "alice", "topics": ["food"]},
        {"text": "Alice works as a marine biologist", "user_id": "alice", "topics": ["work"]},
        {"text": "Bob prefers coffee", "user_id": "bob", "topics": ["food"]},
    ])  # fmt: skip
    assert created["status"] == "ok" and len(created["memory_ids"]) == 3

    found = await call(
        client, "search_long_term_memory", text="what does she drink", user_id="alice"
    )
    assert found["memories"][0]["text"] == "Alice drinks green tea every morning"
    assert {m["user_id"] for m in found["memories"]} == {"alice"}
    by_topic = await call(
        client, "search_long_term_memory", text="", topics={"any": ["work"]}, limit=5
    )
    assert [m["text"] for m in by_topic["memories"]] == ["Alice works as a marine biologist"]

    wm = await call(
        client,
        "set_working_memory",
        session_id="s1",
        user_id="alice",
        messages=[{"role": "user", "content": "I am planning a trip to Lisbon"}],
        data={"trip": "Lisbon"},
    )
    assert wm["session_id"] == "s1" and wm["data"] == {"trip": "Lisbon"}
    got = await call(client, "get_working_memory", session_id="s1")
    assert [m["content"] for m in got["messages"]] == ["I am planning a trip to Lisbon"]
    assert got["user_id"] == "alice" and got["data"] == {"trip": "Lisbon"}

    prompt = await call(
        client, "memory_prompt", query="What tea do I like?", session_id="s1", user_id="alice"
    )
    contents = [m["content"] for m in prompt["messages"]]
    assert contents[0] == "I am planning a trip to Lisbon"
    assert "Alice drinks green tea every morning" in contents[-2]
    assert prompt["messages"][-1] == {"role": "user", "content": "What tea do I like?"}
    assert "Bob prefers coffee" not in " ".join(contents)


async def check_edit_and_delete(client: Client) -> None:
    created = await call(
        client,
        "create_long_term_memories",
        memories=[{"text": "Carol lives in Oslo", "user_id": "carol"}],
    )
    memory_id = created["memory_ids"][0]
    edited = await call(
        client,
        "edit_long_term_memory",
        memory_id=memory_id,
        text="Carol lives in Bergen",
        topics=["home"],
    )
    assert edited["text"] == "Carol lives in Bergen" and edited["topics"] == ["home"]
    assert (await call(client, "get_long_term_memory", memory_id=memory_id))["text"] == (
        "Carol lives in Bergen"
    )
    deleted = await call(client, "delete_long_term_memories", memory_ids=[memory_id, "nope"])
    assert deleted["deleted"] == [memory_id]
    assert "MEMORY_NOT_FOUND" in await refused(client, "get_long_term_memory", memory_id=memory_id)


async def check_bad_input(client: Client) -> None:
    """Bad arguments are tool errors the model can read; the session carries on after them."""
    assert "less than or equal to 100" in await refused(
        client, "search_long_term_memory", text="x", limit=1000
    )
    assert "unknown memory_type" in await refused(
        client, "search_long_term_memory", text="x", memory_type="dream"
    )
    assert "memories" in await refused(client, "create_long_term_memories", memories=[])
    assert "nothing to change" in await refused(client, "edit_long_term_memory", memory_id="m1")
    assert "SESSION_NOT_FOUND" in await refused(client, "get_working_memory", session_id="none")
    assert (await call(client, "get_current_datetime"))["unix_ts"] > 0


# stdio: `mnemo mcp` as a subprocess ------------------------------------------------------


async def test_stdio_serves_the_memory_tools(tmp_path: Path) -> None:
    async with Client(stdio_server(tmp_path / "data")) as client:
        await check_memory_round_trip(client)
        await check_edit_and_delete(client)
        await check_bad_input(client)


async def test_stdio_with_a_bound_key_stays_in_its_namespace(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = await add_key(settings, "team-a")
    async with Client(stdio_server(settings.data_dir, MNEMO_MCP_API_KEY=key)) as client:
        created = await call(client, "create_long_term_memories", memories=[{"text": "A fact"}])
        memory_id = created["memory_ids"][0]
        fetched = await call(client, "get_long_term_memory", memory_id=memory_id)
        assert fetched["namespace"] == "team-a"
        assert "FORBIDDEN" in await refused(
            client, "create_long_term_memories", memories=[{"text": "x", "namespace": "team-b"}]
        )


def test_stdio_refuses_to_start_without_a_key_when_api_key_is_set(tmp_path: Path) -> None:
    done = run_mnemo_mcp(tmp_path / "data", API_KEY="operator-secret-0123456789")
    assert done.returncode == 2
    assert "MNEMO_MCP_API_KEY" in done.stderr and done.stdout == ""


def test_stdio_refuses_an_unknown_key(tmp_path: Path) -> None:
    done = run_mnemo_mcp(tmp_path / "data", MNEMO_MCP_API_KEY="not-a-key")
    assert done.returncode == 2
    assert "Invalid API key" in done.stderr and done.stdout == ""


# streamable HTTP at /mcp -----------------------------------------------------------------


async def test_http_serves_the_memory_tools(server_url: str) -> None:
    async with http_client(server_url, {"X-API-Key": DEV_KEY}) as client:
        await check_memory_round_trip(client)
        await check_edit_and_delete(client)
        await check_bad_input(client)


async def test_http_serves_handshake_era_clients(server_url: str, settings: Settings) -> None:
    key = await add_key(settings, "team-a")
    async with http_client(server_url, {"X-API-Key": key}, mode="legacy") as client:
        assert client.protocol_version.startswith("2025")
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        await call(client, "create_long_term_memories", memories=[{"text": "Dana likes jazz"}])
        found = await call(client, "search_long_term_memory", text="music")
        assert [(m["text"], m["namespace"]) for m in found["memories"]] == [
            ("Dana likes jazz", "team-a")
        ]


async def test_http_accepts_a_bearer_key(server_url: str) -> None:
    async with http_client(server_url, {"Authorization": f"Bearer {DEV_KEY}"}) as client:
        assert (await call(client, "get_current_datetime"))["unix_ts"] > 0


def test_http_refuses_requests_without_a_valid_key(server_url: str) -> None:
    missing = list_tools_over_http(server_url)
    assert missing.status_code == 401
    assert "Missing API key" in missing.json()["detail"]
    wrong = list_tools_over_http(server_url, **{"X-API-Key": "nope"})
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Invalid API key"}
    not_bearer = list_tools_over_http(server_url, Authorization=f"Basic {DEV_KEY}")
    assert not_bearer.status_code == 401


def test_http_checks_the_host_while_the_dev_key_works(server_url: str) -> None:
    # DNS rebinding: a web page on another name reaching loopback could present the dev key.
    rebound = list_tools_over_http(server_url, **{"X-API-Key": DEV_KEY, "Host": "evil.example"})
    assert rebound.status_code == 421
    assert list_tools_over_http(server_url, **{"X-API-Key": DEV_KEY}).status_code == 200


def test_http_behind_a_proxy_needs_no_host_check_with_real_keys(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    operator_key = "operator-secret-0123456789"
    settings = Settings(data_dir=tmp_path / "data", api_key=operator_key)
    with serve_in_thread(create_app(settings, embedder)) as url:
        proxied = list_tools_over_http(
            url, **{"X-API-Key": operator_key, "Host": "memory.example.com"}
        )
        assert proxied.status_code == 200
        assert {t["name"] for t in proxied.json()["result"]["tools"]} == TOOLS
        assert list_tools_over_http(url, **{"X-API-Key": DEV_KEY}).status_code == 403


def test_http_app_serves_mcp_again_after_a_restart(tmp_path: Path, embedder: LocalEmbedder) -> None:
    # The SDK's session manager runs once; each lifespan of the app must get a fresh one.
    app = create_app(Settings(data_dir=tmp_path / "data"), embedder)
    for _ in range(2):
        with serve_in_thread(app) as url:
            assert list_tools_over_http(url, **{"X-API-Key": DEV_KEY}).status_code == 200


async def test_http_client_without_a_key_cannot_connect(server_url: str) -> None:
    with pytest.raises(ExceptionGroup) as caught:  # the SDK's task groups wrap its error
        async with http_client(server_url, {}) as client:
            await client.list_tools()
    assert caught.group_contains(MCPError, match="error response")


async def test_http_keys_stay_in_their_namespace(server_url: str, settings: Settings) -> None:
    key_a, key_b = await add_key(settings, "team-a"), await add_key(settings, "team-b")
    async with http_client(server_url, {"X-API-Key": key_a}) as a:
        created = await call(
            a, "create_long_term_memories", memories=[{"text": "Team A ships on Fridays"}]
        )
        a_id = created["memory_ids"][0]
        await call(
            a,
            "set_working_memory",
            session_id="shared-name",
            messages=[{"role": "user", "content": "A's plans"}],
        )
    async with http_client(server_url, {"X-API-Key": key_b}) as b:
        seen = await call(b, "search_long_term_memory", text="ships on Fridays")
        assert seen["memories"] == []
        assert "FORBIDDEN" in await refused(
            b, "search_long_term_memory", text="ships", namespace="team-a"
        )
        assert "MEMORY_NOT_FOUND" in await refused(b, "get_long_term_memory", memory_id=a_id)
        assert "SESSION_NOT_FOUND" in await refused(
            b, "get_working_memory", session_id="shared-name"
        )
        assert (await call(b, "delete_long_term_memories", memory_ids=[a_id]))["deleted"] == []
        prompt = await call(b, "memory_prompt", query="When does the team ship?")
        assert "Team A ships on Fridays" not in str(prompt["messages"])
    async with http_client(server_url, {"X-API-Key": key_a}) as a:
        still = await call(a, "get_long_term_memory", memory_id=a_id)
        assert still["namespace"] == "team-a"
