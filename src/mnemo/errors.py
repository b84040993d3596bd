"""The whole exception tree of mnemo.

    MnemoError (code, status)
    ├── InvalidRequestError        400  INVALID_REQUEST
    │   └── PayloadTooLargeError   413  PAYLOAD_TOO_LARGE
    ├── UnauthorizedError          401  UNAUTHORIZED
    ├── ForbiddenError             403  FORBIDDEN
    ├── NotFoundError              404  NOT_FOUND
    │   ├── MemoryNotFoundError    404  MEMORY_NOT_FOUND
    │   ├── SessionNotFoundError   404  SESSION_NOT_FOUND
    │   └── TaskNotFoundError      404  TASK_NOT_FOUND
    ├── ConflictError              409  CONFLICT
    ├── RateLimitedError           429  RATE_LIMIT_EXCEEDED
    ├── StoreUnavailableError      503  STORE_UNAVAILABLE
    ├── EmbedderUnavailableError   503  EMBEDDER_UNAVAILABLE
    ├── LLMUnavailableError        503  LLM_UNAVAILABLE
    └── ConfigurationError         (start-up only: refuses to start)
        └── EmbeddingModelMismatchError

Adapters translate vendor exceptions into these at their boundary; routes raise them and
each API dialect renders them in its documented shape.
"""

from __future__ import annotations

from typing import ClassVar


class MnemoError(Exception):
    """Base of every error mnemo raises on purpose."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidRequestError(MnemoError):
    code = "INVALID_REQUEST"
    status = 400


class PayloadTooLargeError(InvalidRequestError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UnauthorizedError(MnemoError):
    code = "UNAUTHORIZED"
    status = 401


class ForbiddenError(MnemoError):
    code = "FORBIDDEN"
    status = 403


class NotFoundError(MnemoError):
    code = "NOT_FOUND"
    status = 404


class MemoryNotFoundError(NotFoundError):
    code = "MEMORY_NOT_FOUND"


class SessionNotFoundError(NotFoundError):
    code = "SESSION_NOT_FOUND"


class TaskNotFoundError(NotFoundError):
    code = "TASK_NOT_FOUND"


class ConflictError(MnemoError):
    code = "CONFLICT"
    status = 409


class RateLimitedError(MnemoError):
    code = "RATE_LIMIT_EXCEEDED"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class StoreUnavailableError(MnemoError):
    code = "STORE_UNAVAILABLE"
    status = 503


class EmbedderUnavailableError(MnemoError):
    code = "EMBEDDER_UNAVAILABLE"
    status = 503


class LLMUnavailableError(MnemoError):
    code = "LLM_UNAVAILABLE"
    status = 503


class ConfigurationError(MnemoError):
    """Raised at start-up when the configuration is unsafe or inconsistent."""

    code = "CONFIGURATION_ERROR"


class EmbeddingModelMismatchError(ConfigurationError):
    code = "EMBEDDING_MODEL_MISMATCH"
