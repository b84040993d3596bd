"""`mnemo reembed`: switch the embedding model while the server runs, and back again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from mnemo.embedders.local import MODEL_NAME, LocalEmbedder
from tests.cli.conftest import EmbeddingsServer, Mnemo, fake_vector
from tests.contract.conftest import fresh_postgres_database
from tests.helpers.servers import serve_in_subprocess

StartServer = Callable[[int], EmbeddingsServer]
TEXTS = [
    "Alice prefers window seats on long flights",
    "Alice moved to Lisbon in May",
    "Bob is allergic to peanuts",
]


def remote(fake: EmbeddingsServer, model: str) -> dict[str, str]:
    """The environment of a server configured for the fake embeddings model."""
    return {
        "MNEMO_EMBEDDER__PROVIDER": "openai",
        "MNEMO_EMBEDDER__BASE_URL": fake.url,
        "MNEMO_EMBEDDER__MODEL": model,
        "MNEMO_EMBEDDER__DIMENSION": str(fake.dimension),
    }


def vectors(mnemo: Mnemo, tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, list]:
    out = tmp_path / f"vectors-{time.monotonic_ns()}.jsonl"
    mnemo("export", "-o", str(out), "--with-embeddings", "--no-history", env=env)
    lines = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    return {line["text"]: line["embedding"] for line in lines}


def test_reembed_switches_the_model_online_and_back(
    mnemo: Mnemo, embeddings_server: StartServer, embedder: LocalEmbedder, tmp_path: Path
) -> None:
    ids = [mnemo("add", text, "--user", "alice").stdout.strip() for text in TEXTS]
    fake = embeddings_server(384)
    new = remote(fake, "fake-embed-384")
    refused = mnemo("search", "Lisbon", env=new, expect=2)
    assert "mnemo reembed" in refused.stderr

    with serve_in_subprocess(mnemo.data_dir) as url:  # the old model keeps serving meanwhile
        done = mnemo(
            "reembed", "--model", "fake-embed-384", "--provider", "openai",
            "--base-url", fake.url, "--batch", "2",
        )  # fmt: skip
        answer = httpx.post(
            f"{url}/v1/long-term-memory/search", json={"text": "Lisbon"},
            headers={"X-API-Key": "dev-key-12345"}, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200 and answer.json()["total"] == 3
    assert "re-embedded 3 memories with fake-embed-384" in done.stderr
    assert "--since" in done.stdout and "MNEMO_EMBEDDER__PROVIDER=openai" in done.stdout
    assert sorted(fake.texts) == sorted(TEXTS)  # each memory once, in batches of two

    assert "fake-embed-384" in mnemo("search", "Lisbon", expect=2).stderr  # old config refused
    assert mnemo.search_ids(TEXTS[1], env=new)[0] == ids[1]
    for text, vector in vectors(mnemo, tmp_path, new).items():
        np.testing.assert_allclose(vector, fake_vector(text, 384), atol=1e-6)

    back = mnemo("reembed", "--model", MODEL_NAME, "--provider", "local", env=new)
    assert f"re-embedded 3 memories with {MODEL_NAME}" in back.stderr
    assert mnemo.search_ids("Where does Alice live?")[0] == ids[1]
    for text, vector in vectors(mnemo, tmp_path).items():
        np.testing.assert_allclose(vector, embedder.embed([text])[0], atol=1e-5)


def test_reembed_since_takes_only_newer_memories(
    mnemo: Mnemo, embeddings_server: StartServer
) -> None:
    mnemo("add", TEXTS[0])
    time.sleep(0.05)
    since = datetime.now(UTC).isoformat()
    mnemo("add", TEXTS[1])
    fake = embeddings_server(384)
    mnemo("reembed", "--model", "fake", "--provider", "openai", "--base-url", fake.url,
          "--since", since)  # fmt: skip
    assert fake.texts == [TEXTS[1]]
    assert "ISO date" in mnemo("reembed", "--model", "x", "--since", "yesterday", expect=2).stderr


def test_a_new_dimension_needs_the_server_stopped(
    mnemo: Mnemo, embeddings_server: StartServer
) -> None:
    memory_id = mnemo("add", TEXTS[2], "--user", "bob").stdout.strip()
    fake = embeddings_server(8)
    command = ["reembed", "--model", "tiny-8", "--provider", "openai", "--base-url", fake.url,
               "--dimension", "8"]  # fmt: skip
    refused = mnemo(*command, expect=2)
    assert "from 384 to 8 dimensions" in refused.stderr and "--allow-dimension-change" in (
        refused.stderr
    )
    assert fake.texts == []
    mnemo(*command, "--allow-dimension-change")
    assert mnemo.search_ids(TEXTS[2], env=remote(fake, "tiny-8")) == [memory_id]


def test_the_local_provider_has_one_model(mnemo: Mnemo) -> None:
    refused = mnemo("reembed", "--model", "bge-small", "--provider", "local", expect=2)
    assert "the local provider has one model" in refused.stderr


async def test_reembed_on_postgresql_keeps_the_dimension(
    mnemo: Mnemo, embeddings_server: StartServer
) -> None:
    async with fresh_postgres_database() as url:
        pg = {"MNEMO_DATABASE_URL": url}
        ids = [mnemo("add", text, env=pg).stdout.strip() for text in TEXTS[:2]]
        same, other = embeddings_server(384), embeddings_server(8)
        mnemo("reembed", "--model", "fake-384", "--provider", "openai", "--base-url", same.url,
              env=pg)  # fmt: skip
        assert sorted(same.texts) == sorted(TEXTS[:2])
        assert mnemo.search_ids(TEXTS[1], env={**pg, **remote(same, "fake-384")})[0] == ids[1]

        refused = mnemo(
            "reembed", "--model", "tiny-8", "--provider", "openai", "--base-url", other.url,
            "--dimension", "8", "--allow-dimension-change", env=pg, expect=2,
        )  # fmt: skip
        assert "on PostgreSQL reembed keeps the dimension" in refused.stderr
        assert other.texts == []
