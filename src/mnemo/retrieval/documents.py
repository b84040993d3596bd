"""What gets indexed for a memory: its keyword text, and the context window of a conversation turn.

A turn on its own often lacks what a later question asks about: the date it was said on
("When did she go to the support group?") and the turns around it ("What made you try
pottery?" is asked in the turn before the answer). So a message memory is keyword-indexed
with its natural date ("On 8 May 2023, Caroline: I went to ..."), and, once its neighbours
are known, also searched as its *context window*: the turns up to CONTEXT_BEFORE before and
CONTEXT_AFTER after it in the same session, dated, with its own terms and embedding. The
memory's own embedding stays that of its text, so a similarity (and a client's distance
threshold) keeps meaning "how close to what was said": a date prefix would pull a short
turn's cosine to an unrelated query from 0.55 down to 0.34. The stored text is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mnemo.models import Memory
from mnemo.retrieval.text import index_terms

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Five turns: on LoCoMo's development split, windows of +-2 turns beat +-1 (recall@10
# 0.775 -> 0.790) and +-3 or +-4 added nothing.
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 2
MESSAGE_TYPE = "message"


def natural_date(moment: datetime) -> str:
    """The date as people write it: "8 May 2023" (locale-independent)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def index_text(text: str, memory_type: str, created_at: datetime) -> str:
    """The text keyword-indexed for a memory.

    A message is something said at a moment, so its date travels with it; other memories
    (extracted facts, notes) carry their dates in their own words, if they have any.
    """
    if memory_type == MESSAGE_TYPE:
        return f"On {natural_date(created_at)}, {text}"
    return text


def memory_index_text(memory: Memory) -> str:
    return index_text(memory.text, memory.memory_type.value, memory.created_at)


def terms_text(text: str) -> str:
    """A text's stemmed index terms as stored (space-separated, repeats kept for BM25's tf)."""
    return " ".join(index_terms(text))


@dataclass(frozen=True)
class Turn:
    """One turn of a session, as the context builder needs it."""

    id: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class ContextWindow:
    """A turn's context: the ids of the window's turns in order, and the window's text."""

    id: str
    member_ids: tuple[str, ...]
    text: str

    @property
    def neighbour_ids(self) -> tuple[str, ...]:
        """The turns right before and after this one (one or two ids)."""
        at = self.member_ids.index(self.id)
        return tuple(self.member_ids[max(at - 1, 0) : at] + self.member_ids[at + 1 : at + 2])


def context_window(
    turns: Sequence[Turn], position: int, before: int = CONTEXT_BEFORE, after: int = CONTEXT_AFTER
) -> ContextWindow:
    """The window around turns[position], dated by that turn."""
    members = turns[max(position - before, 0) : position + after + 1]
    centre = turns[position]
    body = " ".join(t.content.strip() for t in members)
    return ContextWindow(
        id=centre.id,
        member_ids=tuple(t.id for t in members),
        text=f"On {natural_date(centre.created_at)}: {body}",
    )


def changed_windows(
    turns: Sequence[Turn],
    fresh_ids: set[str],
    before: int = CONTEXT_BEFORE,
    after: int = CONTEXT_AFTER,
) -> list[ContextWindow]:
    """The windows that new turns (`fresh_ids`) joined: theirs, and those of the turns up to
    `after` before and `before` after each of them. A window none of whose turns is new has
    not changed since it was last built, so it is not built again."""
    positions: set[int] = set()
    for at, turn in enumerate(turns):
        if turn.id in fresh_ids:
            positions.update(range(max(at - after, 0), min(at + before, len(turns) - 1) + 1))
    return [context_window(turns, at, before, after) for at in sorted(positions)]
