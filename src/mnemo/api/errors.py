"""Error rendering: domain errors become 4xx/5xx bodies in the shape of the path's dialect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnemo.errors import MnemoError, RateLimitedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """A dialect-neutral error: status, machine code, message, details."""

    status: int
    code: str
    message: str
    details: object = None


# A renderer returns the body, or (status, body) when its dialect documents another status
# for the problem (seed 002 answers validation failures with 400, not 422).
Rendered = dict[str, object] | tuple[int, dict[str, object]]
Renderer = Callable[[Problem], Rendered]


def render_detail(problem: Problem) -> dict[str, object]:
    """Seeds 000, 001 and 004 answer errors as {"detail": ...}."""
    return {"detail": problem.details if problem.code == "VALIDATION_ERROR" else problem.message}


class ErrorRenderers:
    """Chooses the error shape by path prefix; the longest registered prefix wins."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, Renderer] = {}

    def register(self, prefix: str, renderer: Renderer) -> None:
        self._by_prefix[prefix] = renderer

    def for_path(self, path: str) -> Renderer:
        matches = [p for p in self._by_prefix if path.startswith(p)]
        return self._by_prefix[max(matches, key=len)] if matches else render_detail


_STATUS_CODES = {
    400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMIT_EXCEEDED",
}  # fmt: skip


def install_error_handlers(app: FastAPI, renderers: ErrorRenderers) -> None:
    def respond(
        request: Request, problem: Problem, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        rendered = renderers.for_path(request.url.path)(problem)
        status, body = rendered if isinstance(rendered, tuple) else (problem.status, rendered)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(MnemoError)
    async def _domain(request: Request, exc: MnemoError) -> JSONResponse:
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
        )
        if exc.status >= 500:
            log.warning("request failed: %s %s", exc.code, exc.message)
        return respond(request, Problem(exc.status, exc.code, exc.message, exc.details), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_clean(e) for e in exc.errors()]
        message = "; ".join(_describe(e) for e in errors)
        return respond(request, Problem(422, "VALIDATION_ERROR", message, errors))

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> JSONResponse:
        # Domain models validate again what the API schema let through (e.g. filter rules).
        errors = [_clean(e) for e in exc.errors()]
        message = "; ".join(_describe(e) for e in errors)
        return respond(request, Problem(422, "VALIDATION_ERROR", message, errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "ERROR")
        headers = dict(exc.headers) if exc.headers else None
        return respond(request, Problem(exc.status_code, code, str(exc.detail)), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, Problem(500, "INTERNAL_ERROR", "Internal server error"))


def _describe(error: dict[str, object]) -> str:
    location = error.get("loc", ())
    path = ".".join(str(p) for p in location) if isinstance(location, list | tuple) else ""
    return f"{path}: {error.get('msg', 'invalid')}"


def _clean(error: object) -> dict[str, object]:
    """Validation errors as JSON-safe dicts (pydantic may put exceptions in `ctx`)."""
    assert isinstance(error, dict)
    cleaned = {k: v for k, v in error.items() if k in {"type", "loc", "msg"}}
    if "input" in error and isinstance(error["input"], str | int | float | bool | None):
        cleaned["input"] = error["input"]
    return cleaned
