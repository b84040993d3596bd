"""SQLite's half of keyword search and context windows: term matches, candidate details,
context writes, and the backfill of index terms on rows older than migration 0006."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np

from mnemo.models import MemoryType
from mnemo.retrieval.bm25 import TermDocument
from mnemo.retrieval.documents import index_text, terms_text
from mnemo.retrieval.keyword_probe import (
    ProbeEstimates,
    found_enough,
    plan_probes,
    scaled,
)
from mnemo.stores.base import CandidateDetail, CandidateQuery, ContextUpdate, Key, Vector
from mnemo.stores.sql_filters import SqlParam, WhereClause

_CHUNK = 500
V = TypeVar("V")


def keyword_documents(
    conn: sqlite3.Connection,
    terms: Sequence[str],
    where: str,
    params: list[SqlParam],
    limit: int,
    conjunctive: bool = False,
) -> dict[Key, TermDocument]:
    """Every row of the scope whose own or context terms hold any of `terms` (all of them
    when `conjunctive`), up to `limit`, newest first, with both term lists."""
    if not terms:
        return {}
    joiner = " AND " if conjunctive else " OR "
    match = joiner.join('"' + t.replace('"', '""') + '"' for t in terms)
    sql = (
        "SELECT m.namespace, m.id, t.terms, t.context_terms FROM memory_terms t "
        "JOIN memories m ON m.rowid = t.rowid "
        f"WHERE memory_terms MATCH ? AND {where} ORDER BY t.rowid DESC LIMIT ?"
    )
    cursor = conn.cursor()
    cursor.row_factory = None
    return {
        (r[0], r[1]): TermDocument(r[2] or "", r[3])
        for r in cursor.execute(sql, [match, *params, limit])
    }


def term_document_counts(conn: sqlite3.Connection, terms: Sequence[str]) -> dict[str, int]:
    """How many rows of the whole table hold each term (FTS5's vocabulary; 0 for none)."""
    counts = dict.fromkeys(terms, 0)
    for chunk, marks in _in_chunks(list(counts)):
        sql = f"SELECT term, doc FROM memory_terms_vocab WHERE term IN ({marks})"
        counts.update((str(term), int(doc)) for term, doc in conn.execute(sql, chunk))
    return counts


def probed_keyword_documents(
    conn: sqlite3.Connection,
    terms: Sequence[str],
    where: WhereClause,
    rows: tuple[int, int],
    query: CandidateQuery,
) -> tuple[dict[Key, TermDocument], ProbeEstimates]:
    """keyword_documents for a wide scope of (scope, table) `rows`: a probe planned from the
    FTS5 vocabulary's counts (scaled from the table to the scope), with its estimates."""
    scope_rows, table_rows = rows
    counts = scaled(term_document_counts(conn, terms), scope_rows, table_rows)
    probes = plan_probes(terms, counts, query.keyword_probe_budget)
    found: dict[Key, TermDocument] = {}
    for probe in probes:
        limit = query.keyword_scan_limit if probe.exact else query.keyword_probe_budget
        found = keyword_documents(
            conn, probe.terms, where.render(), where.params, limit, probe.conjunctive
        )
        if found_enough(probe, len(found)):
            return found, ProbeEstimates.of(probe, terms, counts, scope_rows)
    return found, ProbeEstimates.of(probes[-1] if probes else None, terms, counts, scope_rows)


def scoped_keyword_documents(
    conn: sqlite3.Connection, terms: Sequence[str], rowids: Sequence[int], limit: int
) -> dict[Key, TermDocument]:
    """keyword_documents for a scope given as row ids (the in-memory index's answer): the
    scope's own rows are read and matched here, instead of matching the query terms over the
    whole table and joining every match to the filter (at 1M memories a common word matches
    tens of thousands of rows of other users). Same result, newest first, up to `limit`."""
    wanted = set(terms)
    if not wanted:
        return {}
    cursor = conn.cursor()
    cursor.row_factory = None
    ordered = sorted(rowids, reverse=True)
    found: dict[Key, TermDocument] = {}
    for chunk, marks in _in_chunks(ordered):
        rows = cursor.execute(
            "SELECT namespace, id, terms, context_terms FROM memories "
            f"WHERE rowid IN ({marks}) ORDER BY rowid DESC",
            chunk,
        ).fetchall()
        for namespace, memory_id, own, context_terms in rows:
            if wanted.isdisjoint((own or "").split()) and wanted.isdisjoint(
                (context_terms or "").split()
            ):
                continue
            found[(namespace, memory_id)] = TermDocument(own or "", context_terms)
            if len(found) >= limit:
                return found
    return found


def _in_chunks(values: Sequence[V]) -> Iterator[tuple[list[V], str]]:
    """Slices of at most _CHUNK values, each with its "?, ?, ..." placeholder list."""
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        yield chunk, ", ".join("?" * len(chunk))


def describe(
    conn: sqlite3.Connection, keys: Sequence[Key], vector: Vector | None
) -> dict[Key, CandidateDetail]:
    by_namespace: dict[str, list[str]] = {}
    for namespace, memory_id in keys:
        by_namespace.setdefault(namespace, []).append(memory_id)
    cursor = conn.cursor()
    cursor.row_factory = None
    details: dict[Key, CandidateDetail] = {}
    for namespace, ids in by_namespace.items():
        for chunk, marks in _in_chunks(ids):
            rows = cursor.execute(
                "SELECT id, embedding, context_embedding, context_neighbours FROM memories "
                f"WHERE namespace = ? AND id IN ({marks})",
                [namespace, *chunk],
            ).fetchall()
            for memory_id, blob, context_blob, neighbours in rows:
                details[(namespace, memory_id)] = CandidateDetail(
                    similarity=_cosine(blob, vector),
                    context_similarity=_cosine(context_blob, vector),
                    neighbour_ids=tuple(json.loads(neighbours)) if neighbours else (),
                )
    return details


def _cosine(blob: bytes | None, vector: Vector | None) -> float | None:
    if blob is None or vector is None or len(blob) != vector.size * 4:
        return None
    return float(np.frombuffer(blob, dtype=np.float32) @ vector)


def set_contexts(conn: sqlite3.Connection, updates: Sequence[ContextUpdate]) -> int:
    written = 0
    for u in updates:
        written += conn.execute(
            "UPDATE memories SET context_terms = ?, context_embedding = ?, "
            "context_neighbours = ? WHERE namespace = ? AND id = ? AND memory_type = ?",
            (
                terms_text(u.text),
                np.ascontiguousarray(u.vector, dtype=np.float32).tobytes(),
                json.dumps(list(u.neighbour_ids)),
                u.namespace,
                u.id,
                MemoryType.MESSAGE.value,
            ),
        ).rowcount
    return written


def backfill_terms(conn: sqlite3.Connection) -> int:
    """Index terms for rows written before migration 0006 (a no-op on a new database)."""
    done = 0
    while True:
        rows = conn.execute(
            "SELECT rowid, text, memory_type, created_at FROM memories WHERE terms IS NULL LIMIT ?",
            (_CHUNK,),
        ).fetchall()
        if not rows:
            return done
        conn.executemany(
            "UPDATE memories SET terms = ? WHERE rowid = ?",
            [
                (terms_text(index_text(r[1], r[2], datetime.fromtimestamp(r[3], UTC))), r[0])
                for r in rows
            ],
        )
        done += len(rows)
