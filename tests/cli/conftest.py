"""Run the real `mnemo` executable on a fresh data folder; a tiny embeddings server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

MNEMO = Path(sys.executable).with_name("mnemo")


@dataclass
class Mnemo:
    """`mnemo ...` as a user types it, with MNEMO_DATA_DIR pointing at a test folder."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=lambda: {"COLUMNS": "200"})  # unwrapped tables

    def __call__(
        self, *args: str, expect: int = 0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        inherited = {
            k: v
            for k, v in os.environ.items()  # SQLite in data_dir, whatever the shell has set
            if k not in {"MNEMO_DATABASE_URL", "DATABASE_URL", "POSTGRES_HOST"}
        }
        full_env = {**inherited, "MNEMO_DATA_DIR": str(self.data_dir), **self.env, **(env or {})}
        done = subprocess.run(
            [str(MNEMO), *args], env=full_env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == expect, (
            f"mnemo {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done

    def json(self, *args: str, env: dict[str, str] | None = None) -> object:
        return json.loads(self(*args, "--json", env=env).stdout)

    def search_ids(self, *args: str, env: dict[str, str] | None = None) -> list[str]:
        found = self.json("search", *args, env=env)
        assert isinstance(found, dict)
        return [m["id"] for m in found["memories"]]


@pytest.fixture
def mnemo(tmp_path: Path) -> Mnemo:
    return Mnemo(tmp_path / "data")


@pytest.fixture
def make_mnemo(tmp_path: Path) -> Callable[[str], Mnemo]:
    """Another data folder: another mnemo installation."""
    return lambda name: Mnemo(tmp_path / name)


def fake_vector(text: str, dimension: int) -> list[float]:
    """A deterministic unit vector per text (the same text, the same vector)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(dimension)
    return [float(x) for x in vector / np.linalg.norm(vector)]


@dataclass
class EmbeddingsServer:
    """An OpenAI-compatible POST /v1/embeddings on loopback, recording every input text."""

    dimension: int
    texts: list[str] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.texts.extend(body["input"])
                data = [
                    {
                        "object": "embedding",
                        "index": i,
                        "embedding": fake_vector(t, server.dimension),
                    }
                    for i, t in enumerate(body["input"])
                ]
                reply = json.dumps({"object": "list", "data": data, "model": body["model"]})
                self.send_response(200 if self.path == "/v1/embeddings" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *_: object) -> None:
                pass

        return Handler


@pytest.fixture
def embeddings_server() -> Iterator[Callable[[int], EmbeddingsServer]]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(dimension: int) -> EmbeddingsServer:
        fake = EmbeddingsServer(dimension)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        started.append((httpd, thread))
        fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        return fake

    yield start
    for httpd, thread in started:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
