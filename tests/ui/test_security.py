"""The browser session's security over plain HTTP: cookie, CSRF, logout, revocation, headers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from mnemo.auth.keys import hash_key
from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.models import utcnow
from tests.conftest import DEV_KEY, key_client
from tests.ui.conftest import csrf_in, http_login

MEMORY = {"id": "m1", "text": "Dana keeps her passport in the blue drawer", "user_id": "dana"}


@pytest.fixture
def key(make_key: Callable[..., str], server_url: str) -> str:
    plaintext = make_key("acme")
    with key_client(server_url, plaintext) as api:
        assert api.post("/v1/long-term-memory/", json={"memories": [MEMORY]}).status_code == 200
    return plaintext


@pytest.fixture
def browser(server_url: str) -> Iterator[httpx.Client]:
    """A cookie-keeping HTTP client standing in for a browser."""
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


def memory_exists(server_url: str, key: str) -> bool:
    with key_client(server_url, key) as api:
        return api.get("/v1/long-term-memory/m1").status_code == 200


def test_the_session_cookie_is_httponly_strict_and_holds_no_key(
    browser: httpx.Client, key: str
) -> None:
    login = http_login(browser, key)
    assert login.status_code == 303 and login.headers["location"] == "/ui/memories"
    set_cookie = next(
        h for h in login.headers.get_list("set-cookie") if h.startswith("mnemo_ui_session=")
    )
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    assert "Path=/ui" in set_cookie
    assert key not in set_cookie
    assert browser.get("/ui/memories").status_code == 200


def test_a_state_change_needs_this_sessions_csrf_token(
    browser: httpx.Client, key: str, server_url: str
) -> None:
    http_login(browser, key)
    csrf = csrf_in(browser.get("/ui/memories/m1").text)
    assert browser.post("/ui/memories/m1/delete").status_code == 403
    assert browser.post("/ui/memories/m1/delete", data={"csrf": "forged"}).status_code == 403
    with httpx.Client(base_url=server_url) as other:  # another session's token does not work
        http_login(other, key)
        other_csrf = csrf_in(other.get("/ui/memories/m1").text)
    assert other_csrf != csrf
    assert browser.post("/ui/memories/m1/delete", data={"csrf": other_csrf}).status_code == 403
    assert memory_exists(server_url, key)
    deleted = browser.post("/ui/memories/m1/delete", data={"csrf": csrf})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/ui/memories?deleted=1"
    assert not memory_exists(server_url, key)


def test_htmx_posts_get_an_hx_redirect(browser: httpx.Client, key: str) -> None:
    http_login(browser, key)
    csrf = csrf_in(browser.get("/ui/memories/m1").text)
    pinned = browser.post(
        "/ui/memories/m1/pin", data={"csrf": csrf, "pinned": "1"}, headers={"HX-Request": "true"}
    )
    assert pinned.status_code == 204
    assert pinned.headers["HX-Redirect"] == "/ui/memories/m1?ns=acme"


def test_an_altered_cookie_is_refused(browser: httpx.Client, key: str) -> None:
    http_login(browser, key)
    token = browser.cookies["mnemo_ui_session"]
    payload, signature = token.split(".")
    altered = ("A" if payload[0] != "A" else "B") + payload[1:]
    browser.cookies.set("mnemo_ui_session", f"{altered}.{signature}", path="/ui")
    page = browser.get("/ui/memories")
    assert page.status_code == 303 and page.headers["location"] == "/ui/login"


def test_logout_ends_the_session_even_for_a_copied_cookie(
    browser: httpx.Client, key: str, server_url: str
) -> None:
    http_login(browser, key)
    copied = browser.cookies["mnemo_ui_session"]
    csrf = csrf_in(browser.get("/ui/memories").text)
    assert browser.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=server_url, cookies={"mnemo_ui_session": copied}) as thief:
        assert thief.get("/ui/memories").headers["location"] == "/ui/login"


def test_revoking_the_key_ends_its_browser_sessions(
    browser: httpx.Client, key: str, settings: Settings
) -> None:
    http_login(browser, key)
    assert browser.get("/ui/stats").status_code == 200

    async def revoke() -> None:
        async with opened_store(settings) as store:
            record = await store.find_api_key(hash_key(key))
            assert record is not None
            assert await store.revoke_api_key(record.id, utcnow())

    asyncio.run(revoke())
    assert browser.get("/ui/stats").headers["location"] == "/ui/login"


def test_login_needs_the_forms_own_token(browser: httpx.Client, key: str) -> None:
    refused = browser.post("/ui/login", data={"api_key": key, "csrf": "guessed"})
    assert refused.status_code == 400 and "expired" in refused.text
    assert "mnemo_ui_session" not in browser.cookies


def test_a_read_only_key_browses_but_cannot_delete(
    browser: httpx.Client, key: str, make_key: Callable[..., str], server_url: str
) -> None:
    http_login(browser, make_key("acme", scopes="read"))
    page = browser.get("/ui/memories/m1")
    assert page.status_code == 200 and "blue drawer" in page.text
    refused = browser.post("/ui/memories/m1/delete", data={"csrf": csrf_in(page.text)})
    assert refused.status_code == 403 and "write" in refused.text
    assert memory_exists(server_url, key)


def test_pages_carry_security_headers_and_stay_out_of_the_api_docs(
    browser: httpx.Client,
) -> None:
    login = browser.get("/ui/login")
    policy = login.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["cache-control"] == "no-store"
    assert browser.get("/ui/static/htmx.min.js").status_code == 200
    paths = browser.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]


def test_while_the_dev_key_works_only_loopback_host_names_are_served(
    browser: httpx.Client,
) -> None:
    """A page reached through DNS rebinding would send its own host name."""
    rebound = browser.get("/ui/login", headers={"Host": "attacker.example"})
    assert rebound.status_code == 403
    assert browser.get("/ui/login", headers={"Host": "localhost"}).status_code == 200


def test_the_dev_key_sees_every_namespace(
    browser: httpx.Client, key: str, make_key: Callable[..., str], server_url: str
) -> None:
    with key_client(server_url, make_key("globex")) as api:
        other = {"id": "m1", "text": "Globex ships on Fridays", "user_id": "erin"}
        assert api.post("/v1/long-term-memory/", json={"memories": [other]}).status_code == 200
    http_login(browser, DEV_KEY)
    listing = browser.get("/ui/memories").text
    assert "all namespaces (operator key)" in listing
    assert "blue drawer" in listing and "Globex ships" in listing
    only_acme = browser.get("/ui/memories", params={"ns": "acme"}).text
    assert "blue drawer" in only_acme and "Globex ships" not in only_acme
    same_id = browser.get("/ui/memories/m1", params={"ns": "globex"}).text
    assert "Globex ships" in same_id and "blue drawer" not in same_id
