"""Settings: one nested config per adapter, read from MNEMO_* (and the seeds') variables."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_API_KEY = "dev-key-12345"


class EmbedderConfig(BaseModel):
    provider: Literal["local", "openai"] = "local"
    # The local model's forward pass; auto = onnx (onnxruntime) when importable, else numpy.
    backend: Literal["auto", "onnx", "numpy"] = "auto"
    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    dimension: int = 384
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 30.0
    query_cache_size: int = 2048


class LLMConfig(BaseModel):
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 30.0
    max_retries: int = 2


class LimitsConfig(BaseModel):
    """Caps on what one request (or one namespace) may ask for; over a cap is a clear 4xx."""

    max_body_bytes: int = Field(1_048_576, ge=1)
    max_text_bytes: int = Field(32_768, ge=1)
    max_page_size: int = Field(100, ge=1)
    max_messages_per_request: int = Field(1_000, ge=1)
    max_memories_per_request: int = Field(1_000, ge=1)
    max_ids_per_request: int = Field(1_000, ge=1)
    # Values one search filter compares against (list items, metadata keys, operators); the
    # DSL is flat (field -> operator -> value), so this, not depth, bounds a filter's cost.
    max_filter_clauses: int = Field(100, ge=1)
    max_keys_per_namespace: int = Field(100, ge=1)  # active (unrevoked) stored keys


class RetrievalConfig(BaseModel):
    """Defaults of the hybrid search, tuned on LoCoMo's development split only
    (bench/locomo_offline.py); hybrid_alpha re-balances vector against keyword per request.

    Four signals are fused: cosine and BM25 over a memory's own index text, and over its
    context window (the turns around a message; retrieval/documents.py); then each memory
    takes `neighbour_weight` of its best neighbouring turn's relevance.
    """

    vector_weight: float = 0.4
    keyword_weight: float = 0.2
    context_vector_weight: float = 0.25
    context_keyword_weight: float = 0.3
    neighbour_weight: float = 0.1
    keyword_floor: float = 5.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.3  # turns' length says little about their relevance: 0.75 ranked worse
    keyword_candidates: int = 200
    rerank_window: int = 50


class JobsConfig(BaseModel):
    """Background tasks: in-process workers, leases, retries, debouncing."""

    workers_in_process: int = Field(1, ge=0)  # 0: only `mnemo worker` processes run tasks
    poll_interval_s: float = Field(0.5, gt=0)
    lease_s: float = Field(30.0, gt=0)  # a crashed worker's task is retried after this
    max_attempts: int = Field(5, ge=1)
    backoff_base_s: float = Field(2.0, ge=0)
    backoff_max_s: float = Field(600.0, ge=0)
    task_timeout_s: float = Field(300.0, gt=0)
    shutdown_grace_s: float = Field(10.0, ge=0)
    extraction_debounce_s: float = Field(30.0, ge=0)
    # Modules defining register_tasks(registry, services); env: comma-separated or JSON list.
    extra_task_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("extra_task_modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value


class WebhooksConfig(BaseModel):
    allow_private: bool = False  # loopback/private/link-local targets (tests, trusted LANs)
    max_webhooks_per_namespace: int = Field(25, ge=0)
    max_attempts: int = Field(3, ge=1)  # seed 004: 3 attempts with exponential backoff
    timeout_s: float = Field(10.0, gt=0)


def _default_tiers() -> dict[str, str]:
    # Seed 002: 100 requests a minute with bursts of at most 20 in 10 s; seed 003's premium
    # tier 1000 a minute. Operator keys (API_KEY, the dev key) are not limited by default.
    return {
        "standard": "100/minute; 20/10 seconds",
        "premium": "1000/minute; 200/10 seconds",
        "free": "10/minute",
        "operator": "",
    }


class RateLimitsConfig(BaseModel):
    enabled: bool = True
    tiers: dict[str, str] = Field(default_factory=_default_tiers)


class ForgettingConfig(BaseModel):
    """The periodic forgetting pass of seed 001; off unless enabled."""

    enabled: bool = False
    every_minutes: float = Field(60.0, gt=0)
    max_age_days: float | None = None
    max_inactive_days: float | None = None
    budget_keep_top_n: int | None = None
    scan_limit: int = Field(10_000, ge=1)


class ObservabilityConfig(BaseModel):
    json_logs: bool = True
    metrics_enabled: bool = True


class Settings(BaseSettings):
    """Everything mnemo reads from its environment; built once, passed down explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="MNEMO_",
        env_nested_delimiter="__",
        populate_by_name=True,
        extra="ignore",
    )

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("MNEMO_HOST", "HOST", "host"))
    port: int = Field(8000, validation_alias=AliasChoices("MNEMO_PORT", "PORT", "port"))
    # `mnemo serve` processes sharing the port (Python runs one request's code at a time per
    # process; past ~1 busy core, a second process halves the tail: cli/serving.py).
    workers: int = Field(
        1, ge=1, le=64, validation_alias=AliasChoices("MNEMO_WORKERS", "WEB_CONCURRENCY", "workers")
    )
    data_dir: Path = Field(
        Path("./mnemo-data"), validation_alias=AliasChoices("MNEMO_DATA_DIR", "data_dir")
    )
    api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("MNEMO_API_KEY", "API_KEY", "api_key")
    )
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("MNEMO_DATABASE_URL", "DATABASE_URL", "database_url")
    )
    postgres_host: str | None = Field(None, validation_alias=AliasChoices("POSTGRES_HOST"))
    postgres_port: int = Field(5432, validation_alias=AliasChoices("POSTGRES_PORT"))
    postgres_db: str = Field("memory_agent", validation_alias=AliasChoices("POSTGRES_DB"))
    postgres_user: str = Field("postgres", validation_alias=AliasChoices("POSTGRES_USER"))
    postgres_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("POSTGRES_PASSWORD")
    )
    default_namespace: str = "default"
    # Seed 004: the exact message count of an add, and the message batcher's window.
    message_batch_size: int = Field(
        10,
        ge=1,
        le=1_000,
        validation_alias=AliasChoices(
            "MNEMO_MESSAGE_BATCH_SIZE", "OMNIMEMORY_DEFAULT_MAX_MESSAGES", "message_batch_size"
        ),
    )
    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("MNEMO_REDIS_URL", "REDIS_URL", "redis_url")
    )
    cors_origins: list[str] = Field(default_factory=list)
    rate_limits: RateLimitsConfig = RateLimitsConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    forgetting: ForgettingConfig = ForgettingConfig()
    log_level: str = "info"
    embedder: EmbedderConfig = EmbedderConfig()
    llm: LLMConfig = LLMConfig()
    limits: LimitsConfig = LimitsConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    jobs: JobsConfig = JobsConfig()
    webhooks: WebhooksConfig = WebhooksConfig()

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "mnemo.db"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def dev_key_enabled(self) -> bool:
        """The seed's development key works only while nobody else can reach the server."""
        return self.is_loopback and self.api_key is None

    def resolved_database_url(self) -> str | None:
        """The PostgreSQL URL, from MNEMO_DATABASE_URL or seed 000's POSTGRES_* variables."""
        if self.database_url:
            return self.database_url
        if not self.postgres_host:
            return None
        password = self.postgres_password.get_secret_value() if self.postgres_password else ""
        auth = f"{self.postgres_user}:{password}@" if password else f"{self.postgres_user}@"
        return f"postgresql://{auth}{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"


def is_loopback_host(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
