"""Forgetting (seed 001): policy-driven deletion with a dry run, and near-duplicate compaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio.to_thread
import numpy as np

from mnemo.auth.access import confine_filter, require
from mnemo.embedders.cache import CachedEmbedder
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import EventKind, Memory, MemoryEvent, MemoryStatus, Principal, Scope, utcnow
from mnemo.services.forgetting_policy import ForgetPolicy, select_for_forgetting
from mnemo.services.memories import MemoryService
from mnemo.stores.base import ChangeSet, Store

DURABLE = ["semantic", "episodic", "procedural"]


@dataclass(frozen=True)
class ForgetScope:
    namespace: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    limit: int = 1000


@dataclass(frozen=True)
class ForgetResult:
    scanned: int
    deleted: int
    deleted_ids: list[str]
    dry_run: bool


class ForgettingService:
    def __init__(
        self,
        store: Store,
        memories: MemoryService,
        embedder: CachedEmbedder,
        duplicate_similarity: float = 0.92,
    ) -> None:
        self._store = store
        self._memories = memories
        self._embedder = embedder
        self._duplicate_similarity = duplicate_similarity

    async def forget(
        self,
        who: Principal,
        policy: ForgetPolicy,
        scope: ForgetScope,
        dry_run: bool = True,
        pinned_ids: Sequence[str] = (),
    ) -> ForgetResult:
        """The dry run lists exactly what the real run deletes: the same selection code."""
        require(who, Scope.WRITE)
        found = await self._scan(who, scope, policy.memory_type_allowlist)
        keep = set(pinned_ids)
        candidates = [m for m in found if not m.pinned and m.id not in keep]
        chosen = select_for_forgetting(candidates, policy, utcnow())
        if dry_run or not chosen:
            return ForgetResult(len(found), len(chosen), chosen, dry_run)
        deleted = await self._memories.delete(who, chosen, scope.namespace, actor="forgetting")
        return ForgetResult(len(found), len(deleted), deleted, False)

    async def compact(self, who: Principal, scope: ForgetScope) -> tuple[int, int]:
        """Merge near-duplicates into the oldest of each group (the others are superseded,
        kept and linked); returns (merged, remaining active)."""
        require(who, Scope.WRITE)
        found = await self._scan(who, scope, DURABLE)
        found.sort(key=lambda m: (m.created_at, m.id))  # the oldest of a group is kept
        if len(found) < 2:
            return 0, len(found)
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, [m.text for m in found])
        similar = np.asarray(vectors) @ np.asarray(vectors).T
        merged = 0
        absorbed: set[int] = set()
        for i, keeper in enumerate(found):
            if i in absorbed:
                continue
            twins = [
                j for j in range(i + 1, len(found))
                if j not in absorbed and similar[i, j] >= self._duplicate_similarity
                and found[j].memory_type == keeper.memory_type
            ]  # fmt: skip
            if twins:
                absorbed.update(twins)
                await self._merge(keeper, [found[j] for j in twins])
                merged += len(twins)
        return merged, len(found) - merged

    async def _merge(self, keeper: Memory, twins: list[Memory]) -> None:
        now = utcnow()
        sources = list(
            dict.fromkeys([*keeper.extracted_from, *(s for t in twins for s in t.extracted_from)])
        )
        kept = keeper.model_copy(update={"extracted_from": sources, "updated_at": now})
        retired = [
            t.model_copy(
                update={
                    "status": MemoryStatus.SUPERSEDED,
                    "superseded_by": keeper.id,
                    "updated_at": now,
                }
            )
            for t in twins
        ]
        events = [
            MemoryEvent(
                memory_id=t.id, namespace=t.namespace, event=EventKind.MERGE, old_text=t.text,
                new_text=keeper.text, actor="compaction", at=now,
                details={"merged_into": keeper.id},
            )
            for t in twins
        ]  # fmt: skip
        await self._store.write_changes(ChangeSet((), [kept, *retired], events))

    async def _scan(
        self, who: Principal, scope: ForgetScope, types: Sequence[str] | None
    ) -> list[Memory]:
        wanted = MemoryFilter(
            namespace=TagFilter(eq=scope.namespace) if scope.namespace else None,
            user_id=TagFilter(eq=scope.user_id) if scope.user_id else None,
            session_id=TagFilter(eq=scope.session_id) if scope.session_id else None,
            memory_type=TagFilter(any=list(types)) if types else None,
        )
        page = await self._store.list_memories(
            confine_filter(who, wanted), utcnow(), scope.limit, 0
        )
        return page.items
