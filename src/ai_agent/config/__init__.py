"""Configuration: typed settings, environment profiles, feature flags and logging.

The public API lives in :mod:`ai_agent.config.settings`; the most used names are
re-exported here.
"""

from ai_agent.config.settings import (
    ApplicationSettings,
    ConfigurationError,
    ConfigurationValidator,
    Environment,
    StorageBackend,
    get_settings,
)

__all__ = [
    "ApplicationSettings",
    "ConfigurationError",
    "ConfigurationValidator",
    "Environment",
    "StorageBackend",
    "get_settings",
]
