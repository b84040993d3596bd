"""A scripted HTTP server on 127.0.0.1 (stdlib http.server in a thread) that counts requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROP = -1  # a scripted "status" that closes the connection without answering


@dataclass(frozen=True)
class Reply:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """Answers with `replies` in order, then repeats the last one; records every request."""

    replies: list[Reply]
    url: str = ""
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, method: str, path: str, body: bytes) -> Reply:
        with self._lock:
            self.requests.append((method, path, body))
            return self.replies[min(len(self.requests), len(self.replies)) - 1]


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            reply = script.next_reply(self.command, self.path, self.rfile.read(length))
            if reply.status == DROP:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the tests read `script.requests` instead."""

    return Handler


@contextmanager
def scripted(*replies: Reply) -> Iterator[Script]:
    script = Script(list(replies))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
