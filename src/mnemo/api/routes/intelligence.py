"""Extraction on demand, chat and summaries: the memory intelligence of the native API."""

from __future__ import annotations

from fastapi import APIRouter

from mnemo.api.convert import check_count, check_text, result_of
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import MemoryRecordOut
from mnemo.api.schemas_intelligence import (
    ChatIn,
    ChatOut,
    ExtractIn,
    ExtractOut,
    RejectedOut,
    SummaryIn,
    SummaryOut,
    SupersededOut,
    UsageOut,
)
from mnemo.errors import InvalidRequestError

router = APIRouter(tags=["native"])


@router.post("/v1/long-term-memory/extract", response_model=ExtractOut)
async def extract(body: ExtractIn, who: PrincipalDep, services: ServicesDep) -> ExtractOut:
    report = await services.extraction.extract_for(who, body.session_id, body.namespace)
    c = report.consolidation
    return ExtractOut(
        status="ok",
        messages=report.messages,
        facts=report.facts,
        added=[MemoryRecordOut.of(m) for m in c.added],
        merged=[MemoryRecordOut.of(m) for m in c.merged],
        superseded=[
            SupersededOut(old=MemoryRecordOut.of(o), new=MemoryRecordOut.of(n))
            for o, n in c.superseded
        ],
        deleted=[MemoryRecordOut.of(m) for m in c.deleted],
        rejected=[RejectedOut(fact=f, reason=r) for f, r in c.rejected],
        usage=UsageOut.of(c.usage),
    )


@router.post("/v1/chat", response_model=ChatOut)
async def chat(body: ChatIn, who: PrincipalDep, services: ServicesDep) -> ChatOut:
    check_text(body.message, services.settings.limits, "message")
    result = await services.chat.chat(
        who, body.message, body.session_id, body.user_id, body.namespace
    )
    return ChatOut(
        response=result.response,
        session_id=result.session.session_id,
        user_id=result.session.user_id,
        relevant_context_count=len(result.memories),
        memories=[result_of(m, explain=False) for m in result.memories],
        usage=UsageOut.of(result.usage),
    )


@router.post("/v1/summaries", response_model=SummaryOut)
async def summaries(body: SummaryIn, who: PrincipalDep, services: ServicesDep) -> SummaryOut:
    limits = services.settings.limits
    if body.messages is None and body.session_id is None:
        raise InvalidRequestError("give either messages or a session_id to summarise")
    if isinstance(body.messages, str):
        check_text(body.messages, limits, "messages")
        lines = [body.messages]
    elif body.messages is not None:
        check_count(len(body.messages), limits.max_messages_per_request, "messages")
        lines = [f"{m.role}: {m.content}" for m in body.messages]
    else:
        assert body.session_id is not None
        session = await services.sessions.get(who, body.session_id, body.namespace, None)
        lines = [f"{m.role}: {m.content}" for m in session.messages]
        if session.context:
            lines.insert(0, session.context)
    summary = await services.summarizer.summarize(lines, max_sentences=body.max_sentences)
    return SummaryOut(
        summary=summary.text,
        message_count=len(lines),
        session_id=body.session_id,
        usage=UsageOut.of(summary.usage),
    )
