"""The search pipeline: embed, gather candidates, fuse, threshold, recency re-rank, page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import anyio.to_thread

from mnemo.embedders.cache import CachedEmbedder
from mnemo.filters import MemoryFilter
from mnemo.models import Memory
from mnemo.retrieval.scoring import FusionWeights, RecencyParams, combine, fuse, recency_score
from mnemo.stores.base import CandidateQuery, Store

Key = tuple[str, str]


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
                keyword_limit=depth,
                max_distance=query.distance_threshold,
            )
        )
        cosine, keyword = candidates.vector, candidates.keyword
        if query.distance_threshold is not None and vector is not None:
            cosine = {k: v for k, v in cosine.items() if 1 - v <= query.distance_threshold}
            keyword = {k: v for k, v in keyword.items() if k in cosine}
        relevance = fuse(cosine, keyword, query.weights)
        # Ties break on the key, so the same query over the same data always ranks the same.
        window = sorted(relevance, key=lambda k: (-relevance[k], k))[:depth]
        memories = await self._fetch(window)
        scored = [
            self._score(memories[key], relevance[key], cosine.get(key), keyword, query, now)
            for key in window
            if key in memories
        ]
        scored.sort(key=lambda s: (-s.score, s.memory.namespace, s.memory.id))
        total = len(keyword) if vector is None else candidates.total
        return _page(scored, total, query)

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
        memory: Memory,
        relevance: float,
        cosine: float | None,
        keyword: dict[Key, float],
        query: SearchQuery,
        now: datetime,
    ) -> ScoredMemory:
        key = (memory.namespace, memory.id)
        recency = None
        score = relevance
        if query.recency is not None:
            recency = recency_score(now, memory.last_accessed_at, memory.created_at, query.recency)
            score = combine(relevance, recency, query.recency)
        score_type = query.mode.value
        return ScoredMemory(
            memory=memory,
            score=score,
            dist=1.0 - cosine if cosine is not None else 1.0,
            relevance=relevance,
            similarity=cosine,
            keyword=keyword.get(key),
            recency=recency,
            score_type=score_type,
        )


def _page(scored: list[ScoredMemory], total: int, query: SearchQuery) -> SearchResult:
    items = scored[query.offset : query.offset + query.limit]
    total = max(total, len(scored))
    end = query.offset + len(items)
    return SearchResult(items, total, end if end < total else None)
