"""Background extraction: debounced per session, run as a durable task, announced as events."""

from __future__ import annotations

from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject, TaskQueue
from mnemo.jobs.registry import TaskContext
from mnemo.models import Session
from mnemo.services.consolidation import ConsolidationReport
from mnemo.services.events import EventSink, memory_event_data
from mnemo.services.extraction import ExtractionReport, ExtractionService
from mnemo.services.patterns import PatternService, pattern_event_data

EXTRACT_TASK = "extract.session"


class ExtractionScheduler:
    """Trailing-edge debounce per session: a burst of writes costs one extraction run."""

    def __init__(
        self,
        queue: TaskQueue,
        extraction: ExtractionService,
        events: EventSink,
        debounce_s: float,
        patterns: PatternService | None = None,
    ) -> None:
        self._queue = queue
        self._extraction = extraction
        self._events = events
        self._debounce_s = debounce_s
        self._patterns = patterns

    async def schedule(self, session: Session) -> str:
        task = await self._queue.enqueue_debounced(
            EXTRACT_TASK,
            {"namespace": session.namespace, "session_id": session.session_id},
            namespace=session.namespace,
            key=session.session_id,
            delay_s=self._debounce_s,
        )
        return task.id

    async def run_now(self, session: Session) -> ExtractionReport:
        """Read-your-writes (`wait=true`): extract inline; a pending task then finds nothing."""
        report = await self._extraction.extract_session(session.namespace, session.session_id)
        await self._announce(session.namespace, session.session_id, report)
        return report

    async def handle(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        namespace, session_id = str(payload["namespace"]), str(payload["session_id"])
        try:
            report = await self._extraction.extract_session(namespace, session_id)
        except Exception as exc:
            if context.is_last_attempt:
                await self._events.emit(namespace, "extraction.failed", {
                    "session_id": session_id, "error": str(exc), "task_id": context.task.id,
                })  # fmt: skip
            raise
        await self._announce(namespace, session_id, report)
        return report_summary(report)

    async def _announce(self, namespace: str, session_id: str, report: ExtractionReport) -> None:
        extra: dict[str, JsonValue] = {"session_id": session_id}
        await announce_extraction(self._events, namespace, report, extra, self._patterns)


async def announce_extraction(
    events: EventSink,
    namespace: str,
    report: ExtractionReport,
    extra: dict[str, JsonValue],
    patterns: PatternService | None = None,
) -> None:
    """One webhook event per memory change, patterns found, then extraction.completed."""
    c = report.consolidation
    for memory in c.added:
        await events.emit(namespace, "memory.created", memory_event_data(memory))
    for memory in c.merged:
        await events.emit(namespace, "memory.updated", memory_event_data(memory))
    for old, _new in c.superseded:
        await events.emit(namespace, "memory.superseded", memory_event_data(old))
    for memory in c.deleted:
        await events.emit(namespace, "memory.deleted", memory_event_data(memory))
    for pattern in await patterns.detect(namespace, c) if patterns else []:
        await events.emit(namespace, "pattern.detected", pattern_event_data(pattern))
    await events.emit(namespace, "extraction.completed", {**extra, **report_summary(report)})


def report_summary(report: ExtractionReport) -> dict[str, JsonValue]:
    c: ConsolidationReport = report.consolidation
    return {
        "messages": report.messages,
        "facts": report.facts,
        "added": [m.id for m in c.added],
        "merged": [m.id for m in c.merged],
        "superseded": [[old.id, new.id] for old, new in c.superseded],
        "deleted": [m.id for m in c.deleted],
        "rejected": len(c.rejected),
        "usage": dict(c.usage.as_dict()),
    }
