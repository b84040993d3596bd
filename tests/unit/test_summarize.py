"""Extractive summaries: deterministic, in original order, within budget, progressive."""

from __future__ import annotations

import pytest

from mnemo.extraction.summarize import split_sentences, summarize

TEXTS = [
    "Sam lives in Berlin and works at Globex as a data engineer. Sam loves sushi. "
    "The weather was nice.",
    "Sam loves sushi. Sam loves sushi a lot. Sam has a dog named Rex who loves the park.",
    "Sam is flying to Rome for a wedding. Sam works at Globex on data pipelines. Ok thanks!",
]
LATER = [
    "Sam moved to Munich for a new job at Initech. Sam now prefers Vim over VS Code. "
    "Rex hates the U-Bahn."
]


def _sentences_in(texts: list[str]) -> list[str]:
    return [s for text in texts for s in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        (
            "Dr. Smith met Mr. Jones at St. Mary's. Then they left.",
            ["Dr. Smith met Mr. Jones at St. Mary's.", "Then they left."],
        ),
        ("E.g. this one stays whole.", ["E.g. this one stays whole."]),
        ("J. K. Rowling wrote it.", ["J. K. Rowling wrote it."]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("Wow!! Really?! Yes.", ["Wow!!", "Really?!", "Yes."]),
        ("", []),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize("budget", [1, 2, 3, 5, 50])
def test_budget_is_respected(budget: int) -> None:
    chosen = split_sentences(summarize(TEXTS, max_sentences=budget))
    assert 1 <= len(chosen) <= budget


def test_sentences_are_extracted_verbatim_in_original_order() -> None:
    source = _sentences_in(TEXTS)
    chosen = split_sentences(summarize(TEXTS, max_sentences=4))
    positions = [source.index(s) for s in chosen]
    assert positions == sorted(positions)


def test_deterministic() -> None:
    assert summarize(TEXTS, 3) == summarize(list(TEXTS), 3)
    assert summarize(LATER, 3, previous=summarize(TEXTS, 3)) == summarize(
        LATER, 3, previous=summarize(TEXTS, 3)
    )


def test_duplicates_and_chatter_are_not_chosen() -> None:
    chosen = split_sentences(summarize(TEXTS, max_sentences=5))
    assert chosen.count("Sam loves sushi.") <= 1
    assert "Ok thanks!" not in chosen


def test_central_sentences_win_over_off_topic_ones() -> None:
    texts = [
        "The project uses Python. The project has tests in Python. "
        "My cat sleeps a lot. The project ships Python wheels."
    ]
    assert "My cat sleeps a lot." not in summarize(texts, max_sentences=2)


def test_progressive_summary_keeps_key_old_sentences_and_adds_new_ones() -> None:
    first = summarize(TEXTS, max_sentences=3)
    second = summarize(LATER, max_sentences=4, previous=first)
    old, new = split_sentences(first), split_sentences(second)
    assert len(new) <= 4
    kept = [s for s in new if s in old]
    added = [s for s in new if s not in old]
    assert len(kept) >= 2, "the previous summary's key sentences stay"
    assert len(added) >= 1, "new material gets room"
    assert new == kept + added, "previous sentences first, then new ones, each in order"


def test_progressive_summary_skips_what_it_already_says() -> None:
    first = "Sam lives in Berlin. Sam loves sushi."
    second = summarize(["Sam loves sushi.", "Sam bought a bike."], 3, previous=first)
    assert split_sentences(second).count("Sam loves sushi.") == 1
    assert "Sam bought a bike." in second


def test_previous_alone_is_trimmed_to_budget() -> None:
    previous = summarize(TEXTS, max_sentences=4)
    trimmed = split_sentences(summarize([], max_sentences=2, previous=previous))
    assert len(trimmed) == 2
    assert all(s in split_sentences(previous) for s in trimmed)


@pytest.mark.parametrize(
    ("texts", "budget", "previous"),
    [([], 3, None), (["", "  "], 3, None), (TEXTS, 0, None), (["ok. thanks!"], 3, None)],
)
def test_empty_results(texts: list[str], budget: int, previous: str | None) -> None:
    assert summarize(texts, max_sentences=budget, previous=previous) == ""
