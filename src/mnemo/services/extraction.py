"""Extraction use case: new turns of a session -> facts -> consolidated long-term memories."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from mnemo.auth.access import can_see, require, resolve_namespace, resolve_user
from mnemo.errors import SessionNotFoundError
from mnemo.extraction.facts import ExtractedFact, SourceMessage
from mnemo.models import Message, Principal, Scope, Session, utcnow
from mnemo.services.consolidation import ConsolidationReport, Consolidator, Owner
from mnemo.services.context_windows import ContextWindows
from mnemo.services.extractors import FactExtractor
from mnemo.stores.base import Store


@dataclass(frozen=True)
class ExtractionReport:
    messages: int
    facts: int
    consolidation: ConsolidationReport


class ExtractionService:
    def __init__(
        self,
        store: Store,
        extractor: FactExtractor,
        consolidator: Consolidator,
        default_namespace: str,
        contexts: ContextWindows | None = None,
    ) -> None:
        self._store = store
        self._contexts = contexts
        self._extractor = extractor
        self._consolidator = consolidator
        self._default_namespace = default_namespace
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def extract_session(self, namespace: str, session_id: str) -> ExtractionReport:
        """Extract the session's turns not yet extracted; safe to run again (idempotent).

        Runs of one session are serialised in this process (a background task and a
        `wait=true` write may overlap), so no turn is extracted twice.
        """
        key = (namespace, session_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            return await self._extract_session(namespace, session_id)

    async def _extract_session(self, namespace: str, session_id: str) -> ExtractionReport:
        session = await self._store.get_session(namespace, session_id)
        if session is None:
            raise SessionNotFoundError(f"Session {session_id} not found")
        pending = [m for m in session.messages if not m.extracted]
        report = await self._run(_owner(session), pending)
        if self._contexts is not None and pending:
            await self._contexts.refresh(session, {m.id for m in pending})
        if pending:
            await self._store.mark_messages_extracted(
                namespace, session_id, [m.id for m in pending]
            )
        return report

    async def extract_for(
        self, who: Principal, session_id: str, namespace: str | None
    ) -> ExtractionReport:
        """On-demand extraction of one session, on behalf of a caller."""
        require(who, Scope.WRITE)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        session = await self._store.get_session(ns, session_id)
        if session is None or not can_see(who, ns, session.user_id):
            raise SessionNotFoundError(f"Session {session_id} not found")
        return await self.extract_session(ns, session_id)

    async def extract_messages(self, owner: Owner, messages: Sequence[Message]) -> ExtractionReport:
        """Extract loose messages that belong to no stored session (seed 004's agent memories)."""
        return await self._run(owner, list(messages))

    async def remember(
        self,
        who: Principal,
        messages: Sequence[Message],
        user_id: str | None,
        metadata: dict[str, JsonValue] | None = None,
        namespace: str | None = None,
    ) -> ExtractionReport:
        """A client's explicit add (seed 002): facts from loose turns, and each user turn that
        yields no fact kept word for word, so nothing a user adds is lost."""
        require(who, Scope.WRITE)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        owner = Owner(ns, resolve_user(who, user_id), metadata=dict(metadata or {}))
        if not messages:
            return ExtractionReport(0, 0, ConsolidationReport())
        extraction = await self._extractor.extract([_source(m) for m in messages])
        covered = {i for fact in extraction.facts for i in fact.source_message_ids}
        kept = [_verbatim(m) for m in messages if m.role.lower() == "user" and m.id not in covered]
        facts = [*extraction.facts, *kept]
        today = max(m.created_at for m in messages).date()
        report = await self._consolidator.consolidate(owner, facts, utcnow(), today)
        report.usage = report.usage + extraction.usage
        return ExtractionReport(len(messages), len(facts), report)

    async def _run(self, owner: Owner, messages: list[Message]) -> ExtractionReport:
        if not messages:
            return ExtractionReport(0, 0, ConsolidationReport())
        sources = [_source(m) for m in messages]
        extraction = await self._extractor.extract(sources)
        today = max(m.created_at for m in messages).date()
        report = await self._consolidator.consolidate(owner, extraction.facts, utcnow(), today)
        report.usage = report.usage + extraction.usage
        return ExtractionReport(len(messages), len(extraction.facts), report)


def _owner(session: Session) -> Owner:
    return Owner(session.namespace, session.user_id, session.session_id, session.agent_id)


def _verbatim(message: Message) -> ExtractedFact:
    """A user turn the extractor found nothing in, as a semantic fact in the user's words."""
    return ExtractedFact(
        text=message.content.strip(), memory_type="semantic", topics=(), entities=(),
        importance=0.5, event_date=None, slot=None, source_message_ids=(message.id,),
    )  # fmt: skip


def _source(message: Message) -> SourceMessage:
    speaker = message.metadata.get("speaker") or message.metadata.get("name")
    return SourceMessage(
        id=message.id,
        role=message.role,
        content=message.content,
        created_at=message.created_at,
        speaker=speaker if isinstance(speaker, str) else None,
    )
