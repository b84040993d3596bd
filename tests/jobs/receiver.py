"""A real webhook receiver on 127.0.0.1 that checks every signature and can fail on purpose."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    delivery_id: str
    event: str
    body: str
    signature_ok: bool
    answered: int


@dataclass
class Receiver:
    """Answers 500 to the first `failures` requests (all of them when failures < 0), then 200."""

    failures: int = 0
    secret: str = ""
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]

    def handle(self, headers: dict[str, str], body: str) -> int:
        expected = hmac.new(
            self.secret.encode(),
            f"{headers.get('x-mnemo-timestamp', '')}.{body}".encode(),
            hashlib.sha256,
        ).hexdigest()
        signature_ok = hmac.compare_digest(expected, headers.get("x-mnemo-signature", ""))
        with self._lock:
            failing = self.failures < 0 or len(self.requests) < self.failures
            answered = 500 if failing or not signature_ok else 200
            self.requests.append(
                Received(
                    headers.get("x-mnemo-delivery", ""),
                    headers.get("x-mnemo-event", ""),
                    body,
                    signature_ok,
                    answered,
                )
            )
        return answered


@contextmanager
def running_receiver(failures: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.handle(headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
