"""Deterministic fact extraction from conversation turns: a table of regex rules, no LLM."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mnemo.extraction import slots
from mnemo.extraction.dates import MONTHS, WEEKDAYS, DateMention, governing_date, rewrite_dates
from mnemo.extraction.facts import (
    TRAILERS,
    ExtractedFact,
    SourceMessage,
    article,
    asserts,
    merge_facts,
    object_phrase,
    prepare_text,
    proper_noun,
    proper_nouns,
    third_person,
    words,
)
from mnemo.extraction.summarize import split_sentences

_NOT_HUMAN = words("assistant system tool function developer ai bot model")
_CALENDAR = frozenset(w.capitalize() for w in (*MONTHS, *WEEKDAYS))
_CLAUSE_END = re.compile(r"[,;:!?]|\s[-\u2013\u2014]\s|\s+but\s|\s+and\s+(?=I\b)")
_NEGATION = re.compile(r"\b(?:not|never|no longer)\b|n't\b", re.IGNORECASE)
_TRAVEL = re.compile(r"\b(?:fly|flying|flight|trip|travel\w*|visit\w*|vacation|holiday)\b", re.I)


@dataclass(frozen=True)
class _Context:
    """One sentence of one human turn, with its dates already made absolute."""

    subject: str  # who "I" is: "User", or the speaker's name
    message: SourceMessage
    sentence: str
    dates: tuple[DateMention, ...]
    lowercase: bool  # the speaker types without capitals, so names come in lowercase

    @property
    def addressee(self) -> str:
        return "the user" if self.subject == "User" else self.subject

    def slot(self, *parts: str) -> str:
        return slots.slot(self.subject, *parts)

    def proper(self, text: str, max_words: int = 5) -> str | None:
        return proper_noun(text, self.lowercase, max_words)

    def name(self, text: str) -> str | None:
        name = self.proper(text, max_words=3)
        return None if name is None or name.split()[0] in slots.NOT_NAMES else name

    def entities(self, text: str) -> tuple[str, ...]:
        return proper_nouns(text, {self.subject, "User", *_CALENDAR})

    def fact(
        self,
        text: str,
        topics: tuple[str, ...],
        importance: float,
        slot: str | None = None,
        *,
        kind: str = "semantic",
        entities: tuple[str, ...] = (),
        when: datetime | None = None,
    ) -> ExtractedFact:
        text = " ".join(text.split())
        ids = (self.message.id,)
        return ExtractedFact(text, kind, topics, entities, importance, when, slot, ids)


Builder = Callable[[re.Match[str], _Context], list[ExtractedFact]]
Reader = Callable[[_Context, str], str | None]


# ---- value readers, and rules that turn one captured value into one fact -----------------------


def _age(_ctx: _Context, text: str) -> str | None:
    return text if 0 < int(text) < 120 else None


def _lower_phrase(_ctx: _Context, text: str) -> str | None:
    phrase = object_phrase(text)
    return phrase.lower() if phrase else None


def _word(_ctx: _Context, text: str) -> str | None:
    word = text.lower()
    return "pescatarian" if word == "pescetarian" else word


def _condition(_ctx: _Context, text: str) -> str | None:
    words = text.lower().strip(" .!").split()[:3]
    for i, word in enumerate(words):
        if word in slots.CONDITIONS:
            return " ".join(words[: i + 1])
    return None


def _simple(
    template: str,
    read: Reader,
    slot: str | None,
    topics: tuple[str, ...],
    importance: float,
    proper: bool = False,
) -> Builder:
    """A rule whose "x" group, read and checked by `read`, fills `template` ("{s}" = speaker)."""

    def build(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
        value = read(ctx, m.group("x"))
        if value is None:
            return []
        text = template.format(s=ctx.subject, x=value)
        entities = (value,) if proper else ()
        return [ctx.fact(text, topics, importance, slot and ctx.slot(slot), entities=entities)]

    return build


_NAME = _simple("{s}'s name is {x}", _Context.name, "name", ("identity",), 0.9, proper=True)
_AGE = _simple("{s} is {x} years old", _age, "age", ("identity",), 0.8)
_LIVES = _simple("{s} lives in {x}", _Context.proper, "location", ("location",), 0.7, proper=True)
_LEFT_PLACE = _simple("{s} no longer lives in {x}", _Context.proper, "location", ("location",), 0.6)
_ORIGIN = _simple("{s} is from {x}", _Context.proper, "origin", ("location",), 0.6, proper=True)
_WORKS = _simple("{s} works at {x}", _Context.proper, "employer", ("work",), 0.8, proper=True)
_LEFT_JOB = _simple("{s} no longer works at {x}", _Context.proper, "employer", ("work",), 0.7, True)
_ALLERGY = _simple("{s} is allergic to {x}", _lower_phrase, None, ("health", "allergies"), 0.9)
_ALLERGEN = _simple("{s} is allergic to {x}", _word, None, ("health", "allergies"), 0.9)
_INTOLERANT = _simple("{s} is {x} intolerant", _word, None, ("health", "diet"), 0.9)
_CONDITION = _simple("{s} has {x}", _condition, None, ("health",), 0.9)
_HEALTH = _simple("{s} is {x}", _word, None, ("health",), 0.9)
_DIET = _simple("{s} is {x}", _word, "diet", ("diet", "food"), 0.7)
_AVOIDS = _simple("{s} does not eat {x}", _lower_phrase, None, ("diet", "food"), 0.6)
_STATUS = _simple("{s} is {x}", _word, "relationship_status", ("relationships",), 0.7)


# ---- rules that need more than one value -------------------------------------------------------


def _job(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    found = slots.job_title(m.group("x"))
    if found is None:
        return []
    title, rest = found
    text = f"{ctx.subject} is {article(title)} {title}"
    facts = [ctx.fact(text, ("work",), 0.8, ctx.slot("job_title"))]
    at = re.match(r"(?:at|for|with) (?P<x>.+)", rest, re.IGNORECASE)
    if at and title != "student":  # a student "at" a school does not work there
        facts += _WORKS(at, ctx)
    return facts


def _preference(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    verb = slots.feeling(m.group("verb"))
    item = slots.known_item(m.group("x")) if verb == "prefers" else None
    thing = item or object_phrase(m.group("x"))
    if thing is None:
        return []
    category = slots.preference_category(item) if item else None
    topics = ("preferences", category) if category else ("preferences",)
    slot = slots.preference_slot(ctx.subject, item) if item else None
    text = f"{ctx.subject} {verb} {thing}"
    return [ctx.fact(text, topics, 0.6, slot, entities=ctx.entities(thing))]


def _switch(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    item = slots.known_item(m.group("x"))
    if item is None:  # "switched to a new team" states no preference; known either/or only
        return []
    topics = ("preferences", slots.preference_category(item) or "other")
    slot = slots.preference_slot(ctx.subject, item)
    return [ctx.fact(f"{ctx.subject} prefers {item}", topics, 0.6, slot, entities=(item,))]


def _favourite(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    thing = object_phrase(m.group("x"))
    if thing is None:
        return []
    category = " ".join(m.group("cat").lower().split())
    text = f"{ctx.subject}'s favourite {category} is {thing}"
    slot = slots.favourite_slot(ctx.subject, category)
    return [ctx.fact(text, ("preferences",), 0.6, slot, entities=ctx.entities(thing))]


def _relation_fact(rel: str, name: str, ctx: _Context) -> ExtractedFact:
    if rel in slots.PARTNERS:
        text = f"{ctx.subject}'s {rel} is {name}"
        return ctx.fact(text, ("relationships",), 0.7, ctx.slot("partner"), entities=(name,))
    if rel in slots.UNIQUE_RELATIVES:
        role = slots.UNIQUE_RELATIVES[rel]
        text = f"{ctx.subject}'s {role} is {name}"
        return ctx.fact(text, ("family",), 0.6, ctx.slot("relation", role), entities=(name,))
    topics = ("pets",) if rel in slots.PETS else ("family",)
    text = f"{ctx.subject} has {article(rel)} {rel} named {name}"
    return ctx.fact(text, topics, 0.6, entities=(name,))


def _relation(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    name = ctx.name(m.group("x"))
    if name is None:
        return []
    rel = m.group("rel").lower()
    facts = [_relation_fact(rel, name, ctx)]
    lives = re.match(r"\s*lives in (?P<x>.+)", m.group("x").strip()[len(name) :], re.I)
    place = ctx.proper(lives.group("x")) if lives else None
    if place:  # about the relative, not the speaker: said of the relative by name
        text = f"{ctx.subject}'s {rel} {name} lives in {place}"
        facts.append(ctx.fact(text, ("family",), 0.5, entities=(name, place)))
    return facts


def _have(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    rel, count, plural = m.group("rel").lower(), m.group("n").lower(), m.group("pl") or ""
    name = ctx.name(m.group("x")) if m.group("x") else None
    if name and not plural:
        return [_relation_fact(rel, name, ctx)]
    count = article(rel) if count in ("a", "an") else count
    topics = ("pets",) if rel in slots.PETS else ("family",)
    return [ctx.fact(f"{ctx.subject} has {count} {rel}{plural}", topics, 0.5)]


def _order(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    facts = []
    for text in slots.orders(m.group("x"), ctx.addressee):
        slot = slots.instruction_slot(ctx.subject, text)
        facts.append(ctx.fact(text, ("instructions",), 0.8, slot, kind="procedural"))
    return facts


def _address(m: re.Match[str], ctx: _Context) -> list[ExtractedFact]:
    name = ctx.name(m.group("x"))
    if name is None:
        return []
    slot = ctx.slot("instruction", "address")
    text = f"Call {ctx.addressee} {name}"
    return [ctx.fact(text, ("instructions",), 0.8, slot, kind="procedural", entities=(name,))]


# ---- the rule table ----------------------------------------------------------------------------

# Shorthands keep each rule on one line: @X is the captured value, up to the clause's end.
_TOKENS = {
    "@X": r"(?P<x>[^,;:!?()]+)",
    "@IAM": r"\bI(?:'m| am)",
    "@IHAVE": r"\bI(?: have|'ve)?",
    "@REL": "|".join(slots.RELATION_WORDS),
    "@DIET": "(?P<x>" + "|".join(sorted(slots.DIETS)) + r")(?![\w-])",
    "@STATUS": "(?P<x>" + "|".join(sorted(slots.RELATIONSHIP_STATUSES)) + r")(?![\w-])",
    "@JOB": r"(?:a |an |the )?(?:new )?(?:job|position|role)",
    "@ANYMORE": r"(?=[^,;:!?]*\bany ?more\b)",
}


def _rule(pattern: str, build: Builder) -> tuple[re.Pattern[str], Builder]:
    for token, expansion in _TOKENS.items():
        pattern = pattern.replace(token, expansion)
    return re.compile(pattern, re.IGNORECASE), build


_RULES: tuple[tuple[re.Pattern[str], Builder], ...] = (
    _rule(r"\bmy name(?: is|'s) @X", _NAME),
    _rule(r"@IAM called @X", _NAME),
    _rule(r"^(?:hi|hello|hey)\W+(?:there\W+|all\W+)?I(?:'m| am) @X", _NAME),
    _rule(
        r"@IAM (?P<x>\d{1,3})(?: years? old| y/?o)?(?=\s*(?:[,.!;]|$|(?:and|but|so|now)\b))", _AGE
    ),
    _rule(r"@IHAVE turned (?P<x>\d{1,3})\b", _AGE),
    _rule(
        r"\bI(?: live| reside|'m living| am living|'ve been living|'m based| am based) in @X",
        _LIVES,
    ),
    _rule(r"@IHAVE (?:moved|relocated)(?: back)? to @X", _LIVES),
    _rule(r"\bI (?:no longer live in |(?:don't|do not) live in @ANYMORE)@X", _LEFT_PLACE),
    _rule(r"\bI(?:'m| am| come) from @X", _ORIGIN),
    _rule(r"\bI was born (?:and raised )?in @X", _ORIGIN),
    _rule(r"\bI(?: work|'m working| am working) (?:at|for) @X", _WORKS),
    _rule(r"@IHAVE (?:got|landed|accepted|took|started) @JOB (?:at|with) @X", _WORKS),
    _rule(r"@IHAVE (?:joined|started (?:working )?(?:at|with|for)) @X", _WORKS),
    _rule(r"@IHAVE (?:quit|resigned from|left|(?:got|was) (?:laid off|fired) from) @X", _LEFT_JOB),
    _rule(r"@IHAVE (?:quit|left) my (?:job|position|role) (?:at|with) @X", _LEFT_JOB),
    _rule(
        r"\bI (?:no longer work (?:at|for) |(?:don't|do not) work (?:at|for) @ANYMORE)@X", _LEFT_JOB
    ),
    _rule(r"@IAM (?:now )?an? @X", _job),
    _rule(r"\bI work as an? @X", _job),
    _rule(r"@IHAVE (?:got|landed|accepted|took|started|joined)\b[^,;:!?]*? as an? @X", _job),
    _rule(r"@IAM(?: severely| very| deathly| highly| mildly)? allergic to @X", _ALLERGY),
    _rule(
        r"\bI have (?:an? )?(?:severe |mild )?(?!(?:bad|seasonal|food|some) )(?P<x>[a-z]+)"
        r" allerg(?:y|ies)\b",
        _ALLERGEN,
    ),
    _rule(r"@IAM (?P<x>lactose|gluten|fructose|histamine) intolerant\b", _INTOLERANT),
    _rule(r"\bI (?:have|suffer from|(?:was|got) diagnosed with|live with) @X", _CONDITION),
    _rule(r"@IAM (?P<x>diabetic|epileptic|asthmatic|celiac|coeliac|pregnant)(?![\w-])", _HEALTH),
    _rule(r"\bI(?:'m| am|'ve gone| have gone| went| became)(?: an?)? @DIET", _DIET),
    _rule(r"\bI (?:don't|do not|no longer|never) eat @X", _AVOIDS),
    _rule(r"\bI(?:'m| am| got)(?: recently)? @STATUS", _STATUS),
    _rule(
        r"\bmy (?:(?:little|older|younger|big|baby|twin|new|late) )?(?P<rel>@REL)"
        r"(?:'s name is |,\s*| is called | named | called | )@X",
        _relation,
    ),
    _rule(
        r"\bI have (?P<n>an?|one|two|three|four|five|\d) (?P<rel>@REL|kid|child)(?P<pl>s|ren)?\b"
        r"(?: (?:named|called) @X)?",
        _have,
    ),
    _rule(r"\bI" + slots.FEELINGS + " @X", _preference),
    _rule(r"@IHAVE (?:switched|migrated|changed)(?: over)?(?: from [^,;:!?]+?)? to @X", _switch),
    _rule(
        r"\bmy (?:all[- ]time )?favou?rite (?P<cat>[a-z]+(?: [a-z]+)?) (?:is|are) @X", _favourite
    ),
    (slots.CALL_ME, _address),
    (slots.STANDING_ORDER, _order),
    (slots.AFTER_FROM_NOW_ON, _order),
)


# ---- dated first-person clauses become episodic facts ------------------------------------------


def _episode(ctx: _Context, start: int) -> ExtractedFact | None:
    stop = _CLAUSE_END.search(ctx.sentence, start)
    end = stop.start() if stop else len(ctx.sentence)
    clause = TRAILERS.sub("", ctx.sentence[start:end].rstrip(" .")).rstrip(" .")
    dated = governing_date(ctx.sentence, ctx.dates, start, end)
    if dated is None or _NEGATION.search(clause) or len(clause.split()) < 3:
        return None
    date, fronted = dated
    text = third_person(clause, ctx.subject)
    if fronted:
        text += f" {date.replacement[0].lower()}{date.replacement[1:]}"
    future = date.date.date() >= ctx.message.created_at.date()
    topics = ("plans" if future else "events", *(["travel"] if _TRAVEL.search(clause) else []))
    entities = ctx.entities(clause[1:])  # past the sentence-initial "I"
    return ctx.fact(
        text, topics, 0.5 if future else 0.3, kind="episodic", entities=entities, when=date.date
    )


# ---- the pipeline ------------------------------------------------------------------------------


def _sentence_facts(ctx: _Context) -> list[ExtractedFact]:
    facts: list[ExtractedFact] = []
    claimed: set[int] = set()
    for pattern, build in _RULES:
        for m in pattern.finditer(ctx.sentence):
            found = build(m, ctx) if asserts(ctx.sentence, m.start()) else []
            if found:
                claimed.add(m.start())
                facts += found
    for m in re.finditer(r"\bI\b(?!'d)", ctx.sentence):
        # A clause a semantic rule already read ("I quit Acme last week") is not also an event.
        if m.start() not in claimed and asserts(ctx.sentence, m.start()):
            episode = _episode(ctx, m.start())
            facts += [episode] if episode else []
    return facts


def _subject(message: SourceMessage) -> str | None:
    """Who "I" is in this turn, or None for turns that are not a human speaking."""
    role = message.role.strip()
    if role.lower() in _NOT_HUMAN:
        return None
    if message.speaker:
        return message.speaker.strip()
    return "User" if role.lower() in ("user", "human", "") else role


def _message_facts(message: SourceMessage) -> list[ExtractedFact]:
    subject = _subject(message)
    if subject is None:
        return []
    lowercase = not any(c.isupper() for c in message.content)
    facts: list[ExtractedFact] = []
    for raw in split_sentences(prepare_text(message.content)):
        sentence, dates = rewrite_dates(raw, message.created_at)
        facts += _sentence_facts(_Context(subject, message, sentence, dates, lowercase))
    return facts


def extract_facts(messages: Sequence[SourceMessage]) -> list[ExtractedFact]:
    """Facts stated by the human speakers, deduplicated, ordered by their latest mention.

    Within a slot, a later fact in the list supersedes an earlier one with different text.
    """
    return merge_facts([fact for message in messages for fact in _message_facts(message)])
