"""LoCoMo evidence retrieval in-process: the server's own retrieval code over cached embeddings.

The fast loop for tuning retrieval. It indexes each conversation the way the server does
(message memories with their dated keyword terms, context windows, offline-extracted facts
pointing at their source turns) into a small in-memory store, and asks every question through
mnemo.retrieval.pipeline.Retriever, the class the server's search runs, so every weight
and formula measured here is the one that ships. Only data access differs from a real
store: a numpy scan of one user's memories. Embeddings are cached in bench/.cache/ (keyed
by text), so after a first run one configuration takes seconds, not the half hour of an
HTTP run. Numbers match the HTTP harness's protocol (bench/locomo.py): k counts distinct
turns, categories 1-4 together are "overall". Tune on --split dev only.

Example: .venv/bin/python bench/locomo_offline.py --split dev
         .venv/bin/python bench/locomo_offline.py --split dev --set vector=0.5 --set neighbours=0
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

if __package__ in (None, ""):  # run as `python bench/locomo_offline.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.locomo import (  # noqa: E402
    REPO,
    Conversation,
    load_conversations,
    print_tables,
    scores_of,
    split_results,
    turns_of,
)
from bench.locomo_metrics import distinct_turns  # noqa: E402
from mnemo.extraction.facts import SourceMessage  # noqa: E402
from mnemo.extraction.offline import extract_facts  # noqa: E402
from mnemo.filters import MemoryFilter, TagFilter  # noqa: E402
from mnemo.models import Memory, MemoryType  # noqa: E402
from mnemo.retrieval.bm25 import Bm25Params, TermDocument  # noqa: E402
from mnemo.retrieval.documents import (  # noqa: E402
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    Turn,
    changed_windows,
    memory_index_text,
    terms_text,
)
from mnemo.retrieval.fusion import FusionWeights  # noqa: E402
from mnemo.retrieval.pipeline import Retriever, SearchQuery  # noqa: E402
from mnemo.retrieval.text import query_terms  # noqa: E402
from mnemo.stores.base import CandidateDetail, CandidateQuery, CandidateSet, Key  # noqa: E402

Vectors = NDArray[np.float32]
CACHE = REPO / "bench/.cache/embeddings"
SEARCH_LIMIT = 20
NAMESPACE = "locomo-offline"


class EmbeddingCache:
    """Embeddings of texts, computed once with the server's local embedder and kept on disk."""

    def __init__(self, directory: Path = CACHE) -> None:
        self._dir = directory
        self._index: dict[str, int] = {}
        self._matrix = np.empty((0, 384), dtype=np.float32)
        keys = directory / "keys.json"
        if keys.is_file():
            self._index = {k: i for i, k in enumerate(json.loads(keys.read_text()))}
            self._matrix = np.load(directory / "vectors.npy")
        self._embedder: Any = None

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> Vectors:
        keys = [self.key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._index}
        if missing:
            self._add(missing)
        return self._matrix[[self._index[k] for k in keys]]

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed([text])[0]
        return vector

    def _add(self, missing: dict[str, str]) -> None:
        if self._embedder is None:
            from mnemo.embedders.local import LocalEmbedder

            self._embedder = LocalEmbedder()
        print(f"embedding {len(missing)} new texts", file=sys.stderr, flush=True)
        vectors = self._embedder.embed(list(missing.values()))
        base = len(self._matrix)
        self._matrix = np.vstack([self._matrix, vectors])
        self._index.update({k: base + i for i, k in enumerate(missing)})
        self._dir.mkdir(parents=True, exist_ok=True)
        np.save(self._dir / "vectors.npy", self._matrix)
        order = sorted(self._index, key=lambda k: self._index[k])
        (self._dir / "keys.json").write_text(json.dumps(order))


@dataclass
class Scope:
    """One user's memories as arrays: what a store holds, searched by numpy."""

    memories: list[Memory]
    vectors: Vectors
    documents: list[TermDocument]
    context_vectors: dict[int, Vectors]
    neighbours: dict[int, tuple[str, ...]]

    def __post_init__(self) -> None:
        self.position = {m.id: i for i, m in enumerate(self.memories)}
        self.term_sets = [
            set(d.terms.split()) | set((d.context_terms or "").split()) for d in self.documents
        ]


class MemoryStore:
    """The three Store methods Retriever.search calls, over in-memory scopes by user id."""

    def __init__(self, scopes: dict[str, Scope]) -> None:
        self._scopes = scopes

    def _scope(self, memory_filter: MemoryFilter) -> Scope:
        assert memory_filter.user_id is not None and memory_filter.user_id.eq is not None
        return self._scopes[memory_filter.user_id.eq]

    async def find_candidates(self, query: CandidateQuery) -> CandidateSet:
        scope = self._scope(query.filter)
        result = CandidateSet(total=len(scope.memories))
        if query.text:
            wanted = set(query_terms(query.text))
            result.keyword = {
                (NAMESPACE, scope.memories[i].id): scope.documents[i]
                for i in range(len(scope.memories))
                if wanted & scope.term_sets[i]
            }
        if query.vector is not None:
            cosines = scope.vectors @ query.vector
            top = np.argsort(-cosines, kind="stable")[: query.vector_limit]
            result.vector = {(NAMESPACE, scope.memories[i].id): float(cosines[i]) for i in top}
        return result

    async def describe_candidates(
        self, keys: Sequence[Key], vector: Vectors | None
    ) -> dict[Key, CandidateDetail]:
        details = {}
        for key in keys:
            scope = next(s for s in self._scopes.values() if key[1] in s.position)
            i = scope.position[key[1]]
            context = scope.context_vectors.get(i)
            details[key] = CandidateDetail(
                similarity=None if vector is None else float(scope.vectors[i] @ vector),
                context_similarity=None if vector is None or context is None else float(
                    context @ vector
                ),
                neighbour_ids=scope.neighbours.get(i, ()),
            )  # fmt: skip
        return details

    async def get_memories(self, namespace: str | None, ids: Sequence[str]) -> list[Memory]:
        del namespace
        found = []
        for scope in self._scopes.values():
            found += [scope.memories[scope.position[i]] for i in ids if i in scope.position]
        return found


def build_scope(
    conv: Conversation,
    cache: EmbeddingCache,
    with_facts: bool,
    context: tuple[int, int] = (CONTEXT_BEFORE, CONTEXT_AFTER),
) -> Scope:
    """Index one conversation as the server does: turns, their windows, extracted facts."""
    memories: list[Memory] = []
    windows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for session_id, raw in conv.sessions.items():
        turns = [Turn(t.message_id, t.content, t.created_at) for t in raw]
        for t in raw:
            memories.append(_message(conv, session_id, t.message_id, t.content, t.created_at))
        for w in changed_windows(turns, {t.id for t in turns}, *context):
            windows[w.id] = (w.text, w.neighbour_ids)
        if with_facts:
            sources = [SourceMessage(t.message_id, t.role, t.content, t.created_at) for t in raw]
            memories += [_fact(conv, session_id, f.text, f.source_message_ids)
                         for f in extract_facts(sources)]  # fmt: skip
    positions = {m.id: i for i, m in enumerate(memories)}
    window_ids = [i for i in windows if i in positions]
    window_vectors = cache.embed([windows[i][0] for i in window_ids])
    return Scope(
        memories=memories,
        vectors=cache.embed([m.text for m in memories]),
        documents=[
            TermDocument(
                terms_text(memory_index_text(m)),
                terms_text(windows[m.id][0]) if m.id in windows else None,
            )
            for m in memories
        ],
        context_vectors={positions[i]: v for i, v in zip(window_ids, window_vectors, strict=True)},
        neighbours={positions[i]: windows[i][1] for i in window_ids},
    )


def _message(conv: Conversation, session: str, ident: str, text: str, at: Any) -> Memory:
    return Memory(
        id=ident, namespace=NAMESPACE, user_id=conv.user_id, session_id=session, text=text,
        memory_type=MemoryType.MESSAGE, created_at=at, extracted_from=[ident],
    )  # fmt: skip


def _fact(conv: Conversation, session: str, text: str, sources: Sequence[str]) -> Memory:
    digest = hashlib.sha1(f"{session}\0{text}".encode()).hexdigest()[:16]
    return Memory(
        id=f"fact-{digest}", namespace=NAMESPACE, user_id=conv.user_id, session_id=session,
        text=text, memory_type=MemoryType.SEMANTIC, extracted_from=list(sources),
    )  # fmt: skip


async def evaluate(
    conversations: Sequence[Conversation],
    retriever: Retriever,
    weights: FusionWeights,
    bm25: Bm25Params,
) -> list[dict[str, Any]]:
    """Every question with evidence through Retriever.search; records like the HTTP harness."""
    records = []
    for conv in conversations:
        dia_ids = conv.dia_ids()
        known = set(dia_ids.values())
        scope = MemoryFilter(user_id=TagFilter(eq=conv.user_id))
        for q in conv.questions:
            evidence = [e for e in q.evidence if e in known]
            if not evidence:
                continue
            query = SearchQuery(
                text=q.text, filter=scope, limit=SEARCH_LIMIT, recency=None,
                weights=weights, bm25=bm25,
            )  # fmt: skip
            found = await retriever.search(query, now=conv_now(conv))
            memories = [{"id": s.memory.id, "extracted_from": s.memory.extracted_from}
                        for s in found.items]  # fmt: skip
            turns = distinct_turns(turns_of(m, dia_ids) for m in memories)[:SEARCH_LIMIT]
            records.append({
                "conversation": conv.sample_id, "split": conv.split, "index": q.index,
                "category": q.category, "question": q.text, "evidence": evidence,
                "retrieved": turns, "scores": scores_of(turns, evidence),
            })  # fmt: skip
    return records


def conv_now(conv: Conversation) -> Any:
    return max(t.created_at for turns in conv.sessions.values() for t in turns)


def overrides(pairs: Sequence[str], weights: FusionWeights, bm25: Bm25Params) -> tuple[
    FusionWeights, Bm25Params
]:  # fmt: skip
    """Apply --set name=value to the fusion weights (or k1 / b of BM25)."""
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name in {"k1", "b"}:
            bm25 = dataclasses.replace(bm25, **{name: float(value)})
        elif name in {f.name for f in dataclasses.fields(FusionWeights)}:
            weights = dataclasses.replace(weights, **{name: float(value)})
        else:
            raise SystemExit(f"--set: unknown name {name!r}")
    return weights, bm25


def run(
    args: argparse.Namespace,
    weights: FusionWeights,
    bm25: Bm25Params,
    context: tuple[int, int] = (CONTEXT_BEFORE, CONTEXT_AFTER),
) -> dict[str, Any]:
    """Index the split (cached) and evaluate one configuration; returns the results rows."""
    conversations = load_conversations(args.data, args.split, args.conversations, False)
    cache = EmbeddingCache()
    scopes = {c.user_id: build_scope(c, cache, not args.no_facts, context) for c in conversations}
    retriever = Retriever(MemoryStore(scopes), cache, args.rerank_window)  # type: ignore[arg-type]
    records = asyncio.run(evaluate(conversations, retriever, weights, bm25))
    return {"results": split_results(records, args.split), "questions": records}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/locomo_offline.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--data", type=Path, default=REPO.parent / "shared/bench/locomo10.json")
    add("--split", choices=("dev", "test", "all"), default="dev")
    add("--conversations", type=int, default=None, help="only the first N of the split")
    add("--set", action="append", default=[], metavar="NAME=VALUE",
        help="override a FusionWeights field or BM25's k1 / b")  # fmt: skip
    add("--rerank-window", type=int, default=50, help="as RetrievalConfig.rerank_window")
    add("--no-facts", action="store_true", help="index the turns only")
    add("--out", type=Path, default=None, help="write the results as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    weights, bm25 = overrides(args.set, FusionWeights(), Bm25Params())
    report = run(args, weights, bm25)
    print_tables(report["results"])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
