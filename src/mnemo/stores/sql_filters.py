"""Compile a MemoryFilter into a SQL WHERE clause, for any SQL dialect mnemo speaks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mnemo.filters import MemoryFilter, NumberFilter, TagFilter

SqlParam = str | float | int | bool | None | list[str]

# Filter field -> column. The same names are used by every store's schema.
TAG_COLUMNS = {
    "namespace": "namespace",
    "user_id": "user_id",
    "session_id": "session_id",
    "agent_id": "agent_id",
    "memory_type": "memory_type",
}
LIST_COLUMNS = {"topics": "topics", "entities": "entities"}
NUMBER_COLUMNS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_accessed": "last_accessed_at",
    "event_date": "event_date",
    "importance": "importance",
}


class SqlDialect(Protocol):
    """The few spellings that differ between SQL databases."""

    placeholder: str

    def list_has(self, column: str) -> str:
        """SQL true when the list column holds the one bound value."""
        ...

    def list_has_any(self, column: str, count: int) -> str: ...

    def list_has_all(self, column: str, count: int) -> str: ...

    def list_params(self, values: Sequence[str]) -> list[SqlParam]:
        """Bind values for list_has_any/list_has_all, as the dialect wants them."""
        ...

    def metadata_equals(self, key: str) -> str:
        """SQL true when metadata[key] equals the bound value (compared as text)."""
        ...

    def like_escape(self) -> str: ...


@dataclass
class WhereClause:
    sql: list[str] = field(default_factory=list)
    params: list[SqlParam] = field(default_factory=list)

    def add(self, sql: str, *params: SqlParam) -> None:
        self.sql.append(sql)
        self.params.extend(params)

    def render(self) -> str:
        return " AND ".join(f"({part})" for part in self.sql) if self.sql else "TRUE"


def compile_filter(
    memory_filter: MemoryFilter, dialect: SqlDialect, now: datetime, alias: str = "m"
) -> WhereClause:
    """Build the WHERE clause; columns are prefixed with `alias`."""
    where = WhereClause()
    _add_identity(where, memory_filter, dialect.placeholder, alias)
    for name, column in TAG_COLUMNS.items():
        tag = getattr(memory_filter, name)
        if tag is not None:
            _add_tag(where, dialect, f"{alias}.{column}", tag)
    for name, column in LIST_COLUMNS.items():
        tag = getattr(memory_filter, name)
        if tag is not None:
            _add_list(where, dialect, f"{alias}.{column}", tag)
    for name, column in NUMBER_COLUMNS.items():
        number = getattr(memory_filter, name)
        if number is not None:
            _add_number(where, dialect.placeholder, f"{alias}.{column}", number)
    for key, value in (memory_filter.metadata or {}).items():
        where.add(dialect.metadata_equals(key), _metadata_text(value))
    _add_lifecycle(where, memory_filter, dialect.placeholder, alias, now)
    return where


def _add_identity(where: WhereClause, memory_filter: MemoryFilter, p: str, alias: str) -> None:
    if memory_filter.ids is not None:
        marks = ", ".join([p] * len(memory_filter.ids)) or "NULL"
        where.add(f"{alias}.id IN ({marks})", *memory_filter.ids)
    if memory_filter.content_hashes is not None:
        marks = ", ".join([p] * len(memory_filter.content_hashes)) or "NULL"
        where.add(f"{alias}.content_hash IN ({marks})", *memory_filter.content_hashes)


def _add_lifecycle(
    where: WhereClause, memory_filter: MemoryFilter, p: str, alias: str, now: datetime
) -> None:
    """Superseded and expired memories stay out unless the filter asks for them."""
    if not memory_filter.include_superseded:
        where.add(f"{alias}.status = {p}", "active")
    if not memory_filter.include_expired:
        where.add(f"{alias}.expires_at IS NULL OR {alias}.expires_at > {p}", now.timestamp())


def _metadata_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add_tag(where: WhereClause, dialect: SqlDialect, column: str, tag: TagFilter) -> None:
    p = dialect.placeholder
    if tag.eq is not None:
        where.add(f"{column} = {p}", tag.eq)
    elif tag.ne is not None:
        where.add(f"{column} IS NULL OR {column} <> {p}", tag.ne)
    elif tag.any is not None:
        where.add(f"{column} IN ({', '.join([p] * len(tag.any)) or 'NULL'})", *tag.any)
    elif tag.none:  # "none of []" excludes nothing
        marks = ", ".join([p] * len(tag.none))
        where.add(f"{column} IS NULL OR {column} NOT IN ({marks})", *tag.none)
    elif tag.all is not None:
        # A single-valued field holds "all" of a list only when the list has one distinct value.
        values = set(tag.all)
        if len(values) == 1:
            where.add(f"{column} = {p}", values.pop())
        elif values:
            where.add("FALSE")
    elif tag.startswith is not None:
        where.add(f"{column} LIKE {p} {dialect.like_escape()}", _like_prefix(tag.startswith))


def _add_list(where: WhereClause, dialect: SqlDialect, column: str, tag: TagFilter) -> None:
    if tag.eq is not None:
        where.add(dialect.list_has(column), tag.eq)
    elif tag.ne is not None:
        where.add(f"NOT ({dialect.list_has(column)})", tag.ne)
    elif tag.any is not None:
        if tag.any:
            where.add(dialect.list_has_any(column, len(tag.any)), *dialect.list_params(tag.any))
        else:
            where.add("FALSE")
    elif tag.all:
        where.add(dialect.list_has_all(column, len(tag.all)), *dialect.list_params(tag.all))
    elif tag.none:
        sql = dialect.list_has_any(column, len(tag.none))
        where.add(f"NOT ({sql})", *dialect.list_params(tag.none))


def _add_number(where: WhereClause, p: str, column: str, number: NumberFilter) -> None:
    comparisons = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "ne": "<>"}
    for name, op in comparisons.items():
        value = getattr(number, name)
        if value is not None:
            where.add(f"{column} {op} {p}", value)
    if number.between is not None:
        where.add(f"{column} BETWEEN {p} AND {p}", number.between[0], number.between[1])


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
