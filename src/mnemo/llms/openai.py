"""OpenAI-compatible chat-completions adapter (OpenAI, Azure, Ollama, vLLM, llama.cpp, LiteLLM)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from mnemo.errors import ConfigurationError, InvalidRequestError, LLMUnavailableError
from mnemo.llms.base import ChatMessage, LLMOutputError, LLMResult, T
from mnemo.llms.usage import Usage, UsageMeter

log = logging.getLogger(__name__)

RETRY_AFTER_CAP_S = 10.0
_BACKOFF_CAP_S = 8.0
# 408/409 are OpenAI's own "try again" answers; 429 and 5xx are load and outages.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Sent for determinism and structure. A server that rejects one of them is asked again without
# it (max_tokens: under its newer name) and remembered, so the next calls do not pay twice.
_OPTIONAL_PARAMS = ("response_format", "max_tokens", "temperature")
_CONTEXT_TOO_LONG = ("context length", "context_length", "too many tokens", "prompt is too long")
_FENCE = re.compile(r"```[A-Za-z]*[ \t]*\n?(.*?)```", re.DOTALL)
# Reasoning models served by Ollama or vLLM (Qwen3, DeepSeek-R1) put their thoughts inline.
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_MAX_SERVER_TEXT = 300
_MAX_ERRORS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class _Completion:
    content: str | None
    usage: Usage


class _RetryableError(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class _BadOutputError(Exception):
    """The answer is not valid JSON for the schema; the reason is shown to the model."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OpenAILLM:
    """An LLM reached over the OpenAI chat-completions protocol.

    `base_url` is the OpenAI-style root *including* the version segment, exactly like the
    openai SDK's `base_url`: "https://api.openai.com/v1", "http://127.0.0.1:11434/v1"
    (Ollama), "http://127.0.0.1:8080/v1" (llama.cpp, vLLM), "http://127.0.0.1:1234/v1"
    (LM Studio). Requests go to `{base_url}/chat/completions`. For Azure OpenAI pass the
    deployment root ("https://<res>.openai.azure.com/openai/deployments/<deployment>") with
    `azure=True` (key sent as `api-key` instead of a bearer token) and `api_version`.

    The instance owns its HTTP client unless one is passed in; call `aclose()` (or use
    `async with`) when done.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        client: httpx.AsyncClient | None = None,
        *,
        azure: bool = False,
        api_version: str | None = None,
        meter: UsageMeter | None = None,
        temperature: float | None = 0.0,
        backoff_base_s: float = 0.5,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
    ) -> None:
        _check_settings(model, timeout_s, max_retries)
        self._url, self._endpoint = _chat_url(base_url)
        self._api_key = api_key or None
        self._model = model
        self._timeout_s = timeout_s
        self._timeout = httpx.Timeout(timeout_s)
        self._max_retries = max_retries
        self._headers = _auth_headers(self._api_key, azure=azure)
        self._params = {"api-version": api_version} if api_version else {}
        self._meter = meter if meter is not None else UsageMeter()
        self._temperature = temperature
        self._backoff_base_s = backoff_base_s
        self._retry_after_cap_s = retry_after_cap_s
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=self._timeout)
        self._unsupported: set[str] = set()

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def meter(self) -> UsageMeter:
        return self._meter

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> OpenAILLM:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def complete_json(
        self, messages: Sequence[ChatMessage], schema: type[T], *, purpose: str
    ) -> LLMResult[T]:
        """JSON mode, validated against `schema`, with one repair round on bad output."""
        first = await self._complete(messages, purpose=purpose, json_mode=True)
        try:
            return LLMResult(_parse(first.content, schema), first.usage)
        except _BadOutputError as bad:
            problem = bad.reason
        repair: list[ChatMessage] = [
            *messages,
            {"role": "assistant", "content": first.content or ""},
            {"role": "user", "content": _repair_prompt(problem, schema)},
        ]
        second = await self._complete(repair, purpose=purpose, json_mode=True)
        try:
            value = _parse(second.content, schema)
        except _BadOutputError as again:
            raise LLMOutputError(
                f"LLM model {self._model!r} gave unusable output for {purpose} twice: "
                f"{again.reason}",
                details={"model": self._model, "purpose": purpose, "first_error": problem},
                usage=first.usage + second.usage,
            ) from None
        return LLMResult(value, first.usage + second.usage)

    async def complete_text(
        self, messages: Sequence[ChatMessage], *, purpose: str, max_tokens: int | None = None
    ) -> LLMResult[str]:
        if max_tokens is not None and max_tokens < 1:
            raise InvalidRequestError(f"max_tokens must be at least 1, got {max_tokens}")
        completion = await self._complete(
            messages, purpose=purpose, json_mode=False, max_tokens=max_tokens
        )
        if completion.content is None:
            raise LLMOutputError(
                f"LLM model {self._model!r} returned no text for {purpose}",
                details={"model": self._model, "purpose": purpose},
            )
        return LLMResult(_without_thinking(completion.content).strip(), completion.usage)

    async def _complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        json_mode: bool,
        max_tokens: int | None = None,
    ) -> _Completion:
        if not messages:
            raise InvalidRequestError("an LLM call needs at least one message")
        payload = await self._post(messages, json_mode=json_mode, max_tokens=max_tokens)
        completion = self._completion_of(payload)
        # Recorded before the content is judged: a rejected answer was still paid for.
        self._meter.record(purpose, completion.usage)
        return completion

    async def _post(
        self, messages: Sequence[ChatMessage], *, json_mode: bool, max_tokens: int | None
    ) -> dict[str, Any]:
        """One successful response's JSON, after retries and parameter fallbacks."""
        attempt = 0
        while True:
            body = self._body(messages, json_mode=json_mode, max_tokens=max_tokens)
            try:
                response = await self._send(body)
            except _RetryableError as failure:
                if attempt >= self._max_retries:
                    raise self._unavailable(failure.reason, attempts=attempt + 1) from None
                delay = self._delay(attempt, failure.retry_after_s)
                log.warning(
                    "LLM call failed (%s); retry %d/%d in %.2f s",
                    failure.reason,
                    attempt + 1,
                    self._max_retries,
                    delay,
                )
                await asyncio.sleep(delay)
                attempt += 1
                continue
            # Fallbacks do not count as retries: each one removes a parameter for good.
            if not self._learned_unsupported(body, response):
                return self._payload_of(response)

    def _body(
        self, messages: Sequence[ChatMessage], *, json_mode: bool, max_tokens: int | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        }
        if self._temperature is not None and "temperature" not in self._unsupported:
            body["temperature"] = self._temperature
        if json_mode and "response_format" not in self._unsupported:
            body["response_format"] = {"type": "json_object"}
        if max_tokens is not None:
            key = "max_completion_tokens" if "max_tokens" in self._unsupported else "max_tokens"
            body[key] = max_tokens
        return body

    async def _send(self, body: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._client.post(
                self._url,
                json=body,
                headers=self._headers,
                params=self._params,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise _RetryableError(
                f"no answer within {self._timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise _RetryableError(f"connection failed: {str(exc) or type(exc).__name__}") from exc
        status = response.status_code
        retryable = status in _RETRYABLE_STATUSES or status >= 500
        # An exhausted quota answers 429 too, but waiting does not refill it.
        if retryable and _error_field(response, "code") != "insufficient_quota":
            raise _RetryableError(
                f"HTTP {status}: {self._server_text(response)}", _retry_after_s(response.headers)
            )
        return response

    def _learned_unsupported(self, body: Mapping[str, Any], response: httpx.Response) -> bool:
        if response.status_code not in (400, 422):
            return False
        declared = _error_field(response, "param")
        text = response.text.lower()
        for param in _OPTIONAL_PARAMS:
            if param in body and (declared == param or param in text):
                log.info("LLM endpoint %s rejects %r; not sending it again", self._endpoint, param)
                self._unsupported.add(param)
                return True
        return False

    def _payload_of(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise self._refused(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise self._unavailable(
                f"HTTP {response.status_code} with a body that is not a JSON object", attempts=1
            )
        return payload

    def _completion_of(self, payload: Mapping[str, Any]) -> _Completion:
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._unavailable("a response without choices", attempts=1)
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        return _Completion(_text_of(content), Usage.of_call(payload.get("usage")))

    def _refused(self, response: httpx.Response) -> InvalidRequestError | LLMUnavailableError:
        status = response.status_code
        text = self._server_text(response)
        if status in (400, 413, 422) and any(m in text.lower() for m in _CONTEXT_TOO_LONG):
            return InvalidRequestError(
                f"the input is too long for LLM model {self._model!r}: {text}"
            )
        hint = _HINTS.get(status, "")
        return LLMUnavailableError(
            f"LLM endpoint {self._endpoint} refused the request (HTTP {status}): {text}{hint}",
            details={"endpoint": self._endpoint, "model": self._model, "status": status},
        )

    def _unavailable(self, reason: str, *, attempts: int) -> LLMUnavailableError:
        return LLMUnavailableError(
            self._scrub(
                f"LLM endpoint {self._endpoint} (model {self._model!r}) unavailable after "
                f"{attempts} attempt(s): {reason}"
            ),
            details={"endpoint": self._endpoint, "model": self._model, "attempts": attempts},
        )

    def _server_text(self, response: httpx.Response) -> str:
        message = _error_field(response, "message")
        text = message if message is not None else response.text.strip()
        return self._scrub(text[:_MAX_SERVER_TEXT] or response.reason_phrase)

    def _scrub(self, text: str) -> str:
        # Some servers echo what they were sent; the key must never reach logs or clients.
        return text.replace(self._api_key, "***") if self._api_key else text

    def _delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self._retry_after_cap_s)
        ceiling = min(_BACKOFF_CAP_S, self._backoff_base_s * 2**attempt)
        # "Equal jitter": never less than half the backoff, so concurrent callers spread out.
        return random.uniform(ceiling / 2, ceiling)


_HINTS = {
    401: " (check the LLM API key)",
    403: " (check the LLM API key's permissions)",
    404: " (check the base URL, which must include /v1, and the model name)",
}


def _check_settings(model: str, timeout_s: float, max_retries: int) -> None:
    if not model.strip():
        raise ConfigurationError("the LLM model name is empty")
    if timeout_s <= 0:
        raise ConfigurationError(f"the LLM timeout must be positive, got {timeout_s}")
    if max_retries < 0:
        raise ConfigurationError(f"max_retries cannot be negative, got {max_retries}")


def _chat_url(base_url: str) -> tuple[httpx.URL, str]:
    """The chat-completions URL and a printable endpoint without credentials or query."""
    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"invalid LLM base URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError("the LLM base URL must be an http(s) URL such as http://host/v1")
    path = url.path.rstrip("/")
    port = f":{url.port}" if url.port is not None else ""
    endpoint = f"{url.scheme}://{url.host}{port}{path}"
    return url.copy_with(path=f"{path}/chat/completions"), endpoint


def _auth_headers(api_key: str | None, *, azure: bool) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if api_key and azure:
        headers["api-key"] = api_key
    elif api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def _error_field(response: httpx.Response, field: str) -> str | None:
    """`error.<field>` of an OpenAI-style error body, or a top-level `message`/`detail`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        value = error.get(field)
    elif field == "message":
        value = error if isinstance(error, str) else body.get("message", body.get("detail"))
    else:
        value = None
    return value if isinstance(value, str) else None


def _retry_after_s(headers: httpx.Headers) -> float | None:
    """Seconds to wait from retry-after-ms (OpenAI) or Retry-After (seconds or HTTP date)."""
    millis = _as_float(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _as_float(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _text_of(content: object) -> str | None:
    """Message content as text; some servers send a list of typed parts instead of a string."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return None


def _without_thinking(text: str) -> str:
    return _THINKING.sub("", text)


def _json_text(content: str) -> str:
    """The JSON inside an answer: without thinking, code fences or a sentence around it."""
    text = _without_thinking(content).strip()
    # A bare object goes as is, so that fences quoted inside its strings are left alone.
    if text.startswith(("{", "[")):
        return text
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _parse(content: str | None, schema: type[T]) -> T:
    if content is None:
        raise _BadOutputError("the answer had no content")
    try:
        data = json.loads(_json_text(content))
    except json.JSONDecodeError as exc:
        raise _BadOutputError(f"the answer is not valid JSON ({exc})") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise _BadOutputError(f"the JSON does not match the schema: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    lines = [
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in errors[:_MAX_ERRORS_SHOWN]
    ]
    more = len(errors) - _MAX_ERRORS_SHOWN
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def _repair_prompt(problem: str, schema: type[BaseModel]) -> str:
    shape = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    return (
        f"Your previous answer could not be used: {problem}\n"
        "Reply again with only the corrected JSON object: no explanation, no code fences. "
        f"It must match this JSON schema:\n{shape}"
    )
