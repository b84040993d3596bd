"""The search pipeline: embed, gather candidates, score BM25, describe, fuse, threshold,
recency re-rank, page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import anyio.to_thread

from mnemo.embedders.cache import CachedEmbedder
from mnemo.filters import MemoryFilter
from mnemo.models import Memory
from mnemo.retrieval.bm25 import Bm25Params, keyword_signals
from mnemo.retrieval.fusion import FusionWeights, Signals, fuse_signals
from mnemo.retrieval.scoring import RecencyParams, combine, recency_score
from mnemo.retrieval.text import query_terms
from mnemo.stores.base import CandidateDetail, CandidateQuery, CandidateSet, Store, Vector

Key = tuple[str, str]


# Keyword matches scored on the event loop itself; more go to a worker thread.
_SCORE_INLINE_UP_TO = 200


class SearchMode(StrEnum):
    SEMANTIC = "semantic"
    KEYWORD = "keyword"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class SearchQuery:
    text: str
    filter: MemoryFilter
    limit: int = 10
    offset: int = 0
    mode: SearchMode = SearchMode.HYBRID
    distance_threshold: float | None = None
    recency: RecencyParams | None = field(default_factory=RecencyParams)
    weights: FusionWeights = field(default_factory=FusionWeights)
    bm25: Bm25Params = field(default_factory=Bm25Params)


@dataclass(frozen=True)
class ScoredMemory:
    memory: Memory
    score: float
    dist: float
    relevance: float
    similarity: float | None
    keyword: float | None
    recency: float | None
    score_type: str


@dataclass(frozen=True)
class SearchResult:
    items: list[ScoredMemory]
    total: int
    next_offset: int | None


class Retriever:
    """Runs a SearchQuery against a store; knows nothing about HTTP or SQL."""

    def __init__(self, store: Store, embedder: CachedEmbedder, rerank_window: int = 200) -> None:
        self._store = store
        self._embedder = embedder
        self._rerank_window = rerank_window

    async def search(self, query: SearchQuery, now: datetime) -> SearchResult:
        if not query.text.strip():
            return await self._list(query, now)
        vector = None
        if query.mode is not SearchMode.KEYWORD:
            vector = await anyio.to_thread.run_sync(self._embedder.embed_query, query.text)
        depth = query.offset + query.limit + self._rerank_window
        candidates = await self._store.find_candidates(
            CandidateQuery(
                filter=query.filter,
                now=now,
                vector=vector,
                text=None if query.mode is SearchMode.SEMANTIC else query.text,
                vector_limit=depth,
                max_distance=query.distance_threshold,
            )
        )
        signals = await self._signals(query, candidates, vector, depth)
        relevance = fuse_signals(signals, query.weights)
        # Ties break on the key, so the same query over the same data always ranks the same.
        # Without a recency re-rank the order is final: only the page is read.
        reread = depth if query.recency is not None else query.offset + query.limit
        window = sorted(relevance, key=lambda k: (-relevance[k], k))[:reread]
        memories = await self._fetch(window)
        scored = [
            self._score(memories[key], relevance[key], signals, query, now)
            for key in window
            if key in memories
        ]
        scored.sort(key=lambda s: (-s.score, s.memory.namespace, s.memory.id))
        total = candidates.total
        if vector is None:
            total = candidates.keyword_total or len(candidates.keyword)
        return _page(scored, total, query)

    async def _signals(
        self, query: SearchQuery, candidates: CandidateSet, vector: Vector | None, depth: int
    ) -> Signals:
        """BM25 over the keyword matches, then the cosines and neighbours of the best
        `depth` by each signal; with a distance threshold, only candidates within it."""
        terms = query_terms(query.text)
        if len(candidates.keyword) > _SCORE_INLINE_UP_TO:
            # Thousands of matches take milliseconds of Python: off the event loop, so the
            # other requests of this process are not held up meanwhile.
            keyword, context_keyword = await anyio.to_thread.run_sync(
                keyword_signals,
                terms,
                candidates.keyword,
                candidates.total,
                query.bm25,
                candidates.document_frequencies,
            )
        else:
            keyword, context_keyword = keyword_signals(
                terms,
                candidates.keyword,
                candidates.total,
                query.bm25,
                candidates.document_frequencies,
            )
        keys = set(candidates.vector) | _best(keyword, depth) | _best(context_keyword, depth)
        details = await self._store.describe_candidates(sorted(keys), vector)
        if query.distance_threshold is not None and vector is not None:
            details = {k: d for k, d in details.items() if _within(d, query.distance_threshold)}
        return Signals(
            vector={k: d.similarity for k, d in details.items() if d.similarity is not None},
            keyword={k: keyword[k] for k in details if k in keyword},
            context_vector={
                k: d.context_similarity
                for k, d in details.items()
                if d.context_similarity is not None
            },
            context_keyword={k: context_keyword[k] for k in details if k in context_keyword},
            neighbours={
                k: tuple((k[0], n) for n in d.neighbour_ids)
                for k, d in details.items()
                if d.neighbour_ids
            },
        )

    async def _list(self, query: SearchQuery, now: datetime) -> SearchResult:
        page = await self._store.list_memories(query.filter, now, query.limit, query.offset)
        items = [ScoredMemory(m, 0.0, 1.0, 0.0, None, None, None, "filter") for m in page.items]
        end = query.offset + len(items)
        return SearchResult(items, page.total, end if end < page.total else None)

    async def _fetch(self, keys: list[Key]) -> dict[Key, Memory]:
        by_namespace: dict[str, list[str]] = {}
        for namespace, memory_id in keys:
            by_namespace.setdefault(namespace, []).append(memory_id)
        found: dict[Key, Memory] = {}
        for namespace, ids in by_namespace.items():
            for memory in await self._store.get_memories(namespace, ids):
                found[(memory.namespace, memory.id)] = memory
        return found

    @staticmethod
    def _score(
        memory: Memory, relevance: float, signals: Signals, query: SearchQuery, now: datetime
    ) -> ScoredMemory:
        key = (memory.namespace, memory.id)
        recency = None
        score = relevance
        if query.recency is not None:
            recency = recency_score(now, memory.last_accessed_at, memory.created_at, query.recency)
            score = combine(relevance, recency, query.recency)
        cosine = signals.vector.get(key)
        return ScoredMemory(
            memory=memory,
            score=score,
            dist=1.0 - cosine if cosine is not None else 1.0,
            relevance=relevance,
            similarity=cosine,
            keyword=signals.keyword.get(key),
            recency=recency,
            score_type=query.mode.value,
        )


def _best(scores: dict[Key, float], count: int) -> set[Key]:
    return set(sorted(scores, key=lambda k: (-scores[k], k))[:count])


def _within(detail: CandidateDetail, max_distance: float) -> bool:
    return detail.similarity is not None and 1.0 - detail.similarity <= max_distance


def _page(scored: list[ScoredMemory], total: int, query: SearchQuery) -> SearchResult:
    items = scored[query.offset : query.offset + query.limit]
    total = max(total, len(scored))
    end = query.offset + len(items)
    return SearchResult(items, total, end if end < total else None)
