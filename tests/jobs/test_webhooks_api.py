"""The webhook subscription API: secrets, validation, private targets, caps, tenancy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import httpx
import pytest

from mnemo.app import create_app
from mnemo.config import Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from mnemo.services.webhook_targets import is_public
from tests.conftest import DEV_KEY, key_client
from tests.helpers.servers import serve_in_thread
from tests.jobs.conftest import fast_jobs

PUBLIC_URL = "http://93.184.215.14/hook"  # a public address literal: no DNS needed, never called


def test_the_secret_is_shown_once_at_creation(client: httpx.Client) -> None:
    created = client.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["memory.created"]})
    assert created.status_code == 201
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    assert hook["namespace"] == "default" and hook["events"] == ["memory.created"]
    fetched = client.get(f"/v1/webhooks/{hook['id']}").json()
    assert "secret" not in fetched and fetched["url"] == PUBLIC_URL
    listed = client.get("/v1/webhooks").json()
    assert listed["total"] == 1 and "secret" not in listed["webhooks"][0]


def test_a_given_secret_is_kept(client: httpx.Client) -> None:
    body = {"url": PUBLIC_URL, "events": ["pattern.detected"], "secret": "my-own-secret"}
    assert client.post("/v1/webhooks", json=body).json()["secret"] == "my-own-secret"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": PUBLIC_URL, "events": ["memory.exploded"]}, 400),
        ({"url": PUBLIC_URL, "events": []}, 422),
        ({"url": "ftp://93.184.215.14/x", "events": ["memory.created"]}, 400),
        ({"url": "not a url", "events": ["memory.created"]}, 400),
        ({"url": "http://user:pw@93.184.215.14/x", "events": ["memory.created"]}, 400),
        ({"url": PUBLIC_URL, "events": ["memory.created"], "secret": ""}, 400),
    ],
)
def test_bad_subscriptions_are_refused(
    client: httpx.Client, body: dict[str, object], status: int
) -> None:
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == status, response.text


def test_unknown_event_error_lists_the_known_events(client: httpx.Client) -> None:
    detail = client.post("/v1/webhooks", json={"url": PUBLIC_URL, "events": ["nope"]}).json()[
        "detail"
    ]
    assert "nope" in detail and "extraction.completed" in detail and "message.created" in detail


def test_delete_removes_the_webhook_and_its_log(client: httpx.Client) -> None:
    hook = client.post(
        "/v1/webhooks", json={"url": PUBLIC_URL, "events": ["memory.created"]}
    ).json()
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 200
    for path in (f"/v1/webhooks/{hook['id']}", f"/v1/webhooks/{hook['id']}/deliveries"):
        assert client.get(path).status_code == 404
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 404


def test_webhooks_are_scoped_to_the_key_namespace(
    server_url: str, make_key: Callable[..., str]
) -> None:
    body = {"url": PUBLIC_URL, "events": ["memory.created"]}
    with (
        key_client(server_url, make_key("team-a")) as team_a,
        key_client(server_url, make_key("team-b")) as team_b,
    ):
        hook = team_a.post("/v1/webhooks", json=body).json()
        assert hook["namespace"] == "team-a"
        assert team_b.get(f"/v1/webhooks/{hook['id']}").status_code == 404
        assert team_b.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
        assert team_b.get("/v1/webhooks").json()["total"] == 0
        assert team_b.get("/v1/webhooks", params={"namespace": "team-a"}).status_code == 403
        assert team_a.get("/v1/webhooks").json()["total"] == 1
    with key_client(server_url, make_key("team-a", user="u1")) as user_bound:
        assert user_bound.post("/v1/webhooks", json=body).status_code == 403
        assert user_bound.get("/v1/webhooks").status_code == 403
    with key_client(server_url, make_key("team-a", scopes="read")) as reader:
        assert reader.post("/v1/webhooks", json=body).status_code == 403
        assert reader.get("/v1/webhooks").json()["total"] == 1


@pytest.fixture(scope="module")
def strict(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder
) -> Iterator[httpx.Client]:
    """An app with the production default: private targets refused; at most 2 webhooks."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("strict"),
        jobs=fast_jobs(),
        webhooks=WebhooksConfig(allow_private=False, max_webhooks_per_namespace=2),
    )
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": DEV_KEY}, timeout=30) as client,
    ):
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_private_targets_are_refused_without_the_setting(strict: httpx.Client, url: str) -> None:
    response = strict.post("/v1/webhooks", json={"url": url, "events": ["memory.created"]})
    assert response.status_code == 400, response.text
    assert "MNEMO_WEBHOOKS__ALLOW_PRIVATE" in response.json()["detail"]


def test_a_namespace_has_a_webhook_cap(strict: httpx.Client) -> None:
    body = {"url": PUBLIC_URL, "events": ["memory.created"]}
    assert [strict.post("/v1/webhooks", json=body).status_code for _ in range(2)] == [201, 201]
    over = strict.post("/v1/webhooks", json=body)
    assert over.status_code == 409 and "maximum" in over.json()["detail"]
    other_ns = strict.post("/v1/webhooks", json=body, params={"namespace": "elsewhere"})
    assert other_ns.status_code == 201


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.53", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("198.18.0.1", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
