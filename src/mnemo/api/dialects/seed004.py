"""Seed 004 (OmniMemory): everything under /api/v1, and GET /, over mnemo's services."""

from __future__ import annotations

from fastapi import APIRouter

from mnemo.api.dialects import seed004_agent, seed004_memories
from mnemo.api.dialects.seed004_memories import PREFIX
from mnemo.api.errors import ErrorRenderers, Problem

router = APIRouter()
router.include_router(seed004_memories.router)
router.include_router(seed004_agent.router)


def render_error(problem: Problem) -> tuple[int, dict[str, object]]:
    """{"detail": "..."}; the document answers validation errors with 400, not 422."""
    code = 400 if problem.code == "VALIDATION_ERROR" else problem.status
    return code, {"detail": problem.message}


def install(renderers: ErrorRenderers) -> None:
    renderers.register(PREFIX, render_error)
