"""A scripted OpenAI-compatible chat-completions server on loopback, the only LLM fake."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ContentReply:
    """A successful chat.completion whose assistant message says `content`.

    Token counts default to a chars/4 estimate of the request and the content; set them to
    assert exact usage. `include_usage=False` imitates servers that omit the usage object.
    """

    content: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    include_usage: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusReply:
    """A raw HTTP answer: any status, a body (a dict is sent as JSON) and headers."""

    status: int
    body: str | JsonObject | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DelayReply:
    """Wait `seconds` (to provoke client timeouts), then send `then`."""

    seconds: float
    then: ScriptItem = "{}"


Reply = ContentReply | StatusReply | DelayReply
ScriptItem = str | Reply
Responder = Callable[[JsonObject], ScriptItem]


def openai_error(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> StatusReply:
    """An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return StatusReply(status, body, dict(headers or {}))


def rate_limited(
    retry_after: str | None = "1", *, code: str = "rate_limit_exceeded"
) -> StatusReply:
    """429 as OpenAI sends it; `retry_after` is the Retry-After header value, if any."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return openai_error(
        429,
        "Rate limit reached. Please try again later.",
        type_="requests",
        code=code,
        headers=headers,
    )


def server_error(status: int = 500) -> StatusReply:
    return openai_error(
        status, "The server had an error while processing your request.", type_="server_error"
    )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    json: JsonObject | None


def _estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def _prompt_tokens(body: JsonObject) -> int:
    # OpenAI's chat format costs a few tokens per message on top of the content.
    messages = body.get("messages", [])
    return sum(3 + _estimate_tokens(str(m.get("content") or "")) for m in messages) + 3


def completion_body(request: JsonObject, reply: ContentReply) -> JsonObject:
    """The chat.completion object the OpenAI API returns for `reply`."""
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _prompt_tokens(request)
    completion = (
        reply.completion_tokens
        if reply.completion_tokens is not None
        else _estimate_tokens(reply.content or "")
    )
    body: JsonObject = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted-model"),
        "system_fingerprint": "fp_scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
    }
    if reply.include_usage:
        body["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
    return body


_ROLES = {"system", "developer", "user", "assistant", "tool"}


def _request_problem(body: object) -> StatusReply | None:
    """The 400 OpenAI would answer to a malformed chat request, or None if it is well formed."""
    if not isinstance(body, dict):
        return openai_error(400, "We could not parse the JSON body of your request.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return openai_error(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return openai_error(400, "'messages' must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return openai_error(400, f"Invalid 'messages[{i}].role'", param=f"messages[{i}]")
        if not isinstance(message.get("content"), str | list):
            return openai_error(400, f"Invalid 'messages[{i}].content'", param=f"messages[{i}]")
    if body.get("stream"):
        return openai_error(400, "ScriptedLLMServer does not stream", param="stream")
    return None


class ScriptedLLMServer:
    """A real HTTP server on 127.0.0.1 speaking OpenAI's /v1/chat/completions and /v1/models.

    Each chat request takes the next scripted reply (a content string, ContentReply,
    StatusReply or DelayReply); once the script is empty the `responder` callback, if any,
    answers from the request JSON. Well-formedness, the API key and JSON mode's rules are
    checked first, as OpenAI does, and such rejections consume no scripted reply.

        with ScriptedLLMServer(['{"facts": []}', rate_limited("1")]) as llm_server:
            OpenAILLM(llm_server.base_url, "sk-test", "scripted-model") ...
            llm_server.requests  # every chat request body received, in order
    """

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        responder: Responder | None = None,
        model: str = "scripted-model",
        api_key: str | None = None,
        supports_response_format: bool = True,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.supports_response_format = supports_response_format
        self.responder = responder
        self.recorded: list[RecordedRequest] = []
        self.errors: list[str] = []
        self._script: deque[ScriptItem] = deque(script)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting and inspection ------------------------------------------------------------

    def enqueue(self, *items: ScriptItem) -> None:
        with self._lock:
            self._script.extend(items)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[JsonObject]:
        """Bodies of the POST /v1/chat/completions requests received, in order."""
        with self._lock:
            return [
                r.json
                for r in self.recorded
                if r.path.endswith("/chat/completions") and r.json is not None
            ]

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("ScriptedLLMServer is not running; use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> ScriptedLLMServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.scripted = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._httpd is not None and self._thread is not None
        self._closing.set()  # ends pending delays at once
        self._httpd.shutdown()
        self._httpd.drop_connections()
        self._httpd.server_close()  # joins the handler threads
        self._thread.join(timeout=10)
        if self.errors and exc_type is None:
            raise AssertionError("ScriptedLLMServer: " + "; ".join(self.errors))

    # -- answering (called from handler threads) -------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.recorded.append(request)

    def _gatekeep(self, request: RecordedRequest) -> StatusReply | None:
        if self.api_key is not None and not self._authorised(request.headers):
            return openai_error(
                401,
                "Incorrect API key provided. You can find your API key in your account.",
                code="invalid_api_key",
            )
        problem = _request_problem(request.json)
        if problem is not None or request.json is None:
            return problem
        return self._json_mode_problem(request.json)

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        bearer = headers.get("authorization", "")
        return bearer == f"Bearer {self.api_key}" or headers.get("api-key") == self.api_key

    def _json_mode_problem(self, body: JsonObject) -> StatusReply | None:
        response_format = body.get("response_format")
        if response_format is None:
            return None
        if not self.supports_response_format:
            return openai_error(
                400, "response_format is not supported by this server", param="response_format"
            )
        text = json.dumps(body["messages"]).lower()
        if (
            isinstance(response_format, dict)
            and response_format.get("type") == "json_object"
            and "json" not in text
        ):
            return openai_error(
                400,
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                param="messages",
            )
        return None

    def _next_reply(self, body: JsonObject) -> ScriptItem:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.responder is None:
            self.errors.append("a chat request arrived after the script ran out")
            return openai_error(
                500, "ScriptedLLMServer: no scripted reply left", type_="server_error"
            )
        try:
            return self.responder(body)
        except Exception as exc:  # reported at exit; answered as a 500 now
            self.errors.append(f"responder raised {exc!r}")
            return openai_error(500, f"responder raised {exc!r}", type_="server_error")

    def _wait(self, seconds: float) -> bool:
        """Sleep; False when the server is closing and the reply should be dropped."""
        return not self._closing.wait(seconds)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined at close, so no thread outlives its test.
    daemon_threads = False
    block_on_close = True
    scripted: ScriptedLLMServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def drop_connections(self) -> None:
        # Keep-alive handlers block reading the next request; closing the sockets frees them.
        with self.connections_lock:
            for sock in self.connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) is expected; anything else is a harness bug.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        request = self._read()
        if request.path.rstrip("/") == "/v1/models":
            model = {
                "id": self.server.scripted.model,
                "object": "model",
                "created": 1700000000,
                "owned_by": "mnemo-tests",
            }
            self._send(StatusReply(200, {"object": "list", "data": [model]}))
        else:
            self._send(openai_error(404, f"Unknown request URL: GET {request.path}"))

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        request = self._read()
        scripted = self.server.scripted
        if request.path.rstrip("/") != "/v1/chat/completions":
            self._send(openai_error(404, f"Unknown request URL: POST {request.path}"))
            return
        problem = scripted._gatekeep(request)
        if problem is not None:
            self._send(problem)
            return
        assert request.json is not None
        self._answer(scripted._next_reply(request.json), request.json)

    def _answer(self, item: ScriptItem, body: JsonObject) -> None:
        while isinstance(item, DelayReply):
            if not self.server.scripted._wait(item.seconds):
                self.close_connection = True
                return
            item = item.then
        if isinstance(item, str):
            item = ContentReply(item)
        if isinstance(item, ContentReply):
            item = StatusReply(200, completion_body(body, item), item.headers)
        self._send(item)

    def _read(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=raw,
            json=parsed if isinstance(parsed, dict) else None,
        )
        self.server.scripted._record(request)
        return request

    def _send(self, reply: StatusReply) -> None:
        if isinstance(reply.body, dict):
            payload, content_type = json.dumps(reply.body).encode(), "application/json"
        else:
            payload, content_type = (reply.body or "").encode(), "text/plain; charset=utf-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            # The client hung up (it timed out); nothing left to tell it.
            self.close_connection = True
