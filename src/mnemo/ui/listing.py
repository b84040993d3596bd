"""The memory list's query (search text, filters, page) and the page of results it finds."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from mnemo.api.convert import check_text, fusion_weights
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import Memory, MemoryType, Principal
from mnemo.retrieval.bm25 import Bm25Params
from mnemo.retrieval.pipeline import SearchQuery
from mnemo.wiring import Services

PAGE_SIZE = 20
MEMORY_TYPES = [t.value for t in MemoryType]


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


@dataclass(frozen=True)
class MemoryQuery:
    """What the search box and the filters ask for; unknown values are ignored."""

    text: str = ""
    user: str = ""
    memory_type: str = ""
    include_superseded: bool = False
    namespace: str = ""
    page: int = 1

    @classmethod
    def of(cls, params: QueryParams) -> MemoryQuery:
        kind = params.get("type", "")
        return cls(
            text=params.get("q", "").strip(),
            user=params.get("user", "").strip(),
            memory_type=kind if kind in MEMORY_TYPES else "",
            include_superseded=params.get("superseded") == "1",
            namespace=params.get("ns", "").strip(),
            page=page_number(params.get("page")),
        )

    def memory_filter(self) -> MemoryFilter:
        return MemoryFilter(
            namespace=TagFilter(eq=self.namespace) if self.namespace else None,
            user_id=TagFilter(eq=self.user) if self.user else None,
            memory_type=TagFilter(eq=self.memory_type) if self.memory_type else None,
            include_superseded=self.include_superseded,
        )

    def url(self, page: int) -> str:
        """The list's address for another page of the same query."""
        params = {
            "q": self.text, "user": self.user, "type": self.memory_type,
            "superseded": "1" if self.include_superseded else "", "ns": self.namespace,
            "page": str(page) if page > 1 else "",
        }  # fmt: skip
        query = urlencode({k: v for k, v in params.items() if v})
        return f"/ui/memories?{query}" if query else "/ui/memories"


@dataclass(frozen=True)
class Row:
    memory: Memory
    score: float | None = None


@dataclass(frozen=True)
class Pager:
    page: int
    total: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        return min(self.total, (self.page - 1) * self.page_size + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class Results:
    rows: list[Row]
    pager: Pager
    is_search: bool


async def find_memories(services: Services, who: Principal, query: MemoryQuery) -> Results:
    """A search ranked by relevance when there is text, else the newest memories first."""
    offset = (query.page - 1) * PAGE_SIZE
    if not query.text:
        page = await services.memories.list_memories(who, query.memory_filter(), PAGE_SIZE, offset)
        rows = [Row(m) for m in page.items]
        return Results(rows, Pager(query.page, page.total), is_search=False)
    check_text(query.text, services.settings.limits, "search text")
    retrieval = services.settings.retrieval
    weights = fusion_weights(retrieval)
    search = SearchQuery(
        text=query.text, filter=query.memory_filter(), limit=PAGE_SIZE, offset=offset,
        weights=weights, bm25=Bm25Params(retrieval.bm25_k1, retrieval.bm25_b),
    )  # fmt: skip
    found = await services.search.search(who, search)
    rows = [Row(s.memory, s.score) for s in found.items]
    return Results(rows, Pager(query.page, found.total), is_search=True)
