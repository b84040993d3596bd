"""Text into keyword terms: lowercase words, common English stopwords dropped, light stemming."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)
_CLITIC = re.compile(r"'(?:s|re|ve|ll|d|m|t)$")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()  # noqa: SIM905 - a word list reads better as prose
    # mnemo's own extractors write every fact about "User": evidence of nothing.
    + ["user", "users"]
)


def keyword_terms(text: str, limit: int = 32) -> list[str]:
    """Distinct content words of `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    for raw in _WORD.findall(text.lower()):
        word = _CLITIC.sub("", raw).replace("'", "")
        if len(word) < 2 or word in STOPWORDS or word in seen:
            continue
        seen[word] = None
        if len(seen) >= limit:
            break
    return list(seen)


_VOWELS = frozenset("aeiouy")
_UNDOUBLE = frozenset("bdfgkmnprt")


def stem(word: str) -> str:
    """A light English suffix stripper: plural -s, -ies, -ed, -ing, -ly, then a final -e
    and a doubled consonant, so "paints", "painted" and "painting" share "paint", and
    "make", "makes" and "making" share "mak". Words of three letters or fewer, and anything
    with a digit, are kept whole."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("sses", "ss"), ("ies", "y"), ("ied", "y")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ly"):
        root = word[: -len(suffix)]
        if word.endswith(suffix) and len(root) >= 3 and not _VOWELS.isdisjoint(root):
            word = root
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] in _UNDOUBLE:
        word = word[:-1]
    return word


def index_terms(text: str) -> list[str]:
    """Every content word of `text` stemmed, in order and with repeats (for BM25's tf)."""
    terms = []
    for raw in _WORD.findall(text.lower()):
        word = _CLITIC.sub("", raw).replace("'", "")
        if len(word) < 2 or word in STOPWORDS:
            continue
        terms.append(stem(word))
    return terms


def query_terms(text: str, limit: int = 32) -> list[str]:
    """Distinct stemmed content words of a query, in order of first appearance."""
    return list(dict.fromkeys(index_terms(text)))[:limit]
