"""Seed 003's views of retrieved memories: MemoryKit layers, sources, context text, debug info."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import JsonValue

from mnemo.api.dialects.seed003_schemas import DebugInfoOut, LlmUsageOut, SourceOut
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.llms.usage import Usage
from mnemo.models import Memory, MemoryType, Session
from mnemo.retrieval.pipeline import ScoredMemory, SearchQuery
from mnemo.services.chat import SIMILARITY_FLOOR
from mnemo.services.tokens import TokenCounter

QUERY_LIMIT = 8  # memories recalled for a query, as many as /v1/chat recalls
DEFAULT_IMPORTANCE = 0.5  # a turn's importance unless its client scored it
_LAYER_BY_TYPE = {
    MemoryType.SEMANTIC: "SemanticMemory",
    MemoryType.EPISODIC: "EpisodicMemory",
    MemoryType.PROCEDURAL: "ProceduralMemory",
}


def recall_query(session: Session, text: str, limit: int) -> SearchQuery:
    """What a conversation may recall: its user's memories in its namespace (every user's
    when the conversation has none), turns of other conversations included, as close in
    meaning as the memories /v1/chat quotes (a cosine similarity of SIMILARITY_FLOOR)."""
    scope = MemoryFilter(
        namespace=TagFilter(eq=session.namespace),
        user_id=TagFilter(eq=session.user_id) if session.user_id else None,
    )
    return SearchQuery(text, scope, limit, distance_threshold=1.0 - SIMILARITY_FLOOR)


def layer_of(memory: Memory, conversation_id: str) -> str:
    """MemoryKit's layers: this conversation's turns are its working memory, turns of other
    conversations are episodic, extracted facts are semantic, episodic or procedural."""
    if memory.memory_type is MemoryType.MESSAGE:
        return "WorkingMemory" if memory.session_id == conversation_id else "EpisodicMemory"
    return _LAYER_BY_TYPE[memory.memory_type]


def source_of(scored: ScoredMemory, conversation_id: str) -> SourceOut:
    memory = scored.memory
    return SourceOut.model_validate(
        {
            "id": memory.id,
            "type": layer_of(memory, conversation_id),
            "content": memory.text,
            "relevance_score": round(scored.score, 6),
            "memory_type": memory.memory_type.value,
            "conversation_id": memory.session_id,
            "created_at": memory.created_at,
        }
    )


def importance_of(metadata: Mapping[str, JsonValue]) -> float:
    given = metadata.get("importance")
    if isinstance(given, int | float) and not isinstance(given, bool):
        return float(given)
    return DEFAULT_IMPORTANCE


def within_budget(
    found: Sequence[ScoredMemory], question: str, max_tokens: int, counter: TokenCounter
) -> tuple[list[ScoredMemory], int]:
    """The best memories, in rank order, while the question and they fit in max_tokens."""
    tokens = counter.count(question)
    used: list[ScoredMemory] = []
    for scored in found:
        cost = counter.count(scored.memory.text)
        if tokens + cost > max_tokens:
            break
        used.append(scored)
        tokens += cost
    return used, tokens


def context_text(session: Session, memories: Sequence[ScoredMemory]) -> str:
    """MemoryKit's assembled context: summary, recent conversation, then relevant memories."""
    sections = []
    if session.context:
        sections.append(f"=== Conversation Summary ===\n{session.context}")
    turns = "\n".join(f"{m.role}: {m.content}" for m in session.messages) or "(no messages yet)"
    sections.append(f"=== Recent Conversation ===\n{turns}")
    if memories:
        lines = "\n".join(f"- {s.memory.text}" for s in memories)
        sections.append(f"=== Relevant Memories ===\n{lines}")
    return "\n\n".join(sections)


def query_type(used: Sequence[ScoredMemory]) -> str:
    """Named after what was found: a pattern that applies, facts, only past turns, nothing."""
    kinds = {s.memory.memory_type for s in used}
    if MemoryType.PROCEDURAL in kinds:
        return "ProceduralTrigger"
    if kinds & {MemoryType.SEMANTIC, MemoryType.EPISODIC}:
        return "FactRetrieval"
    return "DeepRecall" if kinds else "Continuation"


def debug_info(
    session: Session,
    used: Sequence[ScoredMemory],
    sources: Sequence[SourceOut],
    tokens: int,
    usage: Usage,
    has_llm: bool,
    *,
    timings: tuple[float, float, float],
    retrieved_count: int,
) -> DebugInfoOut:
    """timings: perf_counter() at the start, after retrieval, and after the answer."""
    started, retrieved, answered = timings
    layers = list(dict.fromkeys(s.type for s in sources))
    if has_llm and session.messages and "WorkingMemory" not in layers:
        layers.insert(0, "WorkingMemory")  # the LLM also reads the recent turns
    return DebugInfoOut.model_validate(
        {
            "query_type": query_type(used),
            "layers_used": layers,
            "tokens_used": tokens,
            "retrieval_time_ms": round((retrieved - started) * 1000, 3),
            "answer_time_ms": round((answered - retrieved) * 1000, 3),
            "total_time_ms": round((answered - started) * 1000, 3),
            "retrieved_count": retrieved_count,
            "mode": "llm" if has_llm else "offline",
            "llm_usage": LlmUsageOut(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.total_tokens,
                calls=usage.calls,
            ),
        }
    )
