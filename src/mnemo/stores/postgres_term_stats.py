"""How many rows hold each index term, estimated from PostgreSQL's own statistics.

ANALYZE keeps, for the `term_set` array column, its most common elements and the share of
rows holding each (pg_stats.most_common_elems / most_common_elem_freqs; up to 10 x the
statistics target, so about a thousand terms). A term not among them is rarer than the
least common one listed. That is all a namespace-wide search needs to plan its keyword probe
(retrieval/keyword_probe.py), and reading it costs one catalog query every few minutes
instead of counting tens of thousands of index entries per search.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from mnemo.stores.postgres_db import Connection

# Statistics change only with ANALYZE (autovacuum's, after 10 % of the rows changed).
REFRESH_AFTER_S = 300.0


@dataclass(frozen=True)
class TermShares:
    """The share of rows holding each common term, and the share below which the rest lie
    (0 when the table has no statistics yet)."""

    shares: dict[str, float]
    floor: float

    def frequencies(self, terms: Sequence[str], scope_rows: int) -> dict[str, int] | None:
        """Estimated rows of a scope of `scope_rows` holding each term; None without
        statistics (the caller then reads every match)."""
        if not self.shares:
            return None
        rare = max(1, round(self.floor * scope_rows / 2))
        return {
            t: max(1, round(self.shares[t] * scope_rows)) if t in self.shares else rare
            for t in terms
        }


class TermStatistics:
    """TermShares of the memories table, read from pg_stats and kept REFRESH_AFTER_S."""

    def __init__(self) -> None:
        self._shares = TermShares({}, 0.0)
        self._read_at = float("-inf")

    async def shares(self, conn: Connection) -> TermShares:
        if time.monotonic() - self._read_at > REFRESH_AFTER_S or not self._shares.shares:
            self._shares = await _read(conn)
            self._read_at = time.monotonic()
        return self._shares


async def _read(conn: Connection) -> TermShares:
    cursor = await conn.execute(
        "SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs "
        "FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'memories' "
        "AND attname = 'term_set'"
    )
    row = await cursor.fetchone()
    if row is None or not row["elems"] or not row["freqs"]:
        return TermShares({}, 0.0)
    elems: list[str] = row["elems"]
    freqs: list[float] = row["freqs"]
    # The per-element shares are followed by their minimum, maximum (and the null share).
    shares = {term: float(share) for term, share in zip(elems, freqs, strict=False)}
    return TermShares(shares, float(freqs[len(elems)]))
