"""Relative date resolution against a fixed anchor: Friday 2024-03-15, 18:30 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mnemo.extraction.dates import find_dates, resolve_relative_dates, rewrite_dates

ANCHOR = datetime(2024, 3, 15, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "rewritten", "day"),
    [
        ("I went there yesterday", "I went there on 2024-03-14", "2024-03-14"),
        ("Yesterday I ran", "On 2024-03-14 I ran", "2024-03-14"),
        ("I'm free today", "I'm free on 2024-03-15", "2024-03-15"),
        ("see you tomorrow", "see you on 2024-03-16", "2024-03-16"),
        ("we ate out last night", "we ate out on 2024-03-14", "2024-03-14"),
        ("the day before yesterday", "on 2024-03-13", "2024-03-13"),
        ("the day after tomorrow", "on 2024-03-17", "2024-03-17"),
        ("I met her two days ago", "I met her on 2024-03-13", "2024-03-13"),
        ("a week ago", "on 2024-03-08", "2024-03-08"),
        ("in 3 weeks", "on 2024-04-05", "2024-04-05"),
        ("a couple of months ago", "in January 2024", "2024-01-01"),
        ("I'm flying next Friday", "I'm flying on 2024-03-22", "2024-03-22"),
        ("this Friday", "on 2024-03-15", "2024-03-15"),
        ("last Friday", "on 2024-03-08", "2024-03-08"),
        ("I'm going on Monday", "I'm going on 2024-03-18", "2024-03-18"),
        ("I saw him on Monday", "I saw him on 2024-03-11", "2024-03-11"),
        ("I quit last week", "I quit during the week of 2024-03-04", "2024-03-04"),
        ("next week", "during the week of 2024-03-18", "2024-03-18"),
        ("next weekend", "on the weekend of 2024-03-23", "2024-03-23"),
        ("since last month", "since February 2024", "2024-02-01"),
        ("last year was rough", "in 2023 was rough", "2023-01-01"),
        ("in 2 years", "in 2026", "2026-01-01"),
        ("I'm going to Lisbon in June", "I'm going to Lisbon in June 2024", "2024-06-01"),
        ("I was in Lisbon in June", "I was in Lisbon in June 2023", "2023-06-01"),
        ("in March 2025", "in March 2025", "2025-03-01"),
        ("on March 5th", "on 2024-03-05", "2024-03-05"),
        ("5 March 2023", "on 2023-03-05", "2023-03-05"),
        ("by tomorrow please", "by 2024-03-16 please", "2024-03-16"),
        ("the release is 2024-05-01", "the release is 2024-05-01", "2024-05-01"),
    ],
)
def test_resolves(text: str, rewritten: str, day: str) -> None:
    new_text, when = resolve_relative_dates(text, ANCHOR)
    assert new_text == rewritten
    assert when is not None
    assert when.date().isoformat() == day


@pytest.mark.parametrize(
    "text",
    [
        "I love sushi",
        "Friday's meeting was long",
        "I work Mondays",
        "I may come along",
        "on 2024-02-30 nothing happened",
        "",
    ],
)
def test_leaves_text_without_dates_alone(text: str) -> None:
    assert resolve_relative_dates(text, ANCHOR) == (text, None)


def test_main_date_is_the_first_one() -> None:
    text, when = resolve_relative_dates("Yesterday I booked a flight for next Friday", ANCHOR)
    assert text == "On 2024-03-14 I booked a flight for 2024-03-22"
    assert when == datetime(2024, 3, 14, tzinfo=UTC)


def test_result_keeps_the_anchor_timezone() -> None:
    tokyo = timezone(timedelta(hours=9))
    anchor = datetime(2024, 3, 16, 1, 0, tzinfo=tokyo)  # still the 15th in UTC
    _, when = resolve_relative_dates("yesterday", anchor)
    assert when == datetime(2024, 3, 15, tzinfo=tokyo)
    assert when is not None and when.tzinfo is tokyo


def test_mentions_point_into_the_rewritten_text() -> None:
    text, mentions = rewrite_dates("Yesterday I left, tomorrow I return", ANCHOR)
    assert [text[m.start : m.end] for m in mentions] == ["On 2024-03-14", "on 2024-03-16"]
    assert [m.start for m in find_dates("Yesterday I left, tomorrow I return", ANCHOR)] == [0, 18]


def test_deterministic() -> None:
    text = "two weeks ago I moved, next month I start, in June we travel"
    assert resolve_relative_dates(text, ANCHOR) == resolve_relative_dates(text, ANCHOR)
