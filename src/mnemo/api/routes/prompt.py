"""POST /v1/memory/prompt: a query hydrated with session and long-term memories (seed 001)."""

from __future__ import annotations

from fastapi import APIRouter

from mnemo.api.convert import check_text, result_of, search_query
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import MemoryPromptIn, MemoryPromptOut, SearchRequestIn
from mnemo.config import Settings
from mnemo.filters import TagFilter
from mnemo.retrieval.pipeline import SearchQuery
from mnemo.services.prompt import SessionRef
from mnemo.services.tokens import context_window

router = APIRouter(tags=["native"])


@router.post("/v1/memory/prompt", response_model=MemoryPromptOut)
async def memory_prompt(
    body: MemoryPromptIn, who: PrincipalDep, services: ServicesDep, optimize_query: bool = False
) -> MemoryPromptOut:
    del optimize_query  # needs an LLM; hybrid search works without rewriting
    settings = services.settings
    check_text(body.query, settings.limits, "query")
    session = None
    if body.session is not None:
        s = body.session
        window = None
        if s.model_name or s.context_window_max:
            window = context_window(s.model_name, s.context_window_max)
        session = SessionRef(s.session_id, s.namespace, s.user_id, window)
    search = _long_term_query(body, settings)
    result = await services.prompt.build(who, body.query, session, search)
    memories = None
    if search is not None:
        memories = [result_of(m, explain=False) for m in result.long_term_memories]
    return MemoryPromptOut(messages=result.messages, long_term_memories=memories)


def _long_term_query(body: MemoryPromptIn, settings: Settings) -> SearchQuery | None:
    spec = body.long_term_search
    if spec is None or spec is False:
        return None
    if spec is True:
        # Seed 001: defaults, the session's user, the current session left out.
        spec = SearchRequestIn(text=body.query, limit=20)
        if body.session is not None:
            spec.session_id = TagFilter(ne=body.session.session_id)
            if body.session.user_id:
                spec.user_id = TagFilter(eq=body.session.user_id)
    elif not spec.text:
        spec = spec.model_copy(update={"text": body.query})
    return search_query(spec, settings.limits, settings.retrieval)
