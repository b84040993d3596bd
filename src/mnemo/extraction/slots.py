"""Slot keys: which facts and standing orders replace each other, and the words that decide it."""

from __future__ import annotations

import re

from mnemo.extraction.facts import words

# Things people use one of at a time; preferring a new one replaces the old preference.
# Keys are lowercase, as compared; values are the category that becomes the slot.
PREFERENCE_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(
        ["vim", "neovim", "nvim", "emacs", "vs code", "vscode", "visual studio code", "sublime",
         "sublime text", "intellij", "pycharm", "webstorm", "nano", "atom", "helix", "zed",
         "notepad++", "cursor", "xcode", "eclipse"],
        "editor",
    ),
    **dict.fromkeys(
        ["linux", "macos", "mac os", "windows", "ubuntu", "fedora", "arch linux", "debian"],
        "os",
    ),
    **dict.fromkeys(["chrome", "firefox", "safari", "edge", "brave", "opera", "arc"], "browser"),
    **dict.fromkeys(["bash", "zsh", "fish shell", "powershell"], "shell"),
    **dict.fromkeys(["iphone", "android", "pixel"], "phone"),
    **dict.fromkeys(["tea", "coffee"], "hot_drink"),
    **dict.fromkeys(["tabs", "spaces"], "indentation"),
    **dict.fromkeys(["light mode", "dark mode"], "theme"),
}  # fmt: skip

# Longest first, so "sublime text" is found before "sublime".
KNOWN_ITEMS = tuple(sorted(PREFERENCE_CATEGORIES, key=len, reverse=True))

DIETS = words(
    "vegan vegetarian pescatarian pescetarian flexitarian carnivore keto paleo kosher halal"
)
RELATIONSHIP_STATUSES = words("married single divorced engaged widowed separated")
# One of each at a time, so a newer name for the role supersedes the older one.
PARTNERS = words("wife husband partner girlfriend boyfriend fiance fiancé fiancee fiancée spouse")
UNIQUE_RELATIVES = {"mom": "mother", "mum": "mother", "dad": "father"} | {
    role: role for role in ("mother", "father")
}
RELATIVES = words(
    """sister brother son daughter cousin aunt uncle grandma grandmother grandpa grandfather
    niece nephew stepson stepdaughter stepsister stepbrother"""
)
PETS = words("dog cat puppy kitten parrot rabbit bunny hamster horse turtle tortoise bird snake")
# Head nouns that make "I'm a <...>" a job title, not a trait ("a big fan", "a morning person").
OCCUPATIONS = words(
    """engineer developer programmer designer architect scientist analyst manager director
    consultant nurse doctor physician surgeon dentist pharmacist teacher professor lecturer
    researcher student lawyer attorney accountant writer journalist author artist musician
    photographer chef baker barista waiter waitress electrician plumber carpenter mechanic pilot
    firefighter paramedic therapist psychologist counselor counsellor veterinarian vet farmer
    founder ceo cto cfo entrepreneur freelancer intern librarian recruiter translator actor
    actress dancer economist mathematician physicist chemist biologist technician administrator
    sysadmin secretary cashier clerk banker broker officer tester marketer editor
    illustrator animator producer"""
)
# Adjectives that make "I'm a terrible cook" an opinion, not an occupation.
JUDGEMENTS = words(
    "good bad great terrible awful decent lousy big huge amazing better worse poor horrible"
)
CONDITIONS = words(
    """asthma diabetes epilepsy migraines adhd autism depression anxiety hypertension arthritis
    eczema psoriasis insomnia celiac coeliac ibs crohn's lupus"""
)
LANGUAGES = words(
    """english french german spanish italian portuguese dutch polish russian ukrainian chinese
    mandarin japanese korean arabic hindi turkish swedish norwegian danish finnish greek
    hebrew czech"""
)

# How a stated attitude is worded in a fact, so "adore" and "love" read the same.
PREFERENCE_VERBS = {
    "love": "loves", "adore": "loves", "like": "likes", "enjoy": "enjoys", "prefer": "prefers",
    "hate": "hates", "detest": "hates", "despise": "hates", "loathe": "hates",
    "can't stand": "hates", "cannot stand": "hates", "dislike": "dislikes",
    "don't like": "dislikes", "do not like": "dislikes",
}  # fmt: skip
# Capitalised words that follow "I'm" without being a name ("Hi, I'm Sorry" is not a Sorry).
NOT_NAMES = words("Sorry Fine Good Back Done Ready Here Home Okay Ok Sure Glad Not So")


# ---- reading vocabulary out of captured text ----------------------------------------------------

RELATION_WORDS = tuple(sorted(PARTNERS | UNIQUE_RELATIVES.keys() | RELATIVES | PETS, key=len))[::-1]
FEELINGS = (
    r"(?P<verb> love| adore| like| enjoy| prefer| hate| detest| despise| loathe| dislike"
    r"| can't stand| cannot stand| don't like| do not like|(?:'m| am) obsessed with"
    r"|(?:'m| am)(?: not)? (?:a )?(?:big |huge )?fan of)"
)


def feeling(raw: str) -> str:
    """The verb a fact uses for a stated attitude: " can't stand" -> "hates"."""
    verb = " ".join(raw.lower().split())
    if "fan of" in verb:
        return "dislikes" if " not " in f" {verb} " else "likes"
    return "loves" if "obsessed" in verb else PREFERENCE_VERBS[verb]


def known_item(text: str) -> str | None:
    """The either/or item `text` starts with, as written ("VS Code" from "VS Code for Python")."""
    text = " ".join(text.split()).rstrip(" .!?\"'")
    low = text.lower()
    for item in KNOWN_ITEMS:
        if low == item or low.startswith(item + " "):
            return text[: len(item)]
    return None


def job_title(text: str) -> tuple[str, str] | None:
    """("senior data engineer", "at Globex") from "senior data engineer at Globex"."""
    found = text.strip(" .!").split()
    for i, word in enumerate(found[:5]):
        if word.lower() in OCCUPATIONS:
            head = found[: i + 1]
            if any(w.lower() in JUDGEMENTS or not w.isalpha() for w in head):
                return None
            title = " ".join(w if w.isupper() and len(w) <= 4 else w.lower() for w in head)
            return title, " ".join(found[i + 1 :])
    return None


# ---- slot keys ----------------------------------------------------------------------------------


def subject_key(subject: str) -> str:
    """The slot prefix for a speaker: "User" -> "user", "Mary Ann" -> "mary_ann"."""
    return "_".join(subject.lower().split())


def slot(subject: str, *parts: str) -> str:
    return ":".join([subject_key(subject), *parts])


def preference_category(thing: str) -> str | None:
    """The either/or category of a preferred thing, if it has one ("Vim" -> "editor")."""
    return PREFERENCE_CATEGORIES.get(" ".join(thing.lower().split()))


def preference_slot(subject: str, thing: str) -> str | None:
    category = preference_category(thing)
    return slot(subject, "preference", category) if category else None


def favourite_slot(subject: str, category: str) -> str:
    return slot(subject, "preference", "_".join(category.lower().split()))


def instruction_slot(subject: str, instruction: str) -> str | None:
    """Instructions on the same matter (language, emojis, length...) replace each other."""
    for topic, pattern in _INSTRUCTION_TOPICS:
        if pattern.search(instruction):
            return slot(subject, "instruction", topic)
    return None


# ---- standing orders to the assistant ----------------------------------------------------------

_INSTRUCTION_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("address", re.compile(r"\b(?:call|address|refer to) the user\b", re.IGNORECASE)),
    ("language", re.compile(r"\bin (?:" + "|".join(sorted(LANGUAGES)) + r")\b", re.IGNORECASE)),
    ("emojis", re.compile(r"\bemo(?:ji|ticon)s?\b", re.IGNORECASE)),
    ("length", re.compile(r"\b(?:short|brief|concise|long|detailed|verbose)\b", re.IGNORECASE)),
    ("units", re.compile(r"\b(?:metric|imperial|celsius|fahrenheit)\b", re.IGNORECASE)),
    ("format", re.compile(r"\b(?:bullet|markdown|tables?|headings?)\b", re.IGNORECASE)),
)
_LEAD = (
    r"^(?:(?:oh|ok|okay|also|and|btw|by the way|one more thing|one last thing|last thing|so|well"
    r"|hey|alright)\b\W*)*"
)
_STANDING = (
    r"(?:from now on|going forward|in (?:the )?future|for future reference"
    r"|(?:I want|I'd like|I would like) you to)\b\W*"
)
# Imperatives that set how every later answer should be, as opposed to one-off requests.
_ORDERS = (
    r"(?=(?:always|never) \w|(?:don't|do not) (?!worry|forget|mind|bother|know|care|think|be sorry)"
    r"\w|stop \w+ing\b|avoid \w|(?:remember|make sure) to \w|be (?:more |less )?(?:concise|brief"
    r"|formal|informal|casual|direct|polite|blunt|specific)\b|keep (?:your |the )?(?:answers"
    r"|responses|replies|it|things|messages)\b|(?:answer|reply|respond|write|speak|talk)"
    r"(?: to me)? in \w|use (?:the )?(?:metric|imperial|celsius|fahrenheit|british|american"
    r"|bullet|markdown|plain)\b)"
)
_PLEASE = r"(?:please\b\W*)?"
CALL_ME = re.compile(
    _LEAD + f"(?:{_STANDING})?{_PLEASE}(?:call me|address me as|refer to me as) (?P<x>[^,;:!?()]+)",
    re.IGNORECASE,
)
STANDING_ORDER = re.compile(
    _LEAD + f"(?:{_STANDING})?{_PLEASE}{_ORDERS}(?P<x>[^,;!?]+)", re.IGNORECASE
)
# After "from now on", any imperative is a standing order, not only the listed kinds.
AFTER_FROM_NOW_ON = re.compile(
    _LEAD + f"{_STANDING}{_PLEASE}(?!I\b|I'm\b|my\b|we\b|call me\b)(?P<x>[^,;!?]+)",
    re.IGNORECASE,
)
_NEXT_ORDER = re.compile(
    r"\s+and\s+(?=(?:always|never|don't|do not|keep|stop|avoid|use|be|answer|reply|respond"
    r"|write)\b)|\s*\bplease\s*$",
    re.IGNORECASE,
)


def orders(body: str, addressee: str) -> list[str]:
    """ "don't use emojis and keep it short" -> ["Do not use emojis", "Keep it short"]."""
    found = []
    for order in (o.strip(" .!") for o in _NEXT_ORDER.split(body) if o):
        if order:
            text = re.sub(r"^(?:don't|do not)\b", "do not", order, flags=re.IGNORECASE)
            text = re.sub(r"\bme\b", addressee, text, flags=re.IGNORECASE)
            text = re.sub(r"\bmy\b", f"{addressee}'s", text, flags=re.IGNORECASE)
            found.append(text[0].upper() + text[1:])
    return found
