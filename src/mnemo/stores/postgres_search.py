"""Candidate search on PostgreSQL: index-term matches, exact or HNSW nearest vectors.

The plan is chosen by counting the rows that match the filter, up to `exact_scan_limit`
(a bounded count: it stops at limit + 1 rows):

- at most `exact_scan_limit` rows (a user's or a session's memories, an id list): EXACT.
  The filter runs first, through the btree indexes, and the scoped rows are sorted by
  distance inside a MATERIALIZED CTE, so the planner cannot turn it into an HNSW scan with a
  post-filter (46 ms instead of 0.27 ms at 1 % selectivity, DESIGN.md section 9). `total`
  is the exact count, like the SQLite store's.
- more rows (namespace-wide and other wide scopes): the HNSW index with pgvector's iterative
  scan (relaxed order), so rows the filter rejects do not leave the result short; should the
  index still return too few rows, the exact plan runs instead. Counting a million rows
  would cost more than the search, so `total` is the planner's estimate (at least the
  limit + 1 rows counted), and with `max_distance` it counts the nearest rows within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnemo.retrieval.bm25 import TermDocument
from mnemo.retrieval.keyword_probe import KeywordProbe, ProbeEstimates, found_enough, plan_probes
from mnemo.retrieval.text import query_terms
from mnemo.stores.base import CandidateQuery, CandidateSet, Vector
from mnemo.stores.postgres_db import Connection
from mnemo.stores.postgres_term_stats import TermStatistics
from mnemo.stores.sql_filters import SqlDialect, SqlParam, WhereClause, compile_filter

Key = tuple[str, str]

# Where the exact plan costs about what the HNSW plan does on 2 cores (bench/stores.py).
EXACT_SCAN_LIMIT = 10_000
HNSW_EF_SEARCH = 100


@dataclass(frozen=True)
class VectorPlans:
    """The SQL of the two vector plans for one WHERE clause (exposed for EXPLAIN in tests)."""

    where: WhereClause

    def exact(self) -> str:
        return (
            "WITH scoped AS MATERIALIZED (SELECT m.namespace, m.id, m.embedding <=> %s AS distance"
            f" FROM memories m WHERE {self.where.render()}) "
            "SELECT namespace, id, distance FROM scoped ORDER BY distance LIMIT %s"
        )

    def approximate(self) -> str:
        return (
            "SELECT m.namespace, m.id, m.embedding <=> %s AS distance FROM memories m "
            f"WHERE {self.where.render()} ORDER BY m.embedding <=> %s LIMIT %s"
        )

    def hybrid(self) -> str:
        """The exact plan and the keyword matches of a narrow scope, over one read of it:
        rows of kind 'v' are the nearest, rows of kind 'k' the matches, newest first."""
        return (
            "WITH scoped AS MATERIALIZED (SELECT m.namespace, m.id, m.seq, m.terms, "
            "m.context_terms, m.term_set && %s::text[] AS matched, "
            f"m.embedding <=> %s AS distance FROM memories m WHERE {self.where.render()}) "
            "(SELECT 'v' AS kind, namespace, id, distance, NULL::text AS terms, "
            "NULL::text AS context_terms FROM scoped ORDER BY distance LIMIT %s) UNION ALL "
            "(SELECT 'k', namespace, id, NULL::float8, terms, context_terms FROM scoped "
            "WHERE matched ORDER BY seq DESC LIMIT %s)"
        )

    def exact_params(self, vector: Vector, limit: int) -> list[object]:
        return [vector, *self.where.params, limit]

    def approximate_params(self, vector: Vector, limit: int) -> list[object]:
        return [vector, *self.where.params, vector, limit]


async def use_hnsw_iterative_scan(conn: Connection, ef_search: int) -> None:
    """Settings of this transaction for the HNSW plan (SET LOCAL, gone at commit).

    enable_sort=off leaves the HNSW index as the only way to produce rows in distance order,
    so the planner cannot swap in a full scan and sort: which plan runs is our decision.
    """
    await conn.execute(
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
        "set_config('hnsw.ef_search', %s, true), set_config('enable_sort', 'off', true)",
        (str(ef_search),),
    )


class CandidateSearch:
    """Runs CandidateQuery against the memories table, on one connection and transaction."""

    def __init__(self, dialect: SqlDialect, exact_scan_limit: int, ef_search: int) -> None:
        self._dialect = dialect
        self._exact_scan_limit = exact_scan_limit
        self._ef_search = ef_search
        self._term_statistics = TermStatistics()

    async def find(self, conn: Connection, query: CandidateQuery) -> CandidateSet:
        where = compile_filter(query.filter, self._dialect, query.now)
        counted = await _count(conn, where, limit=self._exact_scan_limit + 1)
        is_narrow = counted <= self._exact_scan_limit
        total = counted if is_narrow else await _estimate(conn, where, at_least=counted)
        result = CandidateSet(total=total)
        terms = query_terms(query.text or "")
        vector = None if query.vector is None else np.asarray(query.vector, dtype=np.float32)
        plans = VectorPlans(where)
        nearest = None
        if terms and is_narrow and vector is not None and total:
            # Both halves from one read of the scope, in one round trip.
            nearest, result.keyword = await _hybrid_rows(conn, plans, vector, terms, query)
        elif terms and is_narrow:
            result.keyword = await _keyword_documents(
                conn, where, terms, query.keyword_scan_limit, is_narrow
            )
        elif terms:
            await self._probe_keywords(conn, where, terms, query, result)
        if vector is None or not total:
            return result
        if nearest is None and not is_narrow:
            nearest = await self._approximate(conn, plans, vector, query)
        if nearest is None:
            nearest = await _similarity_rows(
                conn, plans.exact(), plans.exact_params(vector, query.vector_limit)
            )
        if query.max_distance is not None:
            result.total = (
                await _count(conn, where, within=(vector, query.max_distance))
                if is_narrow
                else sum(1.0 - s <= query.max_distance for s in nearest.values())
            )
        result.vector = nearest
        return result

    async def _probe_keywords(
        self,
        conn: Connection,
        where: WhereClause,
        terms: list[str],
        query: CandidateQuery,
        result: CandidateSet,
    ) -> None:
        """A wide scope's keyword matches: all of them when the statistics say they are few
        (or there are none yet), else a probe (retrieval/keyword_probe.py)."""
        shares = await self._term_statistics.shares(conn)
        counts = shares.frequencies(terms, result.total)
        if counts is None:
            probes = [KeywordProbe(tuple(terms), exact=True)]
        else:
            probes = plan_probes(terms, counts, query.keyword_probe_budget)
        tried = None
        for tried in probes:
            limit = query.keyword_scan_limit if tried.exact else query.keyword_probe_budget
            result.keyword = await _keyword_documents(
                conn, where, list(tried.terms), limit, False, tried.conjunctive, tried.exact
            )
            if found_enough(tried, len(result.keyword)):
                break
        estimates = ProbeEstimates.of(tried, terms, counts or {}, result.total)
        result.document_frequencies = estimates.document_frequencies
        result.keyword_total = estimates.keyword_total

    async def _approximate(
        self, conn: Connection, plans: VectorPlans, vector: Vector, query: CandidateQuery
    ) -> dict[Key, float] | None:
        """The HNSW plan's rows; None when the index gave up before filling the limit."""
        await use_hnsw_iterative_scan(conn, self._ef_search)
        limit = query.vector_limit
        found = await _similarity_rows(
            conn, plans.approximate(), plans.approximate_params(vector, limit)
        )
        # More than exact_scan_limit rows match, so anything short of that is a shortfall.
        return found if len(found) >= min(limit, self._exact_scan_limit + 1) else None


async def _hybrid_rows(
    conn: Connection, plans: VectorPlans, vector: Vector, terms: list[str], query: CandidateQuery
) -> tuple[dict[Key, float], dict[Key, TermDocument]]:
    params = [terms, vector, *plans.where.params, query.vector_limit, query.keyword_scan_limit]
    cursor = await conn.execute(plans.hybrid(), params)
    nearest: dict[Key, float] = {}
    keyword: dict[Key, TermDocument] = {}
    for r in await cursor.fetchall():
        key = (r["namespace"], r["id"])
        if r["kind"] == "v":
            nearest[key] = 1.0 - float(r["distance"])
        else:
            keyword[key] = TermDocument(r["terms"] or "", r["context_terms"])
    return nearest, keyword


async def _similarity_rows(conn: Connection, sql: str, params: list[object]) -> dict[Key, float]:
    cursor = await conn.execute(sql, params)
    return {(r["namespace"], r["id"]): 1.0 - float(r["distance"]) for r in await cursor.fetchall()}


async def _count(
    conn: Connection,
    where: WhereClause,
    limit: int | None = None,
    within: tuple[Vector, float] | None = None,
) -> int:
    """Rows matching the filter (inside a cosine distance with `within`), up to `limit`."""
    sql = f"SELECT 1 FROM memories m WHERE {where.render()}"
    params: list[object] = list(where.params)
    if within is not None:
        sql += " AND m.embedding <=> %s <= %s"
        params.extend(within)
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    cursor = await conn.execute(f"SELECT count(*) AS n FROM ({sql}) AS matching", params)
    row = await cursor.fetchone()
    return int(row["n"]) if row else 0


async def _estimate(conn: Connection, where: WhereClause, at_least: int) -> int:
    """The planner's estimate of the rows matching the filter, and no fewer than counted."""
    cursor = await conn.execute(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM memories m WHERE {where.render()}", where.params
    )
    row = await cursor.fetchone()
    estimate = int(row["QUERY PLAN"][0]["Plan"]["Plan Rows"]) if row else 0
    return max(estimate, at_least)


async def _keyword_documents(
    conn: Connection,
    where: WhereClause,
    terms: list[str],
    limit: int,
    is_narrow: bool,
    conjunctive: bool = False,
    newest_first: bool = True,
) -> dict[Key, TermDocument]:
    """Rows whose own or context terms hold any of `terms` (all of them when `conjunctive`),
    up to `limit`, newest first (else in any order: read no further than `limit`), with both
    term lists.

    In a narrow scope the scoped rows are read first and their term sets matched one by
    one: the GIN index would gather every match in the namespace (tens of thousands of rows
    for a common word at 1M memories) only for the filter to drop nearly all of them.
    """
    columns = "m.namespace, m.id, m.terms, m.context_terms"
    order = " ORDER BY m.seq DESC LIMIT %s" if newest_first else " LIMIT %s"
    operator = "@>" if conjunctive else "&&"
    if is_narrow:
        scoped = f"SELECT {columns}, m.seq, m.term_set FROM memories m WHERE {where.render()}"
        sql = (
            f"WITH scoped AS MATERIALIZED ({scoped}) SELECT {columns} FROM scoped m "
            f"WHERE m.term_set {operator} %s::text[]{order}"
        )
        params: list[SqlParam] = [*where.params, terms, limit]
    else:
        sql = (
            f"SELECT {columns} FROM memories m WHERE m.term_set {operator} %s::text[] "
            f"AND {where.render()}{order}"
        )
        params = [terms, *where.params, limit]
    cursor = await conn.execute(sql, params)
    return {
        (r["namespace"], r["id"]): TermDocument(r["terms"] or "", r["context_terms"])
        for r in await cursor.fetchall()
    }
