"""Seed 003's error body {error, message, details} with its codes, and its union on webhooks."""

from __future__ import annotations

from mnemo.api.errors import Problem, render_detail

PREFIXES = ("/v1/conversations", "/v1/memory/health", "/v1/memory/statistics", "/v1/patterns")
SHARED_PREFIXES = ("/v1/webhooks",)  # native routes seed 003 also documents

# The document's table; statuses it does not list keep mnemo's own code (PAYLOAD_TOO_LARGE,
# METHOD_NOT_ALLOWED...), and mnemo's finer code travels in details.reason.
_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
}


def status_and_code(problem: Problem) -> tuple[int, str]:
    """The document lists 400 for invalid input, so validation failures are 400 too."""
    if problem.code == "VALIDATION_ERROR":
        return 400, "BAD_REQUEST"
    if problem.status >= 500:
        return problem.status, "INTERNAL_ERROR"
    return problem.status, _CODE_BY_STATUS.get(problem.status, problem.code)


def _details(problem: Problem, code: str) -> dict[str, object]:
    """The document's details: {"field": "error details"}; validation errors name each field."""
    details: dict[str, object] = {}
    if isinstance(problem.details, list):
        for error in problem.details:
            if isinstance(error, dict):
                name = "body" if error.get("type") == "json_invalid" else _field(error.get("loc"))
                details[name] = str(error.get("msg", "invalid"))
    elif isinstance(problem.details, dict):
        details.update(problem.details)
    if problem.code not in (code, "VALIDATION_ERROR", "INVALID_REQUEST"):
        details["reason"] = problem.code
    return details


def _field(location: object) -> str:
    """("body", "role") -> "role"; the whole body or a malformed document -> "body"."""
    parts = [str(p) for p in location] if isinstance(location, list | tuple) else []
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def render_error(problem: Problem) -> tuple[int, dict[str, object]]:
    status, code = status_and_code(problem)
    return status, {"error": code, "message": problem.message, "details": _details(problem, code)}


def render_union(problem: Problem) -> dict[str, object]:
    """Paths native and seed 003 share: native's {"detail"} and status, seed 003's fields."""
    _status, code = status_and_code(problem)
    body: dict[str, object] = {"error": code, "message": problem.message}
    body["details"] = _details(problem, code)
    return {**render_detail(problem), **body}
