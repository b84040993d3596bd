"""Table-driven tests of index terms (stemming) and of what is indexed for a memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.retrieval.documents import (
    ContextWindow,
    Turn,
    changed_windows,
    context_window,
    index_text,
    natural_date,
)
from mnemo.retrieval.text import index_terms, query_terms, stem


@pytest.mark.parametrize(
    ("words", "shared"),
    [
        (["paints", "painted", "painting", "paint"], "paint"),
        (["make", "makes", "making"], "mak"),
        (["running", "run", "runs"], "run"),
        (["planned", "plan", "plans"], "plan"),
        (["agencies", "agency"], "agency"),
        (["studies", "studied", "study"], "study"),
        (["glasses", "glass"], "glass"),
        (["hikes", "hiking", "hike", "hiked"], "hik"),
    ],
)
def test_stem_conflates_inflections(words: list[str], shared: str) -> None:
    assert {stem(w) for w in words} == {shared}


@pytest.mark.parametrize("word", ["bus", "class", "status", "2023", "3pm", "going", "thing"])
def test_stem_keeps_short_words_digits_and_false_suffixes(word: str) -> None:
    assert stem(word) == word


def test_index_terms_keep_repeats_and_drop_stopwords() -> None:
    assert index_terms("I painted; she paints. The painting!") == ["paint", "paint", "paint"]
    assert query_terms("Who paints? Who painted the sunrise?") == ["paint", "sunris"]


MAY_8 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("memory_type", "expected"),
    [
        ("message", "On 8 May 2023, Caroline: I went to a support group"),
        ("semantic", "Caroline: I went to a support group"),
    ],
)
def test_messages_are_indexed_with_their_date(memory_type: str, expected: str) -> None:
    assert index_text("Caroline: I went to a support group", memory_type, MAY_8) == expected
    assert natural_date(datetime(2024, 12, 31, tzinfo=UTC)) == "31 December 2024"


TURNS = [Turn(f"t{i}", f"turn {i}", MAY_8) for i in range(6)]


@pytest.mark.parametrize(
    ("position", "members", "neighbours"),
    [
        (0, ("t0", "t1", "t2"), ("t1",)),
        (1, ("t0", "t1", "t2", "t3"), ("t0", "t2")),
        (3, ("t1", "t2", "t3", "t4", "t5"), ("t2", "t4")),
        (5, ("t3", "t4", "t5"), ("t4",)),
    ],
)
def test_context_window_spans_two_turns_each_side(
    position: int, members: tuple[str, ...], neighbours: tuple[str, ...]
) -> None:
    window = context_window(TURNS, position)
    assert window.member_ids == members
    assert window.neighbour_ids == neighbours
    assert window.text.startswith("On 8 May 2023: turn ")


@pytest.mark.parametrize(
    ("fresh", "rebuilt"),
    [
        (set(), []),
        ({"t5"}, ["t3", "t4", "t5"]),  # a new last turn joins the windows of the two before
        ({"t0"}, ["t0", "t1", "t2"]),
        ({"t4", "t5"}, ["t2", "t3", "t4", "t5"]),
    ],
)
def test_only_windows_that_new_turns_joined_are_rebuilt(fresh: set[str], rebuilt: list) -> None:  # type: ignore[type-arg]
    windows: list[ContextWindow] = changed_windows(TURNS, fresh)
    assert [w.id for w in windows] == rebuilt
