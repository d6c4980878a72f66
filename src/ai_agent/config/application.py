"""``ApplicationSettings``: the application level and every section.

Application-level variables have no prefix (``APP_NAME``, ``ENVIRONMENT``, ``DEBUG``,
``HOST``, ``PORT``, ``WORKERS``, ``STORAGE_BACKEND``, ``USE_DATABASE``, ``USE_REDIS``,
``SQLITE_PATH``, ``FALLBACK_URL``); each section reads its own prefix (``DB_``, ``REDIS_``, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy.engine import URL

from ai_agent import __version__
from ai_agent.config.base import (
    CaseInsensitive,
    Environment,
    LayeredSettings,
    Sources,
    StorageBackend,
    top_level_sources,
)
from ai_agent.config.connections import DatabaseSettings, RedisSettings
from ai_agent.config.resilience import CircuitBreakerSettings, RetrySettings
from ai_agent.config.sections import (
    FeatureFlags,
    ObservabilitySettings,
    RateLimitSettings,
    RetentionSettings,
    SecuritySettings,
)
from ai_agent.config.urls import sqlite_file_path

__all__ = ["ApplicationSettings"]

# "sqlite:..." or "scheme://...": a URL rather than a path ("C:\\data" is a path).
_URL_LIKE = re.compile(r"^(?:sqlite[a-z+]*:|[a-zA-Z][a-zA-Z0-9+.\-]+://)", re.IGNORECASE)


class ApplicationSettings(LayeredSettings):
    """Every setting of the application, read from the environment and ``.env``.

    Construction has no side effects. Environment subclasses (``ProductionSettings``, ...)
    change defaults only; an environment variable always wins, and policy is left to
    ``ConfigurationValidator``.
    """

    # Set by each environment subclass: the class *is* the environment.
    pinned_environment: ClassVar[Environment | None] = None

    app_name: str = Field(default="ai-agent", description="Name the application reports.")
    app_version: str = Field(
        default=__version__, description="Version the application reports (the package's)."
    )
    environment: Annotated[Environment, CaseInsensitive] = Field(
        default=Environment.DEVELOPMENT,
        description="Deployment environment; selects the profile whose defaults apply.",
    )
    debug: bool = Field(default=False, description="Debug mode; refused in staging and production.")

    host: str = Field(default="127.0.0.1", description="Interface the server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    workers: int = Field(default=1, ge=1, description="Server worker processes.")

    storage_backend: Annotated[StorageBackend, CaseInsensitive] = Field(
        default=StorageBackend.AUTO,
        description="Repository backend; `auto`: PostgreSQL if USE_DATABASE, else Redis if "
        "USE_REDIS, else in-memory.",
    )
    use_database: bool = Field(
        default=False, description="With STORAGE_BACKEND=auto: store in PostgreSQL."
    )
    use_redis: bool = Field(
        default=False, description="With STORAGE_BACKEND=auto and USE_DATABASE off: store in Redis."
    )
    sqlite_path: Path = Field(
        default=Path("ai_agent.db"),
        description="SQLite database file (STORAGE_BACKEND=sqlite): a path, relative to the "
        "working directory, or a SQLite URL (sqlite:///relative.db, "
        "sqlite:////absolute/path.db). `ai-agent db migrate` creates the file and its "
        "directory.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite durability (PRAGMA synchronous, in WAL mode): FULL syncs every "
        "commit to disk; NORMAL syncs at checkpoints only, several times faster per write, "
        "and may lose the last commits (never consistency) on power loss or an OS crash.",
    )
    sqlite_busy_timeout: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a SQLite write waits for another connection's write lock "
        "before failing with ConflictError.",
    )
    # A secret: the URL may hold a password (render it with sqlalchemy's make_url to show it
    # redacted). Where RepositoryHealthMonitor fails over to, e.g. sqlite:///fallback.db.
    fallback_url: SecretStr | None = Field(
        default=None,
        description="Fallback repository URL (memory://, sqlite:///path, redis://, "
        "postgresql://) for failover; unset: no fallback.",
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    circuit_breaker: CircuitBreakerSettings = Field(default_factory=CircuitBreakerSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    features: FeatureFlags = Field(default_factory=FeatureFlags)

    @classmethod
    def layered_sources(
        cls, settings_cls: type[BaseSettings], sources: Sources
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return top_level_sources(settings_cls, sources)

    @field_validator("sqlite_path", mode="before")
    @classmethod
    def _sqlite_path_from_url(cls, value: Any) -> Any:
        # The URL form is what `--url` and FALLBACK_URL take: accept it here too.
        if isinstance(value, str) and _URL_LIKE.match(value.strip()):
            try:
                return sqlite_file_path(value)
            except ValueError as exc:
                raise ValueError(f"takes a file path or a SQLite URL; {exc}") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _pin_environment(cls, data: Any) -> Any:
        if cls.pinned_environment is not None and isinstance(data, dict):
            return {**data, "environment": cls.pinned_environment}
        return data

    @classmethod
    def section_classes(cls) -> dict[str, type[BaseSettings]]:
        """Section name -> the settings class this environment builds it from."""
        sections: dict[str, type[BaseSettings]] = {}
        for name, field in cls.model_fields.items():
            factory = field.default_factory
            if isinstance(factory, type) and issubclass(factory, BaseSettings):
                sections[name] = factory
        return sections

    @property
    def selected_backend(self) -> StorageBackend:
        """The storage backend in use; ``auto`` resolves to PostgreSQL if ``use_database``,
        else Redis if ``use_redis``, else memory. Never returns ``auto``."""
        if self.storage_backend is not StorageBackend.AUTO:
            return self.storage_backend
        if self.use_database:
            return StorageBackend.POSTGRESQL
        if self.use_redis:
            return StorageBackend.REDIS
        return StorageBackend.MEMORY

    @property
    def use_memory(self) -> bool:
        """True when the in-memory backend is selected."""
        return self.selected_backend is StorageBackend.MEMORY

    @property
    def sqlite_url(self) -> URL:
        """``sqlite:///<sqlite_path>`` (add a driver with ``url.set(drivername=...)``)."""
        return URL.create("sqlite", database=str(self.sqlite_path))

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def is_staging(self) -> bool:
        return self.environment is Environment.STAGING

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def is_testing(self) -> bool:
        return self.environment is Environment.TESTING
