"""Rewrite relative date phrases ("yesterday", "next Friday", "in March") as absolute dates."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Grain = Literal["day", "week", "weekend", "month", "year"]
Resolved = tuple[date, Grain]
Handler = Callable[[re.Match[str], date, str], Resolved | None]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2,
}  # fmt: skip
# Longest alternatives first so "a couple of" is not read as "a".
_NUM = r"(?P<num>\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY = r"(?P<wd>" + "|".join(WEEKDAYS) + r")(?!'s)"
_MONTH = r"(?P<month>" + "|".join(MONTHS) + r")"
# A preposition in front decides the wording of the replacement ("by Friday" -> "by 2024-03-08").
_PREP = r"(?:\b(?P<prep>on|by|for|until|till|since|before|after|from|during)\s+)?"
# Tense decides which way a bare "Friday" or "in March" points; the future wins when both appear.
_FUTURE = re.compile(
    r"\b(?:will|going to|gonna|plan(?:ning)?|next|tomorrow|soon|upcoming|hope|need to|want to)\b"
    r"|'ll\b|\b(?:i'm|am|are|is|we're|they're)\s+\w+ing\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:was|were|did|had|went|got|came|saw|met|ate|took|made|told|said|left|bought|flew"
    r"|ran|spent|felt|found|gave|heard|lost|paid|slept|spoke|thought|wrote|ago|last|yesterday"
    r"|\w{3,}ed)\b",
    re.IGNORECASE,
)


# Every rule needs one of these words or a digit; most sentences have none and skip all rules.
_TRIGGER = re.compile(
    r"\d|\b(?:yesterday|today|tonight|tomorrow|day|days|week|weeks|weekend|month|months|year"
    r"|years|morning|afternoon|evening|night|" + "|".join(WEEKDAYS + MONTHS) + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """One resolved date phrase: where it was, what replaces it, and the date it means."""

    start: int
    end: int
    replacement: str
    date: datetime


def _direction(text: str) -> int:
    if _FUTURE.search(text):
        return 1
    return -1 if _PAST.search(text) else 1


def _number(m: re.Match[str]) -> int:
    raw = m.group("num").lower()
    return int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _fixed(days: int) -> Handler:
    def handle(_m: re.Match[str], today: date, _text: str) -> Resolved:
        return today + timedelta(days=days), "day"

    return handle


def _span(sign: int) -> Handler:
    """ "3 days ago" / "in 3 days": whole days and weeks are exact, months and years are coarse."""

    def handle(m: re.Match[str], today: date, _text: str) -> Resolved:
        n, unit = sign * _number(m), m.group("unit").lower()
        if unit in ("day", "week"):
            return today + timedelta(days=n * (7 if unit == "week" else 1)), "day"
        if unit == "month":
            return _shift_months(today, n), "month"
        return date(today.year + n, 1, 1), "year"

    return handle


def _period(m: re.Match[str], today: date, _text: str) -> Resolved:
    """ "last week", "next month", "this year": the start of that period."""
    step = {"last": -1, "next": 1, "coming": 1}.get(m.group("rel").lower(), 0)
    unit = m.group("unit").lower()
    if unit == "week":
        return _monday(today) + timedelta(weeks=step), "week"
    if unit == "weekend":
        return _monday(today) + timedelta(days=5, weeks=step), "weekend"
    if unit == "month":
        return _shift_months(today, step), "month"
    return date(today.year + step, 1, 1), "year"


def _weekday(m: re.Match[str], today: date, text: str) -> Resolved:
    """ "next/this Friday" is the coming one, "last Friday" the previous; bare ones follow tense."""
    rel = (m.group("rel") or "").lower()
    target = WEEKDAYS.index(m.group("wd").lower())
    ahead = (target - today.weekday()) % 7
    if rel == "last" or (not rel and _direction(text) < 0):
        return today - timedelta(days=(7 - ahead) if ahead else 7), "day"
    if rel == "next" and ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead), "day"


def _month_name(m: re.Match[str], today: date, text: str) -> Resolved:
    """ "in March": the explicit year if given, else the nearest March in the sentence's tense."""
    month = MONTHS.index(m.group("month").lower()) + 1
    if m.group("year"):
        return date(int(m.group("year")), month, 1), "month"
    rel = (m.group("rel") or "").lower()
    sign = {"last": -1, "next": 1}.get(rel) or _direction(text)
    year = today.year
    if sign > 0 and month < today.month:
        year += 1
    elif sign < 0 and month > today.month:
        year -= 1
    return date(year, month, 1), "month"


def _month_day(m: re.Match[str], today: date, text: str) -> Resolved | None:
    month = MONTHS.index(m.group("month").lower()) + 1
    year = int(m.group("year")) if m.group("year") else today.year
    try:
        day = date(year, month, int(m.group("day")))
    except ValueError:
        return None
    if not m.group("year") and _direction(text) > 0 and day < today - timedelta(days=31):
        day = day.replace(year=year + 1)  # "on March 5" said in December means next year
    return day, "day"


def _iso(m: re.Match[str], _today: date, _text: str) -> Resolved | None:
    try:
        return date.fromisoformat(m.group("iso")), "day"
    except ValueError:
        return None


def _rule(pattern: str, handler: Handler) -> tuple[re.Pattern[str], Handler]:
    return re.compile(_PREP + r"\b" + pattern + r"\b", re.IGNORECASE), handler


_DAY_PART = r"(?: (?:morning|afternoon|evening|night))?"
_YEAR = r"(?:,? (?P<year>\d{4}))?"
# Ordered: longer phrases first, because a span once claimed is not matched again.
_RULES: tuple[tuple[re.Pattern[str], Handler], ...] = (
    _rule(r"(?P<iso>\d{4}-\d{2}-\d{2})", _iso),
    _rule(r"the day before yesterday", _fixed(-2)),
    _rule(r"the day after tomorrow", _fixed(2)),
    _rule(r"(?:last night|yesterday" + _DAY_PART + ")", _fixed(-1)),
    _rule(r"(?:today|tonight|this (?:morning|afternoon|evening))", _fixed(0)),
    _rule(r"tomorrow" + _DAY_PART, _fixed(1)),
    _rule(_NUM + " " + _UNIT + " ago", _span(-1)),
    _rule("in " + _NUM + " " + _UNIT, _span(1)),
    _rule(_NUM + " " + _UNIT + " from now", _span(1)),
    _rule(r"(?P<rel>last|next|this|coming) (?P<unit>weekend|week|month|year)", _period),
    _rule(_MONTH + r" (?P<day>\d{1,2})(?:st|nd|rd|th)?" + _YEAR, _month_day),
    _rule(r"(?P<day>\d{1,2})(?:st|nd|rd|th)? (?:of )?" + _MONTH + _YEAR, _month_day),
    _rule(r"(?:(?P<rel>last|next|this|coming) |in )" + _MONTH + _YEAR, _month_name),
    _rule(r"(?:(?P<rel>last|next|this|coming) )?" + _WEEKDAY, _weekday),
)


def _render(resolved: Resolved, prep: str | None) -> str:
    day, grain = resolved
    lead = prep.lower() if prep else None
    if grain == "day":
        return f"{lead if lead and lead not in ('on', 'during') else 'on'} {day.isoformat()}"
    if grain in ("week", "weekend"):
        default = "during" if grain == "week" else "on"
        return f"{lead if lead and lead != 'on' else default} the {grain} of {day.isoformat()}"
    value = (
        f"{MONTHS[day.month - 1].capitalize()} {day.year}" if grain == "month" else str(day.year)
    )
    return f"{lead if lead and lead not in ('on', 'during') else 'in'} {value}"


def _mention(
    m: re.Match[str], handler: Handler, today: date, text: str, anchor: datetime
) -> DateMention | None:
    resolved = handler(m, today, text)
    if resolved is None:
        return None
    day = resolved[0]
    when = datetime(day.year, day.month, day.day, tzinfo=anchor.tzinfo)
    if handler is _iso:
        return DateMention(m.start("iso"), m.end(), m.group("iso"), when)
    replacement = _render(resolved, m.group("prep"))
    if m.group(0)[0].isupper():
        replacement = replacement[0].upper() + replacement[1:]
    return DateMention(m.start(), m.end(), replacement, when)


def find_dates(text: str, anchor: datetime) -> list[DateMention]:
    """Every date phrase in `text`, resolved against `anchor`, in reading order."""
    if not _TRIGGER.search(text):
        return []
    today = anchor.date()
    found: list[DateMention] = []
    for pattern, handler in _RULES:
        for m in pattern.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            mention = _mention(m, handler, today, text, anchor)
            if mention is not None:
                found.append(mention)
    return sorted(found, key=lambda f: f.start)


def rewrite_dates(text: str, anchor: datetime) -> tuple[str, tuple[DateMention, ...]]:
    """`text` with its date phrases made absolute, and where each now sits in the new text."""
    parts: list[str] = []
    moved: list[DateMention] = []
    cursor = length = 0
    for mention in find_dates(text, anchor):
        length += mention.start - cursor
        parts += [text[cursor : mention.start], mention.replacement]
        end = length + len(mention.replacement)
        moved.append(DateMention(length, end, mention.replacement, mention.date))
        length, cursor = end, mention.end
    parts.append(text[cursor:])
    return "".join(parts), tuple(moved)


def governing_date(
    text: str, mentions: Sequence[DateMention], start: int, end: int
) -> tuple[DateMention, bool] | None:
    """The date of the clause text[start:end]: one inside it, or one fronted before its "I"
    ("Yesterday I ..."); the flag says it was fronted, so a rewrite must carry it along."""
    for mention in mentions:
        if start <= mention.start < end:
            return mention, False
    for mention in reversed(mentions):
        if mention.end <= start and not re.search(r"\bI\b", text[mention.end : start]):
            return mention, True
    return None


def resolve_relative_dates(text: str, anchor: datetime) -> tuple[str, datetime | None]:
    """`text` with relative dates made absolute, and the first (main) event date, if any."""
    rewritten, mentions = rewrite_dates(text, anchor)
    return rewritten, (mentions[0].date if mentions else None)
