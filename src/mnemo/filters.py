"""The filter DSL of seed 001: tag filters and number/date filters over memory fields."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from mnemo.errors import InvalidRequestError
from mnemo.models import MemoryType

_FORBID = ConfigDict(extra="forbid", populate_by_name=True)


class TagFilter(BaseModel):
    """eq / ne / any / all / startswith / none on a string or string-list field.

    The aliases `in_`, `not_eq` and `not_in` are what seed 001's published Python client
    sends, so they are accepted as `any`, `ne` and `none`.
    """

    model_config = _FORBID

    eq: str | None = None
    ne: str | None = Field(None, validation_alias=AliasChoices("ne", "not_eq"))
    any: list[str] | None = Field(None, validation_alias=AliasChoices("any", "in_", "in"))
    all: list[str] | None = None
    none: list[str] | None = Field(None, validation_alias=AliasChoices("none", "not_in"))
    startswith: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> TagFilter:
        used = [name for name, value in self if value is not None]
        if not used:
            raise ValueError("a tag filter needs one operator: eq, ne, any, all, none, startswith")
        if len(used) > 1:
            raise ValueError(f"a tag filter takes one operator, got {used}")
        return self

    def clause_count(self) -> int:
        """How many values this filter compares against (each item of a list counts)."""
        return sum(len(v) if isinstance(v, list) else 1 for _, v in self if v is not None)

    def allowed_values(self) -> set[str] | None:
        """The finite set of values this filter admits, or None if it is open-ended."""
        if self.eq is not None:
            return {self.eq}
        if self.any is not None:
            return set(self.any)
        return None


Number = float | int


class NumberFilter(BaseModel):
    """gt / gte / lt / lte / eq / ne / between on a number or a date.

    Dates may be given as epoch seconds or ISO-8601 strings; they are compared in epoch
    seconds.
    """

    model_config = _FORBID

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    eq: float | None = None
    ne: float | None = None
    between: tuple[float, float] | None = None

    @field_validator("gt", "gte", "lt", "lte", "eq", "ne", mode="before")
    @classmethod
    def _date_to_epoch(cls, value: object) -> object:
        return to_epoch(value)

    @field_validator("between", mode="before")
    @classmethod
    def _between_to_epoch(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return [to_epoch(v) for v in value]
        return value

    @model_validator(mode="after")
    def _has_operator(self) -> NumberFilter:
        if all(value is None for _, value in self):
            raise ValueError(
                "a number/date filter needs an operator: gt, gte, lt, lte, eq, ne, between"
            )
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between takes [low, high] with low <= high")
        return self

    def clause_count(self) -> int:
        return sum(len(v) if isinstance(v, tuple) else 1 for _, v in self if v is not None)


def to_epoch(value: object) -> object:
    """Turn an ISO date string or datetime into epoch seconds; leave numbers alone."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a number or an ISO-8601 date: {value!r}") from exc
        return to_epoch(moment)
    return value


MetadataValue = str | int | float | bool


class MemoryFilter(BaseModel):
    """Every condition a search or a listing can put on memories; all are ANDed."""

    model_config = _FORBID

    ids: list[str] | None = None
    content_hashes: list[str] | None = None
    namespace: TagFilter | None = None
    user_id: TagFilter | None = None
    session_id: TagFilter | None = None
    agent_id: TagFilter | None = None
    topics: TagFilter | None = None
    entities: TagFilter | None = None
    memory_type: TagFilter | None = None
    created_at: NumberFilter | None = None
    updated_at: NumberFilter | None = None
    last_accessed: NumberFilter | None = None
    event_date: NumberFilter | None = None
    importance: NumberFilter | None = None
    metadata: dict[str, MetadataValue] | None = None
    include_superseded: bool = False
    include_expired: bool = False

    @field_validator("topics", "entities")
    @classmethod
    def _no_prefix_on_lists(cls, value: TagFilter | None) -> TagFilter | None:
        if value is not None and value.startswith is not None:
            raise ValueError("startswith is not supported on topics or entities")
        return value

    @field_validator("memory_type")
    @classmethod
    def _known_memory_types(cls, value: TagFilter | None) -> TagFilter | None:
        if value is None:
            return None
        known = {t.value for t in MemoryType}
        given = [value.eq, value.ne, value.startswith, *(value.any or []), *(value.all or [])]
        given += value.none or []
        unknown = sorted({v for v in given if v is not None and v not in known} - {None})
        if unknown and value.startswith is None:
            raise ValueError(f"unknown memory_type {unknown}; known: {sorted(known)}")
        return value

    def clause_count(self) -> int:
        """How many values the whole filter compares against: operator values, list items,
        metadata keys and ids. The DSL is flat (field -> operator -> value; anything nested
        deeper is refused by validation), so this is what bounds the work a filter asks for."""
        count = len(self.ids or []) + len(self.content_hashes or []) + len(self.metadata or {})
        for _, value in self:
            if isinstance(value, TagFilter | NumberFilter):
                count += value.clause_count()
        return count


def check_filter_size(memory_filter: MemoryFilter, max_clauses: int) -> None:
    """Refuse a client's filter with more than `max_clauses` values (LimitsConfig)."""
    count = memory_filter.clause_count()
    if count > max_clauses:
        raise InvalidRequestError(
            f"the filter compares against {count} values; the limit is {max_clauses} "
            "(list items, metadata keys and operators all count)"
        )
