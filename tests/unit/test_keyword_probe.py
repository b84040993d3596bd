"""The keyword probe of wide scopes: which terms to match, how, and what BM25 is told."""

from __future__ import annotations

from mnemo.retrieval.bm25 import bm25_scores
from mnemo.retrieval.keyword_probe import (
    MIN_PROBE_HITS,
    KeywordProbe,
    ProbeEstimates,
    estimated_matches,
    found_enough,
    plan_probes,
    scaled,
)

N = 1_000_000


def test_terms_that_fit_the_budget_together_are_the_exact_full_match() -> None:
    probes = plan_probes(["tea", "kyoto"], {"tea": 300, "kyoto": 40}, budget=2_000)
    assert probes == [KeywordProbe(("kyoto", "tea"), exact=True)]


def test_the_rarest_terms_are_read_when_a_common_one_would_pass_the_budget() -> None:
    counts = {"visited": 40_000, "kyoto": 40, "temple": 900, "trip": 1_500}
    probes = plan_probes(["visited", "kyoto", "temple", "trip"], counts, budget=2_000)
    # 40 + 900 fit; adding trip's 1,500 would not.
    assert probes == [KeywordProbe(("kyoto", "temple"))]
    assert not probes[0].exact and not probes[0].conjunctive


def test_only_common_terms_are_required_together_then_relaxed_one_at_a_time() -> None:
    counts = {"alice": 21_000, "visited": 31_000, "lisbon": 30_000, "week": 160_000}
    probes = plan_probes(["alice", "visited", "lisbon", "week"], counts, budget=2_000)
    # Rarest first; the most common term is dropped first.
    assert probes == [
        KeywordProbe(("alice", "lisbon", "visited", "week"), conjunctive=True),
        KeywordProbe(("alice", "lisbon", "visited"), conjunctive=True),
        KeywordProbe(("alice", "lisbon"), conjunctive=True),
        KeywordProbe(("alice",)),
    ]


def test_a_long_common_query_gets_at_most_four_probes_the_last_a_single_term() -> None:
    terms = [f"t{i}" for i in range(8)]
    probes = plan_probes(terms, dict.fromkeys(terms, 50_000), budget=2_000)
    assert [len(p.terms) for p in probes] == [8, 7, 6, 1]


def test_terms_no_document_holds_are_left_out() -> None:
    assert plan_probes(["zzz"], {"zzz": 0}, budget=10) == []
    assert plan_probes(["zzz", "tea"], {"tea": 5}, budget=10)[0].terms == ("tea",)


def test_a_conjunctive_probe_finding_almost_nothing_is_not_enough() -> None:
    both = KeywordProbe(("a", "b"), conjunctive=True)
    assert not found_enough(both, MIN_PROBE_HITS - 1)
    assert found_enough(both, MIN_PROBE_HITS)
    assert found_enough(KeywordProbe(("a",)), 0)  # a single term's probe is final


def test_estimates_go_with_a_probe_but_not_with_an_exact_match() -> None:
    counts = {"a": 500, "b": 500}
    assert ProbeEstimates.of(KeywordProbe(("a", "b"), exact=True), ["a", "b"], counts, 1_000) == (
        ProbeEstimates(None, None)
    )
    estimates = ProbeEstimates.of(KeywordProbe(("a",)), ["a", "b"], counts, 1_000)
    assert estimates.document_frequencies == {"a": 500, "b": 500}
    assert estimates.keyword_total == 750  # 1,000 x (1 - 0.5 x 0.5)


def test_estimated_matches_and_scaling() -> None:
    assert estimated_matches({"a": 10}, ["a"], 100) == 10
    assert estimated_matches({}, ["a"], 100) == 0
    assert scaled({"a": 1_000, "b": 0, "c": 1}, scope_rows=100, table_rows=1_000) == {
        "a": 100,
        "b": 0,
        "c": 1,
    }


def test_given_document_frequencies_replace_the_counted_ones_in_bm25() -> None:
    documents = {"d1": "kyoto temple", "d2": "kyoto"}
    counted = bm25_scores(["kyoto"], documents, doc_count=1_000)
    told = bm25_scores(["kyoto"], documents, doc_count=1_000, document_frequencies={"kyoto": 900})
    # Every probed document holds kyoto: counted, kyoto looks rare; told, it is common.
    assert told["d2"] < counted["d2"] / 5
    # A given frequency below what the rows show is raised to the count.
    low = bm25_scores(["kyoto"], documents, doc_count=1_000, document_frequencies={"kyoto": 1})
    assert low == counted
