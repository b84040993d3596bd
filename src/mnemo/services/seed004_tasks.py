"""Seed 004's background services and their task types, assembled from the shared services."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.config import Settings
from mnemo.jobs.queue import TaskQueue
from mnemo.jobs.registry import TaskRegistry
from mnemo.services.batcher import MessageBatcher
from mnemo.services.events import EventSink
from mnemo.services.extraction import ExtractionService
from mnemo.services.memories import MemoryService
from mnemo.services.memory_tasks import ADD_MEMORY_TASK, AGENT_MEMORY_TASK, MemoryTasks
from mnemo.services.summarizers import Summarizer
from mnemo.services.summary_callbacks import CALLBACK_TASK, SUMMARY_TASK, SummaryCallbacks
from mnemo.services.webhook_delivery import WebhookDeliverer
from mnemo.stores.batch_store import BatchStore


@dataclass(frozen=True)
class Seed004Services:
    """Durable adds and agent notes, summaries with signed callbacks, the message batcher."""

    tasks: MemoryTasks
    summaries: SummaryCallbacks
    batcher: MessageBatcher

    def register(self, registry: TaskRegistry) -> None:
        registry.register(ADD_MEMORY_TASK, self.tasks.add_memory)
        registry.register(AGENT_MEMORY_TASK, self.tasks.agent_memory)
        registry.register(SUMMARY_TASK, self.summaries.summarize)
        registry.register(CALLBACK_TASK, self.summaries.deliver)

    async def start(self) -> None:
        """After the queue is open: queue the batches a stopped process left sealed."""
        await self.batcher.recover()


def build_seed004(
    settings: Settings,
    *,
    queue: TaskQueue,
    batches: BatchStore,
    memories: MemoryService,
    extraction: ExtractionService,
    summarizer: Summarizer,
    deliverer: WebhookDeliverer,
    events: EventSink,
    uses_llm: bool,
) -> Seed004Services:
    """Seed 004's services from the shared ones (wiring has built every adapter)."""
    tasks = MemoryTasks(queue, memories, extraction, summarizer, events)
    summaries = SummaryCallbacks(
        queue,
        summarizer,
        deliverer,
        allow_private=settings.webhooks.allow_private,
        max_attempts=settings.webhooks.max_attempts,
        summarizer_name="llm" if uses_llm else "offline",
    )
    batcher = MessageBatcher(batches, tasks, settings.message_batch_size)
    return Seed004Services(tasks, summaries, batcher)
