"""Open the configured store from the command line, without the HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mnemo.config import Settings
from mnemo.stores.base import Store
from mnemo.wiring import build_store

MINILM_DIMENSION = 384


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The store, migrated and open; CLI commands need no embedder for key management."""
    dimension = (
        settings.embedder.dimension if settings.embedder.provider != "local" else MINILM_DIMENSION
    )
    store = build_store(settings, dimension)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
