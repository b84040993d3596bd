"""Extractive, progressive summaries: central, non-redundant sentences in their original order."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from mnemo.extraction.facts import words

Vector = dict[str, float]

_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n")
_LAST_WORD = re.compile(r"(\S+?)[.!?]*[\"')\]]*$")
# A period after these is not the end of a sentence ("Dr. Smith", "St. Mary's", "e.g. this").
_ABBREVIATIONS = words("mr mrs ms dr st jr sr prof vs etc e.g i.e inc ltd co mt no approx dept fig")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = words(
    """a an the and or but if then so of to in on at by for with from as is are was were be been
    being am do does did have has had i me my we our you your he him his she her it its they them
    their this that these those there here what which who whom how when where why not no yes just
    very really also too can could would should will shall may might must about into over than
    out up down off again once all any both each few more most other some such only own same s t
    don doesn didn isn aren wasn weren ll re ve d m o ok okay yeah thanks thank please"""
)
LAMBDA = 0.7  # weight of centrality against redundancy in the MMR score
DUPLICATE = 0.9  # cosine above which a sentence says nothing new


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, keeping their punctuation; abbreviations and initials do not split."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        piece = text[start : m.end()]
        word = _LAST_WORD.search(piece)
        stem = word.group(1).lower() if word else ""
        if m.group(0) == "." and (stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha())):
            continue
        sentences.append(piece.strip())
        start = m.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _tokens(sentence: str) -> list[str]:
    words = (w.removesuffix("'s") for w in _WORD.findall(sentence.lower()))
    # Crude plural folding is enough for overlap scoring: "memories"/"memory" stay apart, fine.
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words
        if w not in _STOPWORDS
    ]


def _normalise(vector: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _tfidf(docs: Sequence[list[str]]) -> list[Vector]:
    df = Counter(term for doc in docs for term in set(doc))
    n = len(docs)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    return [
        _normalise({t: (1.0 + math.log(c)) * idf[t] for t, c in Counter(doc).items()})
        for doc in docs
    ]


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _centroid(vectors: Iterable[Vector]) -> Vector:
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    return _normalise(dict(total))


class _Selector:
    """Greedy maximal-marginal-relevance selection over a fixed pool of sentence vectors."""

    def __init__(self, vectors: list[Vector], previous: int) -> None:
        self.vectors = vectors
        self.previous = previous  # pool[:previous] came from the previous summary
        centroid = _centroid(vectors)
        self.centrality = [_cosine(v, centroid) for v in vectors]
        self.chosen: list[int] = []

    def _redundancy(self, i: int) -> float:
        # New sentences must also be novel against the whole previous summary, kept or not.
        against = self.chosen if i < self.previous else [*self.chosen, *range(self.previous)]
        return max((_cosine(self.vectors[i], self.vectors[j]) for j in against), default=0.0)

    def pick(self, candidates: Iterable[int], budget: int) -> None:
        remaining = [i for i in candidates if i not in self.chosen]
        while remaining and len(self.chosen) < budget:
            scored = []
            for i in remaining:
                redundancy = self._redundancy(i)
                if redundancy < DUPLICATE:
                    score = LAMBDA * self.centrality[i] - (1 - LAMBDA) * redundancy
                    scored.append((score, -i))
            if not scored:
                return
            best = -max(scored)[1]
            self.chosen.append(best)
            remaining.remove(best)


def _fresh_sentences(texts: Sequence[str], seen: set[str]) -> list[str]:
    fresh: list[str] = []
    for text in texts:
        for sentence in split_sentences(text):
            key = " ".join(_tokens(sentence))
            if key and key not in seen:
                seen.add(key)
                fresh.append(sentence)
    return fresh


def summarize(texts: Sequence[str], max_sentences: int = 5, previous: str | None = None) -> str:
    """At most `max_sentences` sentences: the previous summary's key ones, then the new ones."""
    if max_sentences <= 0:
        return ""
    kept = [s for s in split_sentences(previous or "") if _tokens(s)]
    fresh = _fresh_sentences(texts, {" ".join(_tokens(s)) for s in kept})
    pool = kept + fresh
    if not pool:
        return ""
    selector = _Selector(_tfidf([_tokens(s) for s in pool]), previous=len(kept))
    # The previous summary keeps its best sentences, but new material always gets room to land.
    room = min(len(fresh), max(1, max_sentences // 2))
    selector.pick(range(len(kept)), max_sentences - room)
    selector.pick(range(len(kept), len(pool)), max_sentences)
    selector.pick(range(len(pool)), max_sentences)  # budget left when the new material ran out
    return " ".join(pool[i] for i in sorted(selector.chosen))
