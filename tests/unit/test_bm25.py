"""Table-driven tests of BM25 over a scope's matched documents."""

from __future__ import annotations

import math

import pytest

from mnemo.retrieval.bm25 import (
    Bm25Params,
    TermDocument,
    bm25_scores,
    idf,
    keyword_signals,
    term_frequencies,
)


@pytest.mark.parametrize(
    ("doc_count", "df", "expected"),
    [(10, 1, math.log(1 + 9.5 / 1.5)), (10, 10, math.log(1 + 0.5 / 10.5)), (1, 1, math.log(4 / 3))],
)
def test_idf_is_lucenes_and_never_negative(doc_count: int, df: int, expected: float) -> None:
    assert idf(doc_count, df) == pytest.approx(expected)
    assert idf(doc_count, df) > 0


@pytest.mark.parametrize(
    ("terms", "tfs", "length"),
    [
        ("cat cat dog", [2, 1, 0], 3),
        ("cat", [1, 0, 0], 1),
        ("", [0, 0, 0], 0),
        ("concat cats dog", [0, 1, 0], 3),  # whole terms only
        ("fish dog dog dog", [0, 3, 1], 4),  # adjacent repeats each count
    ],
)
def test_term_frequencies_count_whole_terms(terms: str, tfs: list[int], length: int) -> None:
    assert term_frequencies(["cat", "dog", "fish"], terms) == (tfs, length)


@pytest.mark.parametrize(
    ("params", "docs", "expected_order"),
    [
        # A rarer term weighs more: "zebra" (df 1) beats "cat" (df 2).
        (Bm25Params(), {"a": "cat", "b": "cat x", "c": "zebra"}, ["c", "a", "b"]),
        # Term frequency saturates but still counts.
        (Bm25Params(), {"a": "cat cat cat x", "b": "cat y z x"}, ["a", "b"]),
        # b = 0: length does not matter, so equal tf ties (keys break the tie here).
        (Bm25Params(b=0.0), {"a": "cat", "b": "cat x y z"}, ["a", "b"]),
        # b = 1: the shorter document wins clearly.
        (Bm25Params(b=1.0), {"b": "cat x y z", "a": "cat"}, ["a", "b"]),
    ],
)
def test_bm25_ranks(params: Bm25Params, docs: dict, expected_order: list) -> None:  # type: ignore[type-arg]
    scores = bm25_scores(["cat", "zebra"], docs, doc_count=10, params=params, average_length=2.0)
    assert sorted(scores, key=lambda k: (-scores[k], k)) == expected_order


def test_bm25_by_hand() -> None:
    # One term, tf 2, length 4, mean length 2, N 10, df 1, k1 1.2, b 0.3.
    norm = 1.2 * (1 - 0.3 + 0.3 * 4 / 2)
    expected = math.log(1 + 9.5 / 1.5) * 2 * 2.2 / (2 + norm)
    scores = bm25_scores(["cat"], {"a": "cat cat x y"}, 10, average_length=2.0)
    assert scores == {"a": pytest.approx(expected)}


def test_bm25_leaves_out_documents_without_a_query_term() -> None:
    assert bm25_scores(["cat"], {"a": "dog", "b": "cat"}, 5).keys() == {"b"}


def test_bm25_mean_length_defaults_to_the_matched_documents() -> None:
    docs = {"a": "cat", "b": "cat x y"}
    assert bm25_scores(["cat"], docs, 10) == bm25_scores(["cat"], docs, 10, average_length=2.0)


def test_keyword_signals_score_windows_and_own_terms_apart() -> None:
    docs = {
        "turn": TermDocument("dog", "pottery dog class"),  # its window matches
        "fact": TermDocument("pottery class"),  # no window: it is its own
    }
    own, context = keyword_signals(["pottery"], docs, doc_count=100)
    assert own.keys() == {"fact"}
    assert context.keys() == {"turn", "fact"}
    assert keyword_signals(["pottery"], {}, 100) == ({}, {})
