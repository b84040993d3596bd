"""The only place that maps configuration to adapters and assembles the services."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.api.rate_limit import RateLimiter
from mnemo.auth.authenticator import Authenticator
from mnemo.config import Settings
from mnemo.embedders.base import Embedder
from mnemo.embedders.cache import CachedEmbedder
from mnemo.errors import ConfigurationError
from mnemo.jobs.queue import TaskQueue
from mnemo.jobs.registry import TaskRegistry
from mnemo.jobs.worker import Worker, WorkerOptions
from mnemo.llms.base import LLM
from mnemo.metrics import Metrics
from mnemo.models import Message, Session, utcnow
from mnemo.retrieval.pipeline import Retriever
from mnemo.services.background import EXTRACT_TASK, ExtractionScheduler
from mnemo.services.chat import ChatService
from mnemo.services.consolidation import Consolidator, Owner
from mnemo.services.context_windows import ContextWindows
from mnemo.services.deciders import Decider, LLMDecider, OfflineDecider
from mnemo.services.extraction import ExtractionService
from mnemo.services.extractors import FactExtractor, LLMExtractor, OfflineExtractor
from mnemo.services.forgetting import ForgettingService
from mnemo.services.memories import MemoryService
from mnemo.services.patterns import PatternService
from mnemo.services.periodic_forgetting import PERIODIC_FORGET_TASK, PeriodicForgetting
from mnemo.services.prompt import PromptService
from mnemo.services.search import AccessRecorder, SearchService
from mnemo.services.seed004_tasks import Seed004Services, build_seed004
from mnemo.services.stats import StatsService
from mnemo.services.summarizers import LLMSummarizer, OfflineSummarizer, Summarizer
from mnemo.services.tokens import TokenCounter, estimate_tokens
from mnemo.services.webhook_delivery import DELIVER_TASK, WebhookDeliverer
from mnemo.services.webhooks import WebhookService
from mnemo.services.working_memory import WorkingMemoryService
from mnemo.stores.base import Store
from mnemo.stores.batch_store import BatchStore
from mnemo.stores.webhook_store import WebhookStore


@dataclass(frozen=True)
class Jobs:
    """Durable background work: the queue, its task types, the in-process worker, webhooks."""

    queue: TaskQueue
    registry: TaskRegistry
    worker: Worker | None  # None when MNEMO_JOBS__WORKERS_IN_PROCESS=0
    webhooks: WebhookService
    deliverer: WebhookDeliverer
    batches: BatchStore  # seed 004's message batcher, in the queue's database

    async def start(self) -> None:
        await self.queue.open()
        if self.worker is not None:
            await self.worker.start()

    async def stop(self) -> None:
        if self.worker is not None:  # first: in-flight tasks finish while all else is up
            await self.worker.stop()
        await self.deliverer.close()
        await self.queue.close()


@dataclass
class Services:
    """Everything a request handler may use, built once per app."""

    settings: Settings
    store: Store
    embedder: CachedEmbedder
    counter: TokenCounter
    authenticator: Authenticator
    memories: MemoryService
    sessions: WorkingMemoryService
    search: SearchService
    prompt: PromptService
    recorder: AccessRecorder
    llm: LLM | None
    extraction: ExtractionService
    summarizer: Summarizer
    chat: ChatService
    metrics: Metrics
    rate_limiter: RateLimiter | None
    forgetting: ForgettingService
    periodic_forgetting: PeriodicForgetting
    stats: StatsService
    jobs: Jobs
    patterns: PatternService
    seed004: Seed004Services

    async def start(self) -> None:
        await self.store.open()
        await self.store.ensure_embedding_model(self.embedder.model_name, self.embedder.dimension)
        await self.recorder.start()
        await self.jobs.start()
        await self.seed004.start()
        if self.settings.forgetting.enabled:
            await self.periodic_forgetting.schedule_next(utcnow())

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.recorder.stop()
        if self.llm is not None:
            await self.llm.aclose()
        if self.rate_limiter is not None:
            await self.rate_limiter.close()
        await self.store.close()


def build_embedder(settings: Settings) -> Embedder:
    config = settings.embedder
    if config.provider == "local":
        from mnemo.embedders.local import LocalEmbedder

        return LocalEmbedder(backend=config.backend)
    if config.provider == "openai":
        from mnemo.embedders.openai import OpenAIEmbedder

        if not config.base_url:
            raise ConfigurationError("MNEMO_EMBEDDER__BASE_URL is required for the openai embedder")
        return OpenAIEmbedder(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else None,
            model=config.model,
            dimension=config.dimension,
            timeout=config.timeout_s,
        )
    raise ConfigurationError(f"unknown embedder provider {config.provider!r}")


def build_store(settings: Settings, dimension: int) -> Store:
    url = settings.resolved_database_url()
    if url:
        from mnemo.stores.postgres import PostgresStore

        return PostgresStore(url, dimension)
    from mnemo.stores.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path, dimension)


def build_llm(settings: Settings) -> LLM | None:
    """An OpenAI-compatible LLM when a base URL is configured; None means offline."""
    config = settings.llm
    if not config.base_url:
        return None
    from mnemo.llms.openai import OpenAILLM

    return OpenAILLM(
        base_url=config.base_url,
        api_key=config.api_key.get_secret_value() if config.api_key else None,
        model=config.model,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
    )


@dataclass(frozen=True)
class Intelligence:
    extractor: FactExtractor
    decider: Decider
    summarizer: Summarizer


def build_intelligence(llm: LLM | None) -> Intelligence:
    if llm is None:
        return Intelligence(OfflineExtractor(), OfflineDecider(), OfflineSummarizer())
    return Intelligence(LLMExtractor(llm), LLMDecider(llm), LLMSummarizer(llm))


def build_jobs(settings: Settings, store: Store) -> Jobs:
    """The task queue, webhooks and message batches live in the store's own database."""
    config = settings.jobs
    queue, hooks, batches = build_job_tables(store, config.max_attempts)
    hook_config = settings.webhooks
    deliverer = WebhookDeliverer(
        hooks, allow_private=hook_config.allow_private, timeout_s=hook_config.timeout_s
    )
    registry = TaskRegistry()
    registry.register(DELIVER_TASK, deliverer.deliver)
    worker = None
    if config.workers_in_process > 0:
        worker = Worker(queue, registry, WorkerOptions.of(config, config.workers_in_process))
    webhooks = WebhookService(
        hooks,
        queue,
        default_namespace=settings.default_namespace,
        allow_private=hook_config.allow_private,
        max_per_namespace=hook_config.max_webhooks_per_namespace,
        max_attempts=hook_config.max_attempts,
    )
    return Jobs(queue, registry, worker, webhooks, deliverer, batches)


def build_job_tables(store: Store, max_attempts: int) -> tuple[TaskQueue, WebhookStore, BatchStore]:
    """Tasks, webhooks and batches on the store's own database (a PostgreSQL store's pool is
    shared by every replica and `mnemo worker`, so they share one queue)."""
    from mnemo.stores.postgres import PostgresStore
    from mnemo.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from mnemo.jobs.sqlite_queue import SQLiteTaskQueue
        from mnemo.stores.sqlite_batches import SQLiteBatchStore
        from mnemo.stores.sqlite_webhooks import SQLiteWebhookStore

        queue: TaskQueue = SQLiteTaskQueue(store.db, default_max_attempts=max_attempts)
        return queue, SQLiteWebhookStore(store.db), SQLiteBatchStore(store.db)
    if isinstance(store, PostgresStore):
        from mnemo.jobs.postgres_queue import PostgresTaskQueue
        from mnemo.stores.postgres_batches import PostgresBatchStore
        from mnemo.stores.postgres_webhooks import PostgresWebhookStore

        queue = PostgresTaskQueue(store.db, default_max_attempts=max_attempts)
        return queue, PostgresWebhookStore(store.db), PostgresBatchStore(store.db)
    raise ConfigurationError(f"no task queue for a {type(store).__name__}")


def build_rate_limiter(settings: Settings) -> RateLimiter | None:
    if not settings.rate_limits.enabled:
        return None
    return RateLimiter(settings.rate_limits.tiers, settings.redis_url)


def build_counter(embedder: Embedder) -> TokenCounter:
    count = getattr(embedder, "count_tokens", None)
    return TokenCounter(count) if callable(count) else TokenCounter(estimate_tokens)


def build_services(settings: Settings, embedder: Embedder | None = None) -> Services:
    """Assemble the app's services; tests may pass an already loaded embedder to share it."""
    raw = embedder or build_embedder(settings)
    cached = (
        raw
        if isinstance(raw, CachedEmbedder)
        else CachedEmbedder(raw, settings.embedder.query_cache_size)
    )
    store = build_store(settings, cached.dimension)
    counter = build_counter(raw)
    llm = build_llm(settings)
    brains = build_intelligence(llm)
    jobs = build_jobs(settings, store)
    core = _build_core(settings, store, cached, counter, brains, jobs)
    seed004 = build_seed004(
        settings, queue=jobs.queue, batches=jobs.batches, memories=core.memories,
        extraction=core.extraction, summarizer=brains.summarizer, deliverer=jobs.deliverer,
        events=jobs.webhooks, uses_llm=llm is not None,
    )  # fmt: skip
    seed004.register(jobs.registry)
    forgetting = ForgettingService(store, core.memories, cached)
    periodic = PeriodicForgetting(jobs.queue, forgetting, settings.forgetting)
    jobs.registry.register(PERIODIC_FORGET_TASK, periodic.handle)
    operator_key = settings.api_key.get_secret_value() if settings.api_key else None
    services = Services(
        settings=settings,
        store=store,
        embedder=cached,
        counter=counter,
        authenticator=Authenticator(store, operator_key, settings.dev_key_enabled),
        memories=core.memories,
        sessions=core.sessions,
        search=core.search,
        prompt=PromptService(core.sessions, core.search, counter),
        recorder=core.recorder,
        llm=llm,
        extraction=core.extraction,
        summarizer=brains.summarizer,
        chat=ChatService(core.sessions, core.search, llm),
        jobs=jobs,
        patterns=core.patterns,
        seed004=seed004,
        metrics=core.metrics,
        rate_limiter=build_rate_limiter(settings),
        forgetting=forgetting,
        periodic_forgetting=periodic,
        stats=StatsService(core.memories, core.sessions, core.patterns),
    )
    services.jobs.registry.load_modules(settings.jobs.extra_task_modules, services)
    return services


@dataclass(frozen=True)
class _Core:
    memories: MemoryService
    sessions: WorkingMemoryService
    extraction: ExtractionService
    patterns: PatternService
    search: SearchService
    recorder: AccessRecorder
    metrics: Metrics


def _build_core(
    settings: Settings,
    store: Store,
    embedder: CachedEmbedder,
    counter: TokenCounter,
    brains: Intelligence,
    jobs: Jobs,
) -> _Core:
    """The memory services, with background extraction wired to the task queue."""
    ns, events = settings.default_namespace, jobs.webhooks
    consolidator = Consolidator(store, embedder, brains.decider, actor=brains.extractor.name)
    contexts = ContextWindows(store, embedder)
    extraction = ExtractionService(store, brains.extractor, consolidator, ns, contexts)

    async def extract_before_fold(session: Session, pending: list[Message]) -> None:
        owner = Owner(session.namespace, session.user_id, session.session_id, session.agent_id)
        await extraction.extract_messages(owner, pending)

    sessions = WorkingMemoryService(
        store, embedder, counter, ns, brains.summarizer, extract_before_fold, events
    )
    memories = MemoryService(store, embedder, ns, events)
    patterns = PatternService(memories, store, ns)
    scheduler = ExtractionScheduler(
        jobs.queue, extraction, events, settings.jobs.extraction_debounce_s, patterns
    )
    jobs.registry.register(EXTRACT_TASK, scheduler.handle)
    sessions.trigger = scheduler
    recorder, metrics = AccessRecorder(store), Metrics()
    retriever = Retriever(store, embedder, settings.retrieval.rerank_window)
    search = SearchService(retriever, recorder, metrics.search_latency.observe)
    return _Core(memories, sessions, extraction, patterns, search, recorder, metrics)
