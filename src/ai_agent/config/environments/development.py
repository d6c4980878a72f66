"""Development: no servers needed (in-memory storage), verbose console logs,
a development-only secret key, debug on."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, SecretStr

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import CaseInsensitive, Environment, with_defaults
from ai_agent.config.connections import DatabaseSettings
from ai_agent.config.sections import (
    DEVELOPMENT_SECRET_KEY,
    FeatureFlags,
    ObservabilitySettings,
    SecuritySettings,
)

__all__ = ["DevelopmentSettings"]

DevelopmentDatabaseSettings = with_defaults(
    DatabaseSettings, "DevelopmentDatabaseSettings", min_pool_size=1, max_pool_size=5
)
DevelopmentSecuritySettings = with_defaults(
    SecuritySettings,
    "DevelopmentSecuritySettings",
    secret_key=SecretStr(DEVELOPMENT_SECRET_KEY),
    cors_origins=["http://localhost:3000", "http://localhost:5173"],
)
DevelopmentObservabilitySettings = with_defaults(
    ObservabilitySettings,
    "DevelopmentObservabilitySettings",
    log_level="DEBUG",
    log_format="console",
    tracing_sample_rate=1.0,
)
DevelopmentFeatureFlags = with_defaults(
    FeatureFlags, "DevelopmentFeatureFlags", enable_debug_endpoints=True
)


class DevelopmentSettings(ApplicationSettings):
    """Defaults for a developer's machine."""

    pinned_environment: ClassVar[Environment | None] = Environment.DEVELOPMENT

    environment: Annotated[Environment, CaseInsensitive] = Environment.DEVELOPMENT
    debug: bool = True

    database: DatabaseSettings = Field(default_factory=DevelopmentDatabaseSettings)
    security: SecuritySettings = Field(default_factory=DevelopmentSecuritySettings)
    observability: ObservabilitySettings = Field(default_factory=DevelopmentObservabilitySettings)
    features: FeatureFlags = Field(default_factory=DevelopmentFeatureFlags)
