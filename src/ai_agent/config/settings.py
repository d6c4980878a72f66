"""Configuration of ai-agent: typed settings from environment variables and ``.env``.

Usage::

    from ai_agent.config.settings import ConfigurationValidator, get_settings

    settings = get_settings()                    # ENVIRONMENT, else development
    ConfigurationValidator.validate_or_exit(settings)
    settings.database.url                        # postgresql://postgres:***@localhost:5432/...
    settings.selected_backend                    # StorageBackend.MEMORY in development

Sections and their variables: ``database`` (``DB_*``, also ``DATABASE_*``, or
``DATABASE_URL``), ``redis`` (``REDIS_*`` or ``REDIS_URL``), ``retry`` (``RETRY_*``),
``circuit_breaker`` (``CIRCUIT_BREAKER_*``), ``rate_limit`` (``RATE_LIMIT_*``),
``security`` (``SECURITY_*``), ``observability`` (``OBSERVABILITY_*``) and ``features``
(``FEATURE_ENABLE_*``). Real environment variables win over ``.env``; a bad value raises
``ConfigurationError`` naming the variable. Only entry points call ``get_settings``;
library code receives settings as arguments.
"""

from __future__ import annotations

from functools import lru_cache

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import Environment, StorageBackend
from ai_agent.config.connections import DatabaseSettings, RedisSettings
from ai_agent.config.environments import (
    DevelopmentSettings,
    ProductionSettings,
    StagingSettings,
    TestingSettings,
)
from ai_agent.config.errors import ConfigurationError
from ai_agent.config.loader import load_settings
from ai_agent.config.sections import (
    CircuitBreakerSettings,
    FeatureFlags,
    ObservabilitySettings,
    RateLimitSettings,
    RetentionSettings,
    RetrySettings,
    SecuritySettings,
)
from ai_agent.config.validation import ConfigurationValidator

__all__ = [
    "ApplicationSettings",
    "CircuitBreakerSettings",
    "ConfigurationError",
    "ConfigurationValidator",
    "DatabaseSettings",
    "DevelopmentSettings",
    "Environment",
    "FeatureFlags",
    "ObservabilitySettings",
    "ProductionSettings",
    "RateLimitSettings",
    "RedisSettings",
    "RetentionSettings",
    "RetrySettings",
    "SecuritySettings",
    "StagingSettings",
    "StorageBackend",
    "TestingSettings",
    "get_settings",
    "load_settings",
]


@lru_cache(maxsize=8)
def get_settings(environment: str | None = None) -> ApplicationSettings:
    """The settings of ``environment``, else of ``ENVIRONMENT``, else of development.

    Cached per argument; ``get_settings.cache_clear()`` reloads. Reads the environment
    and ``./.env`` and nothing else; changes nothing.

    Raises:
        ConfigurationError: an unknown environment or a malformed value (one line each).
    """
    return load_settings(environment)
