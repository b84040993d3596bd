"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, screenshots kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "ui"
# As root on a machine with a closed network: no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
_FAILED_LOAD = "Failed to load resource"
_CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile per test; any script error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A page answering 404 or 403 on purpose logs its own load as failed: not a problem.
        is_document = message.location.get("url") == tab.url
        if message.type == "error" and not (is_document and _FAILED_LOAD in message.text):
            problems.append(message.text)

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def new_key(make_key: Callable[..., str]) -> Callable[[str], str]:
    """make_key, from another thread: its asyncio.run refuses to start inside the loop that
    Playwright's sync API keeps running in this one."""

    def make(namespace: str) -> str:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(make_key, namespace).result()

    return make


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def browser_login(page: Page, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/ui/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")


def csrf_in(html: str) -> str:
    found = _CSRF_INPUT.search(html)
    assert found, html
    return found.group(1)


def http_login(client: httpx.Client, key: str) -> httpx.Response:
    """Log in the way the form does (plain HTTP, no browser); returns the login's answer."""
    form = client.get("/ui/login")
    return client.post("/ui/login", data={"api_key": key, "csrf": csrf_in(form.text)})
