"""The memory browser in headless Chromium: log in, search, filter, history, pin, delete,
sessions, stats, and tenants kept apart."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import key_client
from tests.ui.conftest import browser_login, screenshot
from tests.ui.seed import Seeded, seed_tenant


@dataclass(frozen=True)
class Tenant:
    base_url: str
    key: str
    seeded: Seeded


@pytest.fixture
def acme(server_url: str, new_key: Callable[[str], str]) -> Tenant:
    """A key bound to namespace acme, and that namespace's data."""
    key = new_key("acme")
    with key_client(server_url, key) as client:
        seeded = seed_tenant(client)
    return Tenant(server_url, key, seeded)


def results(page: Page) -> str:
    return page.locator("#results").inner_text()


def test_browse_search_history_pin_delete_sessions_and_stats(page: Page, acme: Tenant) -> None:
    page.goto(f"{acme.base_url}/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    screenshot(page, "01-login")
    browser_login(page, acme.base_url, acme.key)
    expect(page).to_have_url(re.compile(r"/ui/memories$"))
    expect(page.locator(".binding")).to_have_text("namespace acme")
    _check_session_cookie(page, acme.key)
    _list_and_page(page)
    _search_and_filter(page)
    _history_and_evolution(page, acme)
    _pin(page, acme)
    _delete(page, acme)
    _session(page)
    _stats(page, acme)
    page.click("text=Log out")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    page.goto(f"{acme.base_url}/ui/memories")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def _check_session_cookie(page: Page, key: str) -> None:
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["mnemo_ui_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert key not in session["value"]


def _list_and_page(page: Page) -> None:
    """Newest first, 20 a page; the next page arrives through htmx and lands in the URL."""
    expect(page.locator("#results .summary")).to_contain_text("memories")
    assert page.locator("#results tbody tr").count() == 20
    screenshot(page, "02-memories")
    page.click("#results a[rel=next]")
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    expect(page).to_have_url(re.compile(r"page=2"))
    page.go_back()  # htmx keeps no copy of the page: the browser asks the server again
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    page.go_forward()
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    page.click("#results a[rel=prev]")
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    assert page.evaluate("() => localStorage.length") == 0


def _search_and_filter(page: Page) -> None:
    page.fill("#q", "which seat on a plane")
    expect(page.locator("#results tbody tr").first).to_contain_text("aisle seats")
    expect(page).to_have_url(re.compile(r"q=which"))
    screenshot(page, "03-search")
    page.fill("#q", "")
    page.select_option("select[name=type]", "procedural")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr")).to_contain_text("make release")
    page.select_option("select[name=type]", "semantic")
    page.fill("input[name=user]", "alice")
    page.press("input[name=user]", "Enter")
    expect(page.locator("#results")).to_contain_text("User lives in Berlin")
    assert "User lives in Paris" not in results(page)  # superseded: hidden by default
    page.check("input[name=superseded]")
    expect(page.locator("#results tr", has_text="User lives in Paris")).to_contain_text(
        "superseded"
    )
    screenshot(page, "04-filtered")


def _history_and_evolution(page: Page, acme: Tenant) -> None:
    page.click("#results a:text('User lives in Berlin')")
    expect(page.locator("blockquote.memory-text")).to_have_text("User lives in Berlin")
    chain = page.locator("#evolution .chain li")
    expect(chain).to_have_count(2)
    expect(chain.nth(0)).to_contain_text("User lives in Paris")
    expect(chain.nth(1)).to_have_class("current")
    screenshot(page, "05-memory-evolution")
    chain.nth(0).locator("a").click()
    expect(page.locator("#history")).to_contain_text("SUPERSEDE")
    expect(page.locator(".badge.status-superseded")).to_be_visible()
    page.goto(f"{acme.base_url}/ui/memories/{acme.seeded.edited_id}")
    history = page.locator("#history")
    expect(history.locator("li .badge.event")).to_have_text(["ADD", "UPDATE"])
    expect(history.locator("del")).to_have_text("Alice prefers window seats on long flights")
    expect(history.locator("ins")).to_have_text("Alice prefers aisle seats on long flights")


def _pin(page: Page, acme: Tenant) -> None:
    page.click("#pin-button")
    expect(page.locator("#pin-button")).to_have_text("Unpin")
    expect(page.locator(".memory-head .badge.pinned")).to_be_visible()
    screenshot(page, "06-memory-pinned")
    with key_client(acme.base_url, acme.key) as client:
        assert client.get(f"/v1/long-term-memory/{acme.seeded.edited_id}").json()["pinned"]


def _delete(page: Page, acme: Tenant) -> None:
    page.goto(f"{acme.base_url}/ui/memories/{acme.seeded.doomed_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-button")
    expect(page).to_have_url(re.compile(r"/ui/memories\?deleted=1$"))
    expect(page.locator(".notice.ok")).to_contain_text("Memory deleted")
    assert "wifi password" not in results(page)
    with key_client(acme.base_url, acme.key) as client:
        assert client.get(f"/v1/long-term-memory/{acme.seeded.doomed_id}").status_code == 404
    page.goto(f"{acme.base_url}/ui/memories/{acme.seeded.doomed_id}")
    expect(page.locator("h1")).to_have_text("Deleted memory")
    expect(page.locator("#history")).to_contain_text("DELETE")


def _session(page: Page) -> None:
    page.click("nav.tabs >> text=Sessions")
    page.click("text=trip-1")
    expect(page.locator("#messages")).to_contain_text("I moved to Berlin last month.")
    expect(page.locator("#messages .message")).to_have_count(4)
    expect(page.locator("main")).to_contain_text("User lives in Berlin")
    screenshot(page, "07-session")


def _stats(page: Page, acme: Tenant) -> None:
    page.click("nav.tabs >> text=Stats")
    with key_client(acme.base_url, acme.key) as client:
        for kind in ("semantic", "episodic", "procedural", "message"):
            total = _count(client, kind)
            expect(page.locator(f"#stat-{kind}")).to_have_text(str(total))
    expect(page.locator("#stat-sessions")).to_have_text("1")
    expect(page.locator("#stat-superseded")).to_have_text("1")
    expect(page.locator("#type-chart rect")).to_have_count(4)
    screenshot(page, "08-stats")


def _count(client: httpx.Client, kind: str) -> int:
    body = {"text": "", "memory_type": {"eq": kind}, "limit": 1}
    found = client.post("/v1/long-term-memory/search", json=body)
    return int(found.json()["total"])


def test_a_key_of_another_namespace_sees_none_of_it(
    page: Page, acme: Tenant, new_key: Callable[[str], str]
) -> None:
    other = new_key("globex")
    browser_login(page, acme.base_url, other)
    expect(page.locator(".binding")).to_have_text("namespace globex")
    expect(page.locator("#results")).to_contain_text("No memories found.")
    page.fill("#q", "Berlin")
    expect(page.locator("#results .summary")).to_contain_text("0 matches")
    screenshot(page, "09-other-namespace")
    for path in (
        f"/ui/memories/{acme.seeded.berlin_id}?ns=acme",
        f"/ui/memories/{acme.seeded.edited_id}",
        f"/ui/sessions/{acme.seeded.session_id}?ns=acme",
    ):
        page.goto(acme.base_url + path)
        expect(page.locator("h1")).to_have_text("Not found")
    screenshot(page, "10-not-found")
    page.goto(f"{acme.base_url}/ui/sessions")
    expect(page.locator("main")).to_contain_text("No sessions.")
    page.goto(f"{acme.base_url}/ui/stats")
    expect(page.locator("#stat-active")).to_have_text("0")
    expect(page.locator("#stat-sessions")).to_have_text("0")


def test_a_wrong_key_is_refused_at_login(page: Page, acme: Tenant) -> None:
    browser_login(page, acme.base_url, "mnemo_not-a-key-at-all")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    expect(page.locator(".notice.error")).to_have_text("That API key was not accepted.")
    screenshot(page, "11-login-refused")
    assert "mnemo_ui_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{acme.base_url}/ui/stats")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
