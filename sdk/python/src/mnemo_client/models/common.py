"""The base of every response model, and the small shapes several endpoints share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Tolerant of fields a newer server adds: they are kept in `model_extra`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Ack(Model):
    """The answer of writes that return no resource: {"status": "ok"}."""

    status: str


class Usage(Model):
    """LLM tokens a request spent (all zeros when the server runs without an LLM)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0


def next_offset_of(offset: int, count: int, total: int) -> int | None:
    """For listings that report only `total`: the next page's offset, None after the last."""
    end = offset + count
    return end if count and end < total else None
