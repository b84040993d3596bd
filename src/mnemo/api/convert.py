"""Translate native API bodies into service queries and domain objects into bodies."""

from __future__ import annotations

from mnemo.api.schemas import (
    MemoryRecordIn,
    MemoryRecordOut,
    MemoryRecordResultOut,
    MessageOut,
    ScoreBreakdown,
    SearchRequestIn,
    WorkingMemoryOut,
)
from mnemo.config import LimitsConfig, RetrievalConfig
from mnemo.errors import InvalidRequestError, PayloadTooLargeError
from mnemo.filters import MemoryFilter, check_filter_size
from mnemo.models import Session
from mnemo.retrieval.bm25 import Bm25Params
from mnemo.retrieval.fusion import FusionWeights
from mnemo.retrieval.pipeline import ScoredMemory, SearchMode, SearchQuery
from mnemo.retrieval.scoring import RecencyParams
from mnemo.services.memories import MemoryDraft
from mnemo.services.tokens import context_usage

_FILTER_FIELDS = (
    "session_id", "namespace", "user_id", "agent_id", "topics", "entities", "memory_type",
    "created_at", "last_accessed", "updated_at", "event_date", "importance", "metadata",
    "include_superseded", "include_expired",
)  # fmt: skip


def check_text(text: str, limits: LimitsConfig, what: str = "text") -> None:
    size = len(text.encode())
    if size > limits.max_text_bytes:
        raise PayloadTooLargeError(
            f"{what} is {size} bytes; the limit is {limits.max_text_bytes} bytes"
        )


def check_count(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise InvalidRequestError(f"too many {what}: {count}; the limit is {limit} per request")


def page_size(
    limit: int | None, limits: LimitsConfig, default: int = 20, name: str = "limit"
) -> int:
    """The page size asked for (the default, capped, when none is), or 400 over the cap."""
    if limit is None:
        return min(default, limits.max_page_size)
    if limit > limits.max_page_size:
        raise InvalidRequestError(f"{name} may be at most {limits.max_page_size}")
    return limit


def search_query(
    body: SearchRequestIn, limits: LimitsConfig, retrieval: RetrievalConfig
) -> SearchQuery:
    check_text(body.text, limits, "search text")
    page_size(body.limit, limits)
    memory_filter = MemoryFilter(**{f: getattr(body, f) for f in _FILTER_FIELDS})
    check_filter_size(memory_filter, limits.max_filter_clauses)
    return SearchQuery(
        text=body.text,
        filter=memory_filter,
        limit=body.limit,
        offset=body.offset,
        mode=SearchMode(body.search_mode),
        distance_threshold=body.distance_threshold,
        recency=_recency(body),
        weights=fusion_weights(retrieval, body.hybrid_alpha),
        bm25=Bm25Params(retrieval.bm25_k1, retrieval.bm25_b),
    )


def fusion_weights(retrieval: RetrievalConfig, alpha: float | None = None) -> FusionWeights:
    """The configured weights; with seed 001's hybrid_alpha, vector signals weigh alpha."""
    weights = FusionWeights(
        vector=retrieval.vector_weight,
        keyword=retrieval.keyword_weight,
        keyword_floor=retrieval.keyword_floor,
        context_vector=retrieval.context_vector_weight,
        context_keyword=retrieval.context_keyword_weight,
        neighbours=retrieval.neighbour_weight,
    )
    return weights if alpha is None else weights.with_alpha(alpha)


def _recency(body: SearchRequestIn) -> RecencyParams | None:
    if body.recency_boost is False:
        return None
    base = RecencyParams()
    return RecencyParams(
        semantic_weight=_pick(body.recency_semantic_weight, base.semantic_weight),
        recency_weight=_pick(body.recency_recency_weight, base.recency_weight),
        freshness_weight=_pick(body.recency_freshness_weight, base.freshness_weight),
        novelty_weight=_pick(body.recency_novelty_weight, base.novelty_weight),
        half_life_last_access_days=_pick(
            body.recency_half_life_last_access_days, base.half_life_last_access_days
        ),
        half_life_created_days=_pick(
            body.recency_half_life_created_days, base.half_life_created_days
        ),
    )


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def draft_of(record: MemoryRecordIn, limits: LimitsConfig) -> MemoryDraft:
    check_text(record.text, limits, "memory text")
    return MemoryDraft(
        text=record.text,
        id=record.id,
        namespace=record.namespace,
        user_id=record.user_id,
        agent_id=record.agent_id,
        session_id=record.session_id,
        memory_type=record.memory_type,
        topics=record.topics or [],
        entities=record.entities or [],
        metadata=record.metadata or {},
        importance=record.importance,
        pinned=record.pinned,
        event_date=record.event_date,
        created_at=record.created_at,
        expires_at=record.expires_at,
        extracted_from=record.extracted_from or [],
    )


def result_of(scored: ScoredMemory, explain: bool) -> MemoryRecordResultOut:
    breakdown = None
    if explain:
        breakdown = ScoreBreakdown(
            relevance=scored.relevance,
            similarity=scored.similarity,
            keyword=scored.keyword,
            recency=scored.recency,
        )
    base = MemoryRecordOut.of(scored.memory).model_dump()
    return MemoryRecordResultOut(
        **base,
        dist=round(scored.dist, 6),
        score=round(scored.score, 6),
        score_type=scored.score_type,
        score_breakdown=breakdown,
    )


def working_memory_out(session: Session, window: int) -> WorkingMemoryOut:
    """The same body GET/PUT /v1/working-memory/{session_id} answers with."""
    usage = context_usage(session.tokens, window)
    return WorkingMemoryOut(
        messages=[
            MessageOut(
                role=m.role, content=m.content, id=m.id, created_at=m.created_at,
                persisted_at=m.persisted_at, discrete_memory_extracted="t" if m.extracted else "f",
            )
            for m in session.messages
        ],
        memories=session.memories, data=session.data, context=session.context,
        user_id=session.user_id, tokens=session.tokens, session_id=session.session_id,
        namespace=session.namespace, long_term_memory_strategy=session.strategy,
        ttl_seconds=session.ttl_seconds, last_accessed=session.last_accessed_at,
        created_at=session.created_at, updated_at=session.updated_at,
        context_percentage_total_used=usage.total_percent,
        context_percentage_until_summarization=usage.until_summarization_percent,
        extraction_task_id=session.extraction_task_id,
    )  # fmt: skip
