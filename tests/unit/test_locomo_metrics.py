"""Table-driven tests of the LoCoMo harness's metrics and its data-shaping helpers."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.locomo import (
    conversation_of,
    load_conversations,
    message_id,
    natural_date,
    normalise_evidence,
    parse_session_date,
    split_results,
    turn_content,
    turns_of,
)
from bench.locomo_metrics import (
    QuestionScore,
    aggregate_by_category,
    distinct_turns,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
)

LOG3 = math.log2(3)  # the discount of rank 2


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        ([], []),
        ([["a"], ["b"]], ["a", "b"]),
        ([["a", "b"], ["b", "c"], ["a"]], ["a", "b", "c"]),  # a 2-turn result credits both
        ([[], ["a"], []], ["a"]),  # results that map to no turn add nothing
        ([["x", "x"], ["x"]], ["x"]),
        ([["c", "a"], ["b"]], ["c", "a", "b"]),  # a result's own turn order is kept
    ],
)
def test_distinct_turns_keeps_first_occurrence_in_rank_order(
    ranked: list[list[str]], expected: list[str]
) -> None:
    assert distinct_turns(ranked) == expected


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["a", "b", "c"], {"a"}, 1, 1.0),
        (["b", "a"], {"a"}, 1, 0.0),
        (["a", "b", "c"], {"a", "c", "z"}, 3, 2 / 3),
        (["a", "b", "c"], {"a", "c", "z"}, 2, 1 / 3),
        (["a", "a", "a", "b"], {"b"}, 2, 1.0),  # k counts distinct items
        (["a"], {"a", "b"}, 20, 0.5),  # k larger than the results
        ([], {"a"}, 5, 0.0),
        (["a"], ["a", "a"], 5, 1.0),  # duplicated evidence counts once
    ],
)
def test_recall_at_k_is_the_fraction_of_relevant_found(
    ranked: list[str], relevant: Collection[str], k: int, expected: float
) -> None:
    assert recall_at_k(ranked, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["a", "b"], {"a", "b"}, 10, 1.0),
        (["x", "a"], {"a"}, 10, 1 / LOG3),
        (["a", "x", "b"], {"a", "b"}, 10, (1 + 1 / 2) / (1 + 1 / LOG3)),
        (["x", "y"], {"a"}, 10, 0.0),
        (["a", "b"], {"a", "b", "c"}, 2, 1.0),  # the ideal ranks only min(|relevant|, k)
        (["x", "x", "a"], {"a"}, 2, 1 / LOG3),  # a duplicate does not push a turn out
        (["a"], {"a", "b"}, 10, 1 / (1 + 1 / LOG3)),  # k larger than the results
        (["x", "a"], {"a"}, 1, 0.0),
    ],
)
def test_ndcg_at_k_discounts_by_rank_against_the_ideal(
    ranked: list[str], relevant: Collection[str], k: int, expected: float
) -> None:
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["a"], {"a"}, 20, 1.0),
        (["x", "y", "a"], {"a"}, 20, 1 / 3),
        (["x", "y", "a"], {"a"}, 2, 0.0),  # beyond k counts as not found
        ([], {"a"}, 20, 0.0),
        (["x", "x", "a"], {"a"}, 20, 1 / 2),  # ranks count distinct items
        (["x", "a", "b"], {"a", "b"}, 20, 1 / 2),  # only the first relevant item matters
    ],
)
def test_reciprocal_rank_is_one_over_the_first_relevant_rank(
    ranked: list[str], relevant: Collection[str], k: int, expected: float
) -> None:
    assert reciprocal_rank(ranked, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k, reciprocal_rank])
@pytest.mark.parametrize(("relevant", "k"), [(set(), 5), ([], 5), ({"a"}, 0), ({"a"}, -1)])
def test_metrics_refuse_empty_evidence_and_k_below_one(
    metric: Any, relevant: Collection[str], k: int
) -> None:
    with pytest.raises(ValueError):
        metric(["a", "b"], relevant, k)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),  # order of the input does not matter
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([5.0], 99, 5.0),
        ([float(v) for v in range(1, 101)], 95, 95.05),  # numpy.percentile gives the same
    ],
)
def test_percentile_interpolates_between_ranks(
    values: Sequence[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_no_values_and_out_of_range_q(values: Sequence[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)


def test_aggregate_reports_categories_in_order_with_overall_excluding_adversarial() -> None:
    scores = [
        QuestionScore(1, {"R@5": 0.0}),
        QuestionScore(4, {"R@5": 1.0}),
        QuestionScore(4, {"R@5": 0.5}),
        QuestionScore(5, {"R@5": 1.0}),
    ]
    rows = aggregate_by_category(scores)
    assert list(rows) == ["single-hop", "multi-hop", "overall", "adversarial"]
    assert {name: (s.n, s.means["R@5"]) for name, s in rows.items()} == {
        "single-hop": (2, 0.75),
        "multi-hop": (1, 0.0),
        "overall": (3, 0.5),
        "adversarial": (1, 1.0),
    }


@pytest.mark.parametrize(
    ("categories", "expected_rows"),
    [
        ([], []),
        ([2, 3], ["temporal", "open-domain", "overall"]),
        ([5], ["adversarial"]),
        ([7, 4], ["single-hop", "overall", "category-7"]),  # unknown ids stay out of overall
    ],
)
def test_aggregate_lists_only_rows_that_have_questions(
    categories: list[int], expected_rows: list[str]
) -> None:
    rows = aggregate_by_category(QuestionScore(c, {"MRR": 1.0}) for c in categories)
    assert list(rows) == expected_rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("12:09 am on 13 September, 2023", datetime(2023, 9, 13, 0, 9, tzinfo=UTC)),
        ("12:30 pm on 1 January, 2024", datetime(2024, 1, 1, 12, 30, tzinfo=UTC)),
        (" 10:04 AM on 19 December 2023 ", datetime(2023, 12, 19, 10, 4, tzinfo=UTC)),
    ],
)
def test_session_dates_parse_whatever_the_locale(text: str, expected: datetime) -> None:
    assert parse_session_date(text) == expected


@pytest.mark.parametrize("text", ["", "8 May 2023", "1:56 pm on 8 Smarch, 2023"])
def test_unparseable_session_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_session_date(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["D1:3"], ("D1:3",)),
        (["D8:6; D9:17"], ("D8:6", "D9:17")),
        (["D9:1 D4:4 D4:6"], ("D9:1", "D4:4", "D4:6")),
        (["D:11:26"], ("D11:26",)),
        (["D"], ("D",)),  # kept so that it is counted as an id not found
        (["D1:3", "D1:3 "], ("D1:3",)),
        ([], ()),
    ],
)
def test_evidence_ids_are_normalised(raw: list[str], expected: tuple[str, ...]) -> None:
    assert normalise_evidence(raw) == expected


def test_turn_text_carries_speaker_caption_and_optional_date() -> None:
    turn = {"speaker": "Mel", "text": "Look!", "blip_caption": "a photo of a lake"}
    assert turn_content(turn, None) == "Mel: Look! [shares a photo of a lake]"
    moment = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert turn_content({"speaker": "Mel", "text": "Hi"}, moment) == "On 8 May 2023, Mel: Hi"
    assert natural_date(moment) == "8 May 2023"
    assert message_id("conv-26", "D1:3") == "conv-26_D1_3"


def _sample(sample_id: str) -> dict[str, Any]:
    session = [
        {"speaker": "Jon", "dia_id": "D1:1", "text": "Hi Gina"},
        {"speaker": "Gina", "dia_id": "D1:2", "text": "Hi Jon"},
        {"speaker": "Jon", "dia_id": "D1:3", "text": "Bye"},
    ]
    return {
        "sample_id": sample_id,
        "conversation": {
            "speaker_a": "Gina",  # not the first speaker, as in some LoCoMo conversations
            "speaker_b": "Jon",
            "session_1_date_time": "4:04 pm on 20 January, 2023",
            "session_1": session,
            "session_2_date_time": "4:04 pm on 21 January, 2023",  # a date without turns
        },
        "qa": [{"question": "Who?", "answer": "Jon", "evidence": ["D1:1; D7:7"], "category": 4}],
    }


def test_a_conversation_becomes_ordered_sessions_with_roles_by_first_speaker() -> None:
    conv = conversation_of(_sample("conv-30"), "dev", date_in_text=False)
    assert conv.user_id == "locomo-conv-30"
    assert list(conv.sessions) == ["locomo-conv-30-s1"]
    turns = conv.sessions["locomo-conv-30-s1"]
    assert [t.role for t in turns] == ["user", "assistant", "user"]
    start = datetime(2023, 1, 20, 16, 4, tzinfo=UTC)
    assert [t.created_at for t in turns] == [start + timedelta(seconds=s) for s in range(3)]
    assert conv.dia_ids()["conv-30_D1_2"] == "D1:2"
    assert conv.questions[0].evidence == ("D1:1", "D7:7")


def test_splits_are_the_first_five_and_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps([_sample(f"conv-{i}") for i in range(7)]), encoding="utf-8")
    assert [c.split for c in load_conversations(data, "all", None, False)] == ["dev"] * 5 + [
        "test"
    ] * 2
    assert [c.sample_id for c in load_conversations(data, "test", 1, False)] == ["conv-5"]
    assert len(load_conversations(data, "dev", 3, False)) == 3


def test_search_results_map_to_turns_through_their_id_and_extracted_from() -> None:
    dia_ids = {"c_D1_1": "D1:1", "c_D1_2": "D1:2"}
    assert turns_of({"id": "c_D1_2", "extracted_from": ["c_D1_2"]}, dia_ids) == ["D1:2"]
    assert turns_of({"id": "01J", "extracted_from": ["c_D1_2", "c_D1_1"]}, dia_ids) == [
        "D1:2",
        "D1:1",
    ]
    assert turns_of({"id": "01J", "extracted_from": None}, dia_ids) == []


def test_split_results_give_dev_test_and_all_rows() -> None:
    def record(split: str, category: int, recall: float) -> dict[str, Any]:
        return {"split": split, "category": category, "scores": {"R@5": recall}}

    records = [record("dev", 4, 1.0), record("test", 4, 0.0), record("test", 5, 1.0)]
    records.append({"split": "dev", "category": 1, "scores": None})  # evidence not in the data
    results = split_results(records, "all")
    assert list(results) == ["dev", "test", "all"]
    assert results["all"]["overall"] == {"n": 2, "R@5": 0.5}
    assert results["test"]["adversarial"] == {"n": 1, "R@5": 1.0}
    assert list(split_results(records, "dev")) == ["dev"]
