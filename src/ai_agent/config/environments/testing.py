"""Testing: in-memory storage, quiet logs, no metrics or tracing, a development-only
secret key, and names (database, Redis key prefix) apart from development's."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, SecretStr

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import CaseInsensitive, Environment, with_defaults
from ai_agent.config.connections import DatabaseSettings, RedisSettings
from ai_agent.config.sections import DEVELOPMENT_SECRET_KEY, ObservabilitySettings, SecuritySettings

__all__ = ["TestingSettings"]

TestingDatabaseSettings = with_defaults(
    DatabaseSettings,
    "TestingDatabaseSettings",
    name="ai_agent_test",
    min_pool_size=1,
    max_pool_size=5,
)
TestingRedisSettings = with_defaults(
    RedisSettings, "TestingRedisSettings", key_prefix="ai_agent_test"
)
TestingSecuritySettings = with_defaults(
    SecuritySettings, "TestingSecuritySettings", secret_key=SecretStr(DEVELOPMENT_SECRET_KEY)
)
TestingObservabilitySettings = with_defaults(
    ObservabilitySettings,
    "TestingObservabilitySettings",
    log_level="WARNING",
    log_format="console",
    metrics_enabled=False,
    tracing_enabled=False,
)


class TestingSettings(ApplicationSettings):
    """Defaults for automated test runs."""

    __test__ = False  # not a pytest test class

    pinned_environment: ClassVar[Environment | None] = Environment.TESTING

    environment: Annotated[Environment, CaseInsensitive] = Environment.TESTING

    database: DatabaseSettings = Field(default_factory=TestingDatabaseSettings)
    redis: RedisSettings = Field(default_factory=TestingRedisSettings)
    security: SecuritySettings = Field(default_factory=TestingSecuritySettings)
    observability: ObservabilitySettings = Field(default_factory=TestingObservabilitySettings)
