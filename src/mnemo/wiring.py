"""The only place that maps configuration to adapters and assembles the services."""

from __future__ import annotations

from dataclasses import dataclass

from mnemo.auth.authenticator import Authenticator
from mnemo.config import Settings
from mnemo.embedders.base import Embedder
from mnemo.embedders.cache import CachedEmbedder
from mnemo.errors import ConfigurationError
from mnemo.retrieval.pipeline import Retriever
from mnemo.services.memories import MemoryService
from mnemo.services.prompt import PromptService
from mnemo.services.search import AccessRecorder, SearchService
from mnemo.services.tokens import TokenCounter, estimate_tokens
from mnemo.services.working_memory import WorkingMemoryService
from mnemo.stores.base import Store


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

    async def start(self) -> None:
        await self.store.open()
        await self.store.ensure_embedding_model(self.embedder.model_name, self.embedder.dimension)
        await self.recorder.start()

    async def stop(self) -> None:
        await self.recorder.stop()
        await self.store.close()


def build_embedder(settings: Settings) -> Embedder:
    config = settings.embedder
    if config.provider == "local":
        from mnemo.embedders.local import LocalEmbedder

        return LocalEmbedder()
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
    recorder = AccessRecorder(store)
    ns = settings.default_namespace
    sessions = WorkingMemoryService(store, cached, counter, ns)
    search = SearchService(Retriever(store, cached, settings.retrieval.rerank_window), recorder)
    operator_key = settings.api_key.get_secret_value() if settings.api_key else None
    return Services(
        settings=settings,
        store=store,
        embedder=cached,
        counter=counter,
        authenticator=Authenticator(store, operator_key, settings.dev_key_enabled),
        memories=MemoryService(store, cached, ns),
        sessions=sessions,
        search=search,
        prompt=PromptService(sessions, search, counter),
        recorder=recorder,
    )
