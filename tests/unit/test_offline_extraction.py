"""Offline fact extraction: the labelled 40-turn fixture, then pattern and negative tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mnemo.extraction.facts import ExtractedFact, SourceMessage
from mnemo.extraction.offline import extract_facts

FIXTURE = Path(__file__).parent.parent / "fixtures" / "conversation_40.json"
ANCHOR = datetime(2024, 3, 15, 18, 30, tzinfo=UTC)  # a Friday


def _norm(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!")


def _say(text: str, role: str = "user", speaker: str | None = None) -> list[ExtractedFact]:
    return extract_facts([SourceMessage("m1", role, text, ANCHOR, speaker)])


def _texts(text: str, role: str = "user", speaker: str | None = None) -> list[str]:
    return [f.text for f in _say(text, role, speaker)]


@pytest.fixture(scope="module")
def conversation() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


@pytest.fixture(scope="module")
def extracted(conversation: dict[str, Any]) -> list[ExtractedFact]:
    messages = [
        SourceMessage(m["id"], m["role"], m["content"], datetime.fromisoformat(m["created_at"]))
        for m in conversation["messages"]
    ]
    return extract_facts(messages)


# ---- the labelled conversation -----------------------------------------------------------------


def test_fixture_shape(conversation: dict[str, Any]) -> None:
    messages = conversation["messages"]
    assert len(messages) == 40
    assert len({m["session"] for m in messages}) == 3
    assert {m["role"] for m in messages} == {"user", "assistant"}


def test_fixture_precision_and_recall(
    conversation: dict[str, Any], extracted: list[ExtractedFact]
) -> None:
    predicted = {_norm(f.text) for f in extracted}
    gold = {_norm(label["text"]) for label in conversation["labels"]["facts"]}
    hits = predicted & gold
    precision, recall = len(hits) / len(predicted), len(hits) / len(gold)
    assert precision >= 0.9, f"false positives: {sorted(predicted - gold)}"
    assert recall >= 0.8, f"missed: {sorted(gold - predicted)}"


def test_fixture_slots_types_and_sources_match_labels(
    conversation: dict[str, Any], extracted: list[ExtractedFact]
) -> None:
    by_text = {_norm(f.text): f for f in extracted}
    for label in conversation["labels"]["facts"]:
        fact = by_text.get(_norm(label["text"]))
        if fact is None:
            continue  # a miss is counted by the recall test
        assert fact.slot == label["slot"], label["text"]
        assert fact.memory_type == label["memory_type"], label["text"]
        assert set(fact.source_message_ids) == set(label["source_ids"]), label["text"]
        if "event_date" in label:
            assert fact.event_date is not None
            assert fact.event_date.date().isoformat() == label["event_date"]


def test_fixture_newer_fact_supersedes_older_in_same_slot(
    conversation: dict[str, Any], extracted: list[ExtractedFact]
) -> None:
    position = {_norm(f.text): i for i, f in enumerate(extracted)}
    slot_of = {_norm(f.text): f.slot for f in extracted}
    for old, new in conversation["labels"]["superseded_pairs"]:
        assert slot_of[_norm(old)] is not None
        assert slot_of[_norm(old)] == slot_of[_norm(new)], (old, new)
        assert position[_norm(old)] < position[_norm(new)], (old, new)


def test_fixture_current_value_is_last_fact_per_slot(
    conversation: dict[str, Any], extracted: list[ExtractedFact]
) -> None:
    current: dict[str, str] = {}
    for fact in extracted:
        if fact.slot:
            current[fact.slot] = fact.text
    assert current == conversation["labels"]["current_values"]


def test_repeated_statements_merge_into_one_fact(extracted: list[ExtractedFact]) -> None:
    sushi = [f for f in extracted if f.text == "User loves sushi"]
    assert len(sushi) == 1
    assert sushi[0].source_message_ids == ("m21", "m25", "m39")


def test_extraction_is_deterministic(conversation: dict[str, Any]) -> None:
    messages = [
        SourceMessage(m["id"], m["role"], m["content"], datetime.fromisoformat(m["created_at"]))
        for m in conversation["messages"]
    ]
    assert extract_facts(messages) == extract_facts(list(messages))


# ---- patterns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "text", "slot", "kind"),
    [
        ("I am a nurse", "User is a nurse", "user:job_title", "semantic"),
        ("I'm 34", "User is 34 years old", "user:age", "semantic"),
        ("I just turned 35!", "User is 35 years old", "user:age", "semantic"),
        ("my name is Sam", "User's name is Sam", "user:name", "semantic"),
        ("Hi, I'm Sam.", "User's name is Sam", "user:name", "semantic"),
        ("I love sushi", "User loves sushi", None, "semantic"),
        ("I like hiking in the Alps", "User likes hiking in the Alps", None, "semantic"),
        ("I hate cilantro", "User hates cilantro", None, "semantic"),
        ("I can't stand loud music", "User hates loud music", None, "semantic"),
        ("I'm not a fan of horror movies", "User dislikes horror movies", None, "semantic"),
        ("I prefer Vim", "User prefers Vim", "user:preference:editor", "semantic"),
        ("I switched to Neovim", "User prefers Neovim", "user:preference:editor", "semantic"),
        (
            "My favorite color is blue",
            "User's favourite color is blue",
            "user:preference:color",
            "semantic",
        ),
        ("I live in Berlin", "User lives in Berlin", "user:location", "semantic"),
        ("I moved to New York last year", "User lives in New York", "user:location", "semantic"),
        (
            "I've been living in Tokyo for two years",
            "User lives in Tokyo",
            "user:location",
            "semantic",
        ),
        ("I'm originally from Lyon, France.", "User is from Lyon", "user:origin", "semantic"),
        ("I was born in Lagos", "User is from Lagos", "user:origin", "semantic"),
        (
            "I work for the Ministry of Health",
            "User works at the Ministry of Health",
            "user:employer",
            "semantic",
        ),
        ("I got a job at Microsoft", "User works at Microsoft", "user:employer", "semantic"),
        ("I started at Shopify", "User works at Shopify", "user:employer", "semantic"),
        ("I quit Netflix", "User no longer works at Netflix", "user:employer", "semantic"),
        ("I no longer work at IBM", "User no longer works at IBM", "user:employer", "semantic"),
        ("my wife Anna is great", "User's wife is Anna", "user:partner", "semantic"),
        ("My dog Rex loves walks", "User has a dog named Rex", None, "semantic"),
        ("I have a cat named Luna", "User has a cat named Luna", None, "semantic"),
        ("I have two kids", "User has two kids", None, "semantic"),
        ("I'm married", "User is married", "user:relationship_status", "semantic"),
        ("I'm allergic to shellfish", "User is allergic to shellfish", None, "semantic"),
        ("I have a severe peanut allergy", "User is allergic to peanut", None, "semantic"),
        ("I have asthma", "User has asthma", None, "semantic"),
        ("I'm lactose intolerant", "User is lactose intolerant", None, "semantic"),
        ("I'm vegan", "User is vegan", "user:diet", "semantic"),
        ("I don't eat pork", "User does not eat pork", None, "semantic"),
        (
            "always answer in French",
            "Always answer in French",
            "user:instruction:language",
            "procedural",
        ),
        ("please don't use emojis", "Do not use emojis", "user:instruction:emojis", "procedural"),
        (
            "From now on, reply in Spanish.",
            "Reply in Spanish",
            "user:instruction:language",
            "procedural",
        ),
        ("call me Sam", "Call the user Sam", "user:instruction:address", "procedural"),
        (
            "I'm flying to Rome next Friday",
            "User is flying to Rome on 2024-03-22",
            None,
            "episodic",
        ),
        (
            "Yesterday I ran my first marathon.",
            "User ran their first marathon on 2024-03-14",
            None,
            "episodic",
        ),
    ],
)
def test_pattern(said: str, text: str, slot: str | None, kind: str) -> None:
    facts = {f.text: f for f in _say(said)}
    assert text in facts, f"{said!r} gave {list(facts)}"
    assert facts[text].slot == slot
    assert facts[text].memory_type == kind


def test_job_and_employer_from_one_clause() -> None:
    assert _texts("I'm a software engineer at Stripe") == [
        "User is a software engineer",
        "User works at Stripe",
    ]


def test_several_instructions_in_one_sentence() -> None:
    assert _texts("Keep your answers short and always use metric units.") == [
        "Keep your answers short",
        "Always use metric units",
    ]


@pytest.mark.parametrize(
    "said",
    ["I love sushi", "i really love sushi!!", "I absolutely LOVE sushi.", "I love sushi so much"],
)
def test_repeated_phrasings_normalise_to_one_text(said: str) -> None:
    assert [t.casefold() for t in _texts(said)] == ["user loves sushi"]


def test_episodic_fact_carries_resolved_date() -> None:
    (fact,) = _say("I'm flying to Rome next Friday for a wedding")
    assert fact.event_date == datetime(2024, 3, 22, tzinfo=UTC)
    assert fact.memory_type == "episodic"
    assert "plans" in fact.topics
    assert fact.entities == ("Rome",)


def test_named_speaker_becomes_subject_and_slot_prefix() -> None:
    facts = _say("I live in Berlin. Call me Caro.", speaker="Caroline")
    assert [(f.text, f.slot) for f in facts] == [
        ("Caroline lives in Berlin", "caroline:location"),
        ("Call Caroline Caro", "caroline:instruction:address"),
    ]
    assert _texts("I'm a teacher.", role="Melanie") == ["Melanie is a teacher"]


def test_importance_follows_kind_of_fact() -> None:
    importance = {f.text: f.importance for f in _say("I'm allergic to peanuts and I love jazz.")}
    assert importance == {"User is allergic to peanuts": 0.9, "User loves jazz": 0.6}
    (plan,) = _say("I'm flying to Rome next Friday")
    assert plan.importance == 0.5


def test_repeat_moves_fact_to_latest_position() -> None:
    stamp = ANCHOR
    messages = [
        SourceMessage("a", "user", "I prefer Vim.", stamp),
        SourceMessage("b", "user", "I prefer Emacs.", stamp),
        SourceMessage("c", "user", "I prefer Vim again.", stamp),
    ]
    facts = extract_facts(messages)
    assert [(f.text, f.source_message_ids) for f in facts] == [
        ("User prefers Emacs", ("b",)),
        ("User prefers Vim", ("a", "c")),
    ]


# ---- what must not become a user fact ----------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "do I like sushi?",
        "Do you think I live in Paris?",
        "Can you remind me, do I like VS Code or Vim more?",
        "Should I move to Berlin next month?",
        "What if I quit Acme?",
        "I love sushi? Not really.",
        "If I lived in Tokyo I would love sushi.",
        "If I move to Berlin, I'll buy a bike.",
        "I would love to visit Rome.",
        "I'd love to live in Lisbon",
        "I wish I worked at Google",
        "Maybe I'm allergic to cats",
        "I think I'm allergic to cats",
        "He said I'm a nurse.",
        "You told me I live in Paris.",
        "I don't live in Paris.",
        "I'm not a nurse.",
        "I never moved to Berlin.",
        "It's not true that I work at Acme.",
        "I'm not going to Rome next week.",
        "I don't like it when people are late.",
        "When I was a kid I lived in Rome.",
        "I love you",
        "I'm tired",
        "I'm a big believer in testing",
        "I'm a terrible cook",
        "I'm 5 minutes away.",
        "I live in a small flat",
        "I'm from the marketing team.",
        "Write a poem about cats.",
        "Please help me with my code.",
        "Please use Python for this.",
        "Don't forget to drink water.",
    ],
)
def test_no_fact_from(said: str) -> None:
    assert _say(said) == []


@pytest.mark.parametrize(
    "said",
    ["My sister lives in Rome.", "My friend loves sushi.", "She works at Google."],
)
def test_other_people_are_not_the_user(said: str) -> None:
    assert _say(said) == []


@pytest.mark.parametrize("role", ["assistant", "system", "tool"])
def test_non_human_turns_are_skipped(role: str) -> None:
    said = "I love sushi and I live in Paris. I'm a nurse. Always answer in French."
    assert _say(said, role=role) == []


def test_sister_with_a_name_is_about_the_sister() -> None:
    assert _texts("My sister Lena lives in Munich.") == [
        "User has a sister named Lena",
        "User's sister Lena lives in Munich",
    ]
