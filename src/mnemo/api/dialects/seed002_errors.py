"""Seed 002's error envelope and codes, for every problem on its paths (422 becomes 400)."""

from __future__ import annotations

from mnemo.api.dialects.seed002_schemas import iso
from mnemo.api.errors import Problem
from mnemo.models import utcnow

PREFIXES = ("/v1/memories", "/status", "/v1/status", "/v1/metrics")

# The document's codes; every other problem maps onto the nearest one, and its own mnemo
# code travels in details.reason (PAYLOAD_TOO_LARGE, STORE_UNAVAILABLE, ...).
_CODE_BY_STATUS = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "MEMORY_NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
}


def status_and_code(problem: Problem) -> tuple[int, str]:
    """The document answers malformed requests with 400 INVALID_REQUEST, validation included."""
    if problem.code == "VALIDATION_ERROR":
        return 400, "INVALID_REQUEST"
    if problem.status in _CODE_BY_STATUS:
        return problem.status, _CODE_BY_STATUS[problem.status]
    if problem.status >= 500:
        return problem.status, "INTERNAL_ERROR"
    return problem.status, "INVALID_REQUEST"  # 400, and 405, 409, 413, 415 keep their status


def render_error(problem: Problem) -> tuple[int, dict[str, object]]:
    status, code = status_and_code(problem)
    details: dict[str, object] = {}
    if isinstance(problem.details, dict):
        details.update(problem.details)
    elif isinstance(problem.details, list):
        details["errors"] = problem.details
    if problem.code != code:
        details["reason"] = problem.code
    error = {"code": code, "message": problem.message, "details": details}
    return status, {"success": False, "error": error, "timestamp": iso(utcnow())}
