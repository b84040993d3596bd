"""What the MCP tools return: the native API's bodies plus the few only the tools need."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CurrentDatetime(BaseModel):
    iso_utc: str = Field(description="Now, ISO 8601 in UTC with a Z suffix")
    unix_ts: int = Field(description="Now, in Unix seconds")


class CreatedMemories(BaseModel):
    status: str
    memory_ids: list[str] = Field(description="Ids of the memories stored")
    duplicates_skipped: int = Field(description="Memories not stored: their text already exists")


class DeletedMemories(BaseModel):
    status: str
    deleted: list[str] = Field(description="Ids actually deleted (unknown or foreign ids are not)")
