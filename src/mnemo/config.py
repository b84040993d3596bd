"""Settings: one nested config per adapter, read from MNEMO_* (and the seeds') variables."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_API_KEY = "dev-key-12345"


class EmbedderConfig(BaseModel):
    provider: Literal["local", "openai"] = "local"
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
    max_body_bytes: int = 1_048_576
    max_text_bytes: int = 32_768
    max_page_size: int = 100
    max_messages_per_request: int = 1_000
    max_memories_per_request: int = 1_000
    max_ids_per_request: int = 1_000


class RetrievalConfig(BaseModel):
    """Defaults of the hybrid search; every one can be overridden per request."""

    vector_weight: float = 0.6
    keyword_weight: float = 0.4
    keyword_candidates: int = 200
    rerank_window: int = 200


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
    log_level: str = "info"
    embedder: EmbedderConfig = EmbedderConfig()
    llm: LLMConfig = LLMConfig()
    limits: LimitsConfig = LimitsConfig()
    retrieval: RetrievalConfig = RetrievalConfig()

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
