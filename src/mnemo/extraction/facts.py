"""Extraction result types, and the language rules that word facts uniformly and spot assertions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class ExtractedFact:
    """One durable statement about a speaker, ready to become a memory."""

    text: str  # standalone and normalised: the same fact said twice gives the same text
    memory_type: str  # "semantic" | "episodic" | "procedural"
    topics: tuple[str, ...]  # small lowercase tags, e.g. ("preferences", "food")
    entities: tuple[str, ...]  # proper names, places and organisations, as written
    importance: float  # 0..1
    event_date: datetime | None  # absolute date of an episodic fact
    slot: str | None  # same slot + different text: the newer fact supersedes the older
    source_message_ids: tuple[str, ...]


@dataclass(frozen=True)
class SourceMessage:
    """A conversation turn as the extractor sees it."""

    id: str
    role: str  # "user" | "assistant" | "system" | "tool" | or a speaker name
    content: str
    created_at: datetime  # timezone-aware
    speaker: str | None = None  # display name of the speaker ("Caroline"), when known


def words(text: str) -> frozenset[str]:
    """A vocabulary written as one whitespace-separated string."""
    return frozenset(text.split())


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_LOWER_FORMS = {"i": "I", "im": "I'm", "ive": "I've", "dont": "don't", "cant": "can't"}
_LOWER_WORD = re.compile(r"\b(?:i|im|ive|dont|cant)\b(?!\.)")
# Emphasis, not meaning: dropping it makes "I really love X" and "I love X" the same fact.
_FILLERS = re.compile(
    r"\b(?:really|actually|honestly|totally|absolutely|truly|definitely|originally|currently"
    r"|literally|seriously|basically|just|also|still|finally|(?<!from )now)\s+",
    re.IGNORECASE,
)
_PROPER = re.compile(
    r"(?:the )?(?!I\b)[A-Z][\w'&.-]*"
    r"(?:\s+(?:(?:de|del|da|di|la|le|am|upon|of|on)\s+)?(?!I\b)[A-Z][\w'&.-]*)*"
)
_LOWER_STOP = words(
    """a an the my our your his her their some this that for with at in on to from by near and but
    because since now today anymore too again already yet"""
)
_CUT = re.compile(
    r"\s+(?:because|since|but|although|though|when|whenever|while|which|as long as|so that|so"
    r"|if|unless|for|and I|and my|cause|cuz|especially|except)\b.*$",
    re.IGNORECASE,
)
TRAILERS = re.compile(
    r"(?:\s+(?:so much|a lot|very much|too|as well|now|these days|nowadays|lately|anymore"
    r"|haha|lol|tbh|btw|though|in general|right now|more than anything))+$",
    re.IGNORECASE,
)
_BAD_START = re.compile(
    r"^(?:it|that|this|them|you|your|him|her|those|these|when|how|what|where|why|who|if"
    r"|whether|the idea|the fact|to think|to say|being)\b",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_POSSESSIVES = (
    (re.compile(r"\bmyself\b", re.IGNORECASE), "themselves"),
    (re.compile(r"\bmine\b", re.IGNORECASE), "theirs"),
    (re.compile(r"\bmy\b", re.IGNORECASE), "their"),
    (re.compile(r"\bme\b", re.IGNORECASE), "them"),
    (re.compile(r"\bI'm\b"), "they're"),
    (re.compile(r"\bI\b"), "they"),
)
_AUX = {"'m": "is", "am": "is", "'ll": "will", "will": "will", "'ve": "has", "have": "has"}
_UNCHANGED = words(
    """was had did went got saw met ate took made told said left bought flew ran spent felt found
    gave heard lost paid slept spoke thought wrote came quit put set cut hit drove rode swam won
    began brought caught taught sold sent built kept held stood knew grew threw drew wore broke
    chose forgot fell sang drank sat became can could should would must might shall may"""
)
_INTERROGATIVE = re.compile(
    r"^\W*(?:(?:so|and|but|oh|hey|ok|okay|well|wait|hmm|also)\W+)*(?:do|does|did|am|is|are|was"
    r"|were|can|could|would|should|will|shall|what|where|who|whom|why|how|when|which)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|suppose|supposing|imagine|wish|would|could|might|maybe|perhaps|whether"
    r"|hypothetically|pretend|whenever|someday|dream|dreamt|dreamed)\b|'d\b",
    re.IGNORECASE,
)
# Reported or doubted speech: "she thinks I'm a nurse", "it's not true that I live in Paris".
_DOUBT = re.compile(
    r"\b(?:said|says|say|think|thinks|thought|believe|believes|told|tells|assume|assumes|guess"
    r"|heard|claim|claims|not|never)\b|n't\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(r"[,;:]|\s[-\u2013\u2014]\s")


def asserts(sentence: str, start: int) -> bool:
    """Whether the clause at `start` states something: not a question, hypothesis or hearsay."""
    before = sentence[:start]
    last_clause = CLAUSE_BREAK.search(sentence, start) is None
    return not (
        (last_clause and sentence.rstrip(" \"')").endswith("?"))
        or _INTERROGATIVE.match(sentence)
        or _HYPOTHETICAL.search(before)
        or _DOUBT.search(CLAUSE_BREAK.split(before)[-1])
    )


def prepare_text(text: str) -> str:
    """Typographic quotes, a lowercase "i" and filler words made uniform before matching."""
    text = _LOWER_WORD.sub(lambda m: _LOWER_FORMS[m.group(0)], text.translate(_QUOTES))
    return " ".join(_FILLERS.sub("", text).split())


def proper_noun(text: str, lowercase: bool = False, max_words: int = 5) -> str | None:
    """The name, place or organisation `text` starts with; `lowercase` accepts "berlin"."""
    text = text.strip()
    m = _PROPER.match(text)
    if m is not None:
        value = m.group(0).rstrip(".")
        return value if len(value.split()) <= max_words else None
    if not lowercase:
        return None
    words: list[str] = []
    for word in (w.strip(".!") for w in text.split()[:2]):  # no capitals: a short head, title-cased
        if word.lower() in _LOWER_STOP or not word.isalpha():
            break
        words.append(word.capitalize())
    return " ".join(words) or None


def proper_nouns(text: str, skip: set[str]) -> tuple[str, ...]:
    found = (m.group(0).removeprefix("the ").rstrip(".") for m in _PROPER.finditer(text))
    return tuple(dict.fromkeys(e for e in found if e not in skip))


def possessives(text: str) -> str:
    """The speaker's own words about themselves, in the third person ("my" -> "their")."""
    for pattern, replacement in _POSSESSIVES:
        text = pattern.sub(replacement, text)
    return text


def object_phrase(text: str) -> str | None:
    """A short object ("sushi", "hiking in the Alps"), cut before any subordinate clause."""
    text = _CUT.sub("", text.strip()).strip(" .!?\"'")
    text = TRAILERS.sub("", text).strip(" .!?\"'")
    if not text or _BAD_START.match(text) or _ISO_DATE.search(text):
        return None
    return possessives(text) if len(text.split()) <= 6 else None


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _conjugate(verb: str) -> str:
    low = verb.lower()
    if low in _UNCHANGED or low.endswith("ed"):
        return verb
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and low[-2:-1] not in ("a", "e", "i", "o", "u"):
        return verb[:-1] + "ies"
    return verb + "s"


def third_person(clause: str, subject: str) -> str:
    """ "I'm flying to Rome with my wife" -> "User is flying to Rome with their wife"."""
    m = re.match(r"I(?:(?P<short>'m|'ll|'ve)|\s+(?P<verb>\w+))", clause)
    if m is None:
        return f"{subject} {possessives(clause)}"
    verb = m.group("short") or m.group("verb")
    head = _AUX.get(verb.lower()) or _conjugate(verb)
    return f"{subject} {head}{possessives(clause[m.end() :])}"


def merge_facts(facts: Sequence[ExtractedFact]) -> list[ExtractedFact]:
    """One fact per (text, slot), placed at its latest mention, citing every source."""
    merged: dict[tuple[str, str | None], ExtractedFact] = {}
    for fact in facts:
        key = (fact.text.casefold(), fact.slot)
        old = merged.pop(key, None)  # re-inserting moves a repeated fact to its newest position
        if old is not None:
            sources = tuple(dict.fromkeys(old.source_message_ids + fact.source_message_ids))
            importance = max(old.importance, fact.importance)
            fact = replace(fact, source_message_ids=sources, importance=importance)
        merged[key] = fact
    return list(merged.values())
