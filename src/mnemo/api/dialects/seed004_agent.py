"""Seed 004's agent operations (notes, summaries with callbacks), system and info routes."""

from __future__ import annotations

import threading
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from mnemo import __version__
from mnemo.api.convert import check_count, check_text
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.dialects.seed004_memories import owner_of
from mnemo.api.dialects.seed004_schemas import (
    AgentAcceptedOut,
    AgentMemoryIn,
    ApiInfoOut,
    EndpointsOut,
    PoolStatsOut,
    SummaryAcceptedOut,
    SummaryIn,
    SummaryOut,
)
from mnemo.auth.access import require
from mnemo.errors import StoreUnavailableError
from mnemo.models import Scope
from mnemo.services.summary_callbacks import Callback
from mnemo.wiring import Services

router = APIRouter(tags=["seed 004"])

# anyio's name for the worker threads that run blocking calls off the event loop.
WORKER_THREAD_NAME = "AnyIO worker thread"
DESCRIPTION = "Long-term memory server for LLM agents (OmniMemory-compatible API at /api/v1)"


@router.get("/")
async def api_info() -> ApiInfoOut:
    """No key needed: the same facts /docs and /openapi.json already show."""
    return ApiInfoOut(
        name="mnemo",
        version=__version__,
        description=DESCRIPTION,
        endpoints=EndpointsOut(docs="/docs", health="/health", api="/api/v1"),
    )


@router.post("/api/v1/agent/memories", status_code=status.HTTP_202_ACCEPTED)
async def add_agent_memory(
    body: AgentMemoryIn, who: PrincipalDep, services: ServicesDep
) -> AgentAcceptedOut:
    """The fast pipeline: a task summarises the messages (a string is kept as it is) and stores
    the summary as one episodic memory, with no extraction and no conflict resolution."""
    owner = owner_of(who, services, body)
    task = await services.seed004.tasks.submit_agent(who, owner, _lines(body, services))
    return AgentAcceptedOut(
        task_id=task.id,
        message="Agent memory creation task submitted successfully",
        app_id=owner.namespace,
        user_id=body.user_id,
        session_id=body.session_id,
    )


@router.post(
    "/api/v1/agent/summaries",
    response_model=SummaryOut,
    responses={202: {"model": SummaryAcceptedOut}},
)
async def summarize(
    body: SummaryIn,
    who: PrincipalDep,
    services: ServicesDep,
    x_callback_url: Annotated[str | None, Header(max_length=2048)] = None,
) -> JSONResponse:
    """200 with the summary; with `callback_url` (or X-Callback-URL) 202 and a task that POSTs
    the summary with its metadata to the callback, signed like a webhook (X-Mnemo-Signature,
    the HMAC-SHA256 of "{X-Mnemo-Timestamp}.{body}" keyed by `callback_secret`), with
    `callback_headers` added, up to 3 attempts with exponential backoff."""
    owner = owner_of(who, services, body)
    lines = _lines(body, services)
    url = body.callback_url or x_callback_url
    if url is None:
        require(who, Scope.READ)
        summary = await services.summarizer.summarize(lines)
        out = SummaryOut(summary=summary.text, app_id=owner.namespace, user_id=body.user_id,
                         session_id=body.session_id, message_count=len(lines))  # fmt: skip
        return JSONResponse(out.model_dump(mode="json"))
    callback = Callback(url, body.callback_secret, body.callback_headers or {})
    submitted = await services.seed004.summaries.submit(who, owner, lines, callback)
    accepted = SummaryAcceptedOut(
        task_id=submitted.task.id,
        message="Summary task submitted successfully",
        app_id=owner.namespace,
        user_id=body.user_id,
        session_id=body.session_id,
        callback_url=url,
        callback_secret=submitted.secret,
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)


@router.get("/api/v1/system/pool-stats")
async def pool_stats(who: PrincipalDep, services: ServicesDep) -> PoolStatsOut:
    """mnemo's counterpart of OmniMemory's vector-database handler pool: the worker threads
    that run every blocking store and embedding call (on SQLite each one reads through its own
    connection; writes share one). max_connections: how many such calls may run at once;
    created_handlers: worker threads alive now (made on demand, retired when idle);
    active_handlers: calls running now; available_handlers: the rest; initialized: the
    database answers."""
    require(who, Scope.READ)
    limiter = anyio.to_thread.current_default_thread_limiter()
    total, active = int(limiter.total_tokens), int(limiter.borrowed_tokens)
    alive = sum(1 for t in threading.enumerate() if t.name == WORKER_THREAD_NAME)
    try:
        await services.store.ping()
        initialized = True
    except StoreUnavailableError:
        initialized = False
    return PoolStatsOut(
        max_connections=total,
        created_handlers=alive,
        active_handlers=active,
        available_handlers=total - active,
        initialized=initialized,
    )


def _lines(body: AgentMemoryIn, services: Services) -> list[str]:
    """A string is one text; an array is one "role: content" line per message."""
    limits = services.settings.limits
    if isinstance(body.messages, str):
        check_text(body.messages, limits, "messages")
        return [body.messages]
    check_count(len(body.messages), limits.max_messages_per_request, "messages")
    for message in body.messages:
        check_text(message.content, limits, "message content")
    return [f"{m.role}: {m.content}" for m in body.messages]
