"""Query text into keyword terms: lowercase words without the common English stopwords."""

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
