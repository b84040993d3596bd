"""Context windows of conversation turns: built in the background, once neighbours are known.

A turn's window (retrieval/documents.py) holds the turns around it, so it changes when
later turns arrive; embedding it on every write would make writes several times slower.
The session's extraction run, debounced in the background, builds the windows the new turns
joined instead. Until then a turn is searched as its own window.
"""

from __future__ import annotations

import anyio.to_thread

from mnemo.embedders.cache import CachedEmbedder
from mnemo.models import Session
from mnemo.retrieval.documents import Turn, changed_windows
from mnemo.stores.base import ContextUpdate, Store


class ContextWindows:
    def __init__(self, store: Store, embedder: CachedEmbedder) -> None:
        self._store = store
        self._embedder = embedder

    async def refresh(self, session: Session, fresh_ids: set[str]) -> int:
        """Build and store the windows that the turns `fresh_ids` joined; returns how many
        were written (a turn without a message memory, say deleted, is skipped)."""
        turns = [Turn(m.id, m.content, m.created_at) for m in session.messages]
        windows = changed_windows(turns, fresh_ids)
        if not windows:
            return 0
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, [w.text for w in windows])
        return await self._store.set_contexts(
            [
                ContextUpdate(session.namespace, w.id, w.text, vector, w.neighbour_ids)
                for w, vector in zip(windows, vectors, strict=True)
            ]
        )
