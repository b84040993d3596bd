"""The SDK's exception tree, mirroring the server's, and the mapping of error answers to it.

    MnemoClientError                      (anything this package raises on purpose)
    ├── APIError (status, code, detail)   the server answered with an error
    │   ├── InvalidRequestError        400, 422  INVALID_REQUEST, VALIDATION_ERROR
    │   │   └── PayloadTooLargeError   413  PAYLOAD_TOO_LARGE
    │   ├── UnauthorizedError          401  UNAUTHORIZED   (no key sent)
    │   ├── ForbiddenError             403  FORBIDDEN      (unknown key, or out of its scope)
    │   ├── NotFoundError              404  NOT_FOUND
    │   │   ├── MemoryNotFoundError    404  MEMORY_NOT_FOUND
    │   │   ├── SessionNotFoundError   404  SESSION_NOT_FOUND
    │   │   └── TaskNotFoundError      404  TASK_NOT_FOUND
    │   ├── ConflictError              409  CONFLICT
    │   ├── RateLimitedError           429  RATE_LIMIT_EXCEEDED (retry_after)
    │   └── ServerError                5xx  INTERNAL_ERROR
    │       └── ServiceUnavailableError 503 STORE_/EMBEDDER_/LLM_UNAVAILABLE
    ├── ServerUnreachableError         the request never got an answer (connection, timeout)
    ├── UnexpectedResponseError        an answer this client cannot read
    └── TaskWaitTimeoutError           tasks.wait gave up before the task finished

The native API answers errors as {"detail": message}; when a body also names a code (other
dialects do), the code picks the class, otherwise the status does, and a 404 takes the class
of the resource the request addressed (a memory, a session, a task).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import httpx

from mnemo_client.models.jobs import Task


class MnemoClientError(Exception):
    """Base of every error the client raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIError(MnemoClientError):
    """The server answered with an error status; `detail` is its body's detail as sent."""

    code: ClassVar[str] = "ERROR"
    status: ClassVar[int] = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        detail: object = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = code or self.code
        self.detail = detail if detail is not None else message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return f"{self.status_code} {self.error_code}: {self.message}"


class InvalidRequestError(APIError):
    code = "INVALID_REQUEST"
    status = 400


class PayloadTooLargeError(InvalidRequestError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UnauthorizedError(APIError):
    code = "UNAUTHORIZED"
    status = 401


class ForbiddenError(APIError):
    code = "FORBIDDEN"
    status = 403


class NotFoundError(APIError):
    code = "NOT_FOUND"
    status = 404


class MemoryNotFoundError(NotFoundError):
    code = "MEMORY_NOT_FOUND"


class SessionNotFoundError(NotFoundError):
    code = "SESSION_NOT_FOUND"


class TaskNotFoundError(NotFoundError):
    code = "TASK_NOT_FOUND"


class ConflictError(APIError):
    code = "CONFLICT"
    status = 409


class RateLimitedError(APIError):
    """`retry_after` is the server's Retry-After in seconds, when it sent one."""

    code = "RATE_LIMIT_EXCEEDED"
    status = 429
    retry_after: float | None = None


class ServerError(APIError):
    code = "INTERNAL_ERROR"
    status = 500


class ServiceUnavailableError(ServerError):
    code = "SERVICE_UNAVAILABLE"
    status = 503


class ServerUnreachableError(MnemoClientError):
    """No answer: the connection failed or timed out (after the retries allowed)."""


class UnexpectedResponseError(MnemoClientError):
    """The server answered something this client cannot read (not JSON, or the wrong shape)."""


class TaskWaitTimeoutError(MnemoClientError):
    """tasks.wait() gave up; `task` is the last state seen."""

    def __init__(self, message: str, task: Task) -> None:
        super().__init__(message)
        self.task = task


_BY_CODE: dict[str, type[APIError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestError, PayloadTooLargeError, UnauthorizedError, ForbiddenError,
        NotFoundError, MemoryNotFoundError, SessionNotFoundError, TaskNotFoundError,
        ConflictError, RateLimitedError, ServerError, ServiceUnavailableError,
    )
}  # fmt: skip
_BY_CODE |= {
    "VALIDATION_ERROR": InvalidRequestError,
    "STORE_UNAVAILABLE": ServiceUnavailableError,
    "EMBEDDER_UNAVAILABLE": ServiceUnavailableError,
    "LLM_UNAVAILABLE": ServiceUnavailableError,
}
_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
    409: ConflictError, 413: PayloadTooLargeError, 422: InvalidRequestError,
    429: RateLimitedError, 503: ServiceUnavailableError,
}  # fmt: skip


def error_from_response(
    response: httpx.Response, not_found: type[NotFoundError] = NotFoundError
) -> APIError:
    """The exception for an error answer; `not_found` is the class a bare 404 maps to."""
    detail, code = _detail_and_code(_json_or_none(response))
    if code is None and response.status_code == 422:
        code = "VALIDATION_ERROR"  # the server's code for it; its native body names none
    message = _message_of(detail) or response.reason_phrase or f"HTTP {response.status_code}"
    error = _class_for(response.status_code, code, not_found)(
        message,
        status_code=response.status_code,
        code=code,
        detail=detail,
        method=response.request.method,
        url=str(response.request.url),
    )
    if isinstance(error, RateLimitedError):
        error.retry_after = retry_after_seconds(response.headers)
    return error


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds (its delta-seconds form); None when absent or a date."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _class_for(status: int, code: str | None, not_found: type[NotFoundError]) -> type[APIError]:
    if code is not None and code in _BY_CODE:
        by_code = _BY_CODE[code]
        if by_code is not NotFoundError or status != 404:
            return by_code
    if status == 404:
        return not_found
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return InvalidRequestError if 400 <= status < 500 else APIError


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text or None


def _detail_and_code(body: object) -> tuple[object, str | None]:
    """{"detail": ...}, {"error": {"code", "message"}}, {"code", "message"} or plain text."""
    if not isinstance(body, dict):
        return body, None
    inner = body.get("error")
    source = inner if isinstance(inner, dict) else body
    code = source.get("code")
    detail = body.get("detail", source.get("message", source.get("error", body)))
    return detail, code if isinstance(code, str) else None


def _message_of(detail: object) -> str:
    """Validation failures arrive as a list of {"loc", "msg"}; join them into one line."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", ()))
                parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return "" if detail is None else str(detail)
