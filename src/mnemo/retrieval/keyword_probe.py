"""Which keyword matches a wide scope reads: a bounded probe planned from term frequencies.

BM25 wants every document of the scope that holds a query term. In a user's or a session's
scope that is cheap, and the stores read them all (document frequencies are then exact). In
a namespace of a million memories a common word is held by tens of thousands of rows, and
reading them costs hundreds of milliseconds. There the store first looks up how many
documents hold each query term (an estimate: SQLite's FTS5 vocabulary, PostgreSQL's
`most_common_elems` statistics) and reads only a probe of at most about `budget` rows:

- the rarest terms, as long as together they stay within the budget (any of them matches):
  the documents that score highest are nearly always among those, since a rare term weighs
  far more in BM25 than a common one;
- when even the rarest term is too common, the documents holding *all* the query terms,
  relaxed by dropping the most common one at a time should that find almost nothing (at
  most MAX_PROBES tries, the last a single term). Terms are far from independent ("rent"
  and "payment" go together), so the expected size of a conjunction cannot be trusted to
  stop early; such a probe reads at most `budget` rows in no particular order rather than
  the newest (ordering would fetch every match first).

When every query term fits in the budget, the probe is the full match, and the document
frequencies are counted exactly from the rows read, as in a narrow scope. Otherwise the
estimates are handed to BM25 with the rows (CandidateSet.document_frequencies).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Scopes of more rows than this are probed; smaller ones have all their matches read.
PROBE_SCOPE_ROWS = 10_000
# A conjunctive probe finding fewer rows than this is relaxed by one term.
MIN_PROBE_HITS = 10
MAX_PROBES = 4


@dataclass(frozen=True)
class KeywordProbe:
    """Rows holding any of `terms` (conjunctive: all of them); `exact` when it is the full
    match of every query term, so document frequencies can be counted from its rows, and
    read newest first (a probe's rows are read in whatever order is cheapest)."""

    terms: tuple[str, ...]
    conjunctive: bool = False
    exact: bool = False


def plan_probes(
    query: Sequence[str], frequencies: Mapping[str, int], budget: int
) -> list[KeywordProbe]:
    """The probes to try in order (the next only when one finds fewer than MIN_PROBE_HITS
    rows); empty when no query term occurs at all. `frequencies` holds the estimated number
    of the scope's documents holding each term (a missing term: none)."""
    present = sorted(
        (t for t in dict.fromkeys(query) if frequencies.get(t, 0) > 0),
        key=lambda t: (frequencies[t], t),
    )
    if not present:
        return []
    rare: list[str] = []
    total = 0
    for term in present:
        if total + frequencies[term] > budget:
            break
        rare.append(term)
        total += frequencies[term]
    if rare:
        return [KeywordProbe(tuple(rare), exact=len(rare) == len(present))]
    widths = list(range(len(present), 1, -1))[: MAX_PROBES - 1] + [1]
    return [KeywordProbe(tuple(present[:n]), conjunctive=n > 1) for n in widths]


def estimated_matches(frequencies: Mapping[str, int], terms: Sequence[str], doc_count: int) -> int:
    """Expected documents holding any of `terms` (independence), for a total of a scope whose
    keyword matches were probed rather than all read."""
    if doc_count <= 0:
        return 0
    missing = 1.0
    for term in dict.fromkeys(terms):
        missing *= 1.0 - min(frequencies.get(term, 0), doc_count) / doc_count
    return math.ceil(doc_count * (1.0 - missing))


def found_enough(probe: KeywordProbe, rows: int) -> bool:
    """Whether a probe's rows will do, or a wider probe (if planned) should run."""
    return not probe.conjunctive or rows >= MIN_PROBE_HITS


@dataclass(frozen=True)
class ProbeEstimates:
    """What BM25 and the keyword total need besides a probe's rows: None for an exact probe
    (document frequencies are then counted from the rows, the total is their number)."""

    document_frequencies: dict[str, int] | None
    keyword_total: int | None

    @classmethod
    def of(
        cls,
        probe: KeywordProbe | None,
        query: Sequence[str],
        frequencies: Mapping[str, int],
        doc_count: int,
    ) -> ProbeEstimates:
        if probe is None or probe.exact:
            return cls(None, None)
        wanted = {t: frequencies.get(t, 0) for t in dict.fromkeys(query)}
        return cls(wanted, estimated_matches(wanted, list(wanted), doc_count))


def scaled(counts: Mapping[str, int], scope_rows: int, table_rows: int) -> dict[str, int]:
    """Table-wide document counts scaled to a scope of `scope_rows` of `table_rows` rows."""
    if table_rows <= 0 or scope_rows >= table_rows:
        return dict(counts)
    share = scope_rows / table_rows
    return {t: max(1, round(n * share)) if n else 0 for t, n in counts.items()}
