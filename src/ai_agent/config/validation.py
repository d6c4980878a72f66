"""Policy checks on loaded settings: what must hold before the application starts.

Loading only checks types and ranges; ``ConfigurationValidator`` checks policy. Rules
for every environment keep related values consistent; staging and production add the
deployment rules (a real secret key, debug off, no ``*`` CORS origin, a database
password when PostgreSQL is used, persistent storage). Messages never show a secret.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from pydantic import SecretStr

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import StorageBackend
from ai_agent.config.sections import DEVELOPMENT_SECRET_KEY, SERVICES

__all__ = ["MIN_SECRET_KEY_LENGTH", "PLACEHOLDER_MARKERS", "ConfigurationValidator"]

MIN_SECRET_KEY_LENGTH = 32
# A secret key containing any of these (case-insensitive) is a placeholder.
PLACEHOLDER_MARKERS = ("change", "your-", "example", "secret-key")
_PASSWORD_PLACEHOLDERS = ("changeme", "change_me", "change-me")

Rule = Callable[[ApplicationSettings], Iterator[str]]


def _consistent_pool(settings: ApplicationSettings) -> Iterator[str]:
    db = settings.database
    if db.max_pool_size < db.min_pool_size:
        yield (
            f"DB_MAX_POOL_SIZE ({db.max_pool_size}) is smaller than "
            f"DB_MIN_POOL_SIZE ({db.min_pool_size})."
        )


def _consistent_retry_delays(settings: ApplicationSettings) -> Iterator[str]:
    for service in SERVICES:
        policy = settings.retry.policy(service)
        if policy.base_delay > policy.max_delay:
            prefix = f"RETRY_{service.upper()}"
            yield (
                f"{prefix}_BASE_DELAY ({policy.base_delay}) is greater than "
                f"{prefix}_MAX_DELAY ({policy.max_delay})."
            )


def _missing_directory(variable: str, path: Path) -> Iterator[str]:
    directory = path.expanduser().parent
    if not directory.is_dir():
        yield f"{variable} points into {str(directory)!r}, which is not an existing directory."


def _usable_database_file(variable: str, path: Path) -> Iterator[str]:
    """A path `ai-agent db migrate` can create: missing directories are fine (it makes
    them), a file or directory in the way is not."""
    path = path.expanduser()
    if path.is_dir():
        yield f"{variable} is {str(path)!r}, a directory; it must name a database file."
        return
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                yield f"{variable} points into {str(ancestor)!r}, which is a file, not a directory."
            return


def _writable_paths(settings: ApplicationSettings) -> Iterator[str]:
    if settings.selected_backend is StorageBackend.SQLITE:
        yield from _usable_database_file("SQLITE_PATH", settings.sqlite_path)
    if settings.observability.log_file is not None:
        yield from _missing_directory("OBSERVABILITY_LOG_FILE", settings.observability.log_file)


def _redis_cluster_database(settings: ApplicationSettings) -> Iterator[str]:
    if settings.redis.cluster_mode and settings.redis.db != 0:
        yield (
            f"REDIS_DB is {settings.redis.db} but REDIS_CLUSTER_MODE is on; "
            "Redis Cluster has only database 0."
        )


def _secret_key(settings: ApplicationSettings) -> Iterator[str]:
    secret = settings.security.secret_key
    key = secret.get_secret_value() if secret is not None else ""
    if not key.strip():
        yield (
            "SECURITY_SECRET_KEY is not set; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
        return
    if key == DEVELOPMENT_SECRET_KEY:
        yield "SECURITY_SECRET_KEY is the development-only default; set a random key."
        return
    if any(marker in key.lower() for marker in PLACEHOLDER_MARKERS):
        yield "SECURITY_SECRET_KEY looks like a placeholder; set a random key."
    if len(key) < MIN_SECRET_KEY_LENGTH:
        yield (
            f"SECURITY_SECRET_KEY is {len(key)} characters long; "
            f"it must be at least {MIN_SECRET_KEY_LENGTH}."
        )


def _debug_off(settings: ApplicationSettings) -> Iterator[str]:
    if settings.debug:
        yield f"DEBUG is on; turn it off in {settings.environment.value}."
    if settings.features.enable_debug_endpoints:
        yield f"FEATURE_ENABLE_DEBUG_ENDPOINTS is on; turn it off in {settings.environment.value}."


def _cors(settings: ApplicationSettings) -> Iterator[str]:
    if "*" in (origin.strip() for origin in settings.security.cors_origins):
        yield "SECURITY_CORS_ORIGINS contains '*'; list the allowed origins instead."


def _is_placeholder_password(password: SecretStr) -> bool:
    folded = password.get_secret_value().lower()
    return any(marker in folded for marker in _PASSWORD_PLACEHOLDERS)


def _storage(settings: ApplicationSettings) -> Iterator[str]:
    backend = settings.selected_backend
    if backend is StorageBackend.MEMORY:
        yield (
            "Storage is in-memory and loses every session on restart; set "
            "STORAGE_BACKEND (postgresql, redis or sqlite) or USE_DATABASE / USE_REDIS."
        )
    password = settings.database.password
    if backend is StorageBackend.POSTGRESQL:
        if password is None or not password.get_secret_value():
            yield "DB_PASSWORD is not set but PostgreSQL is the storage backend."
        elif _is_placeholder_password(password):
            yield "DB_PASSWORD looks like a placeholder; set the real password."
    redis_password = settings.redis.password
    uses_redis = backend is StorageBackend.REDIS or settings.use_redis
    if uses_redis and redis_password is not None and _is_placeholder_password(redis_password):
        yield "REDIS_PASSWORD looks like a placeholder; set the real password."


_EVERY_ENVIRONMENT: tuple[Rule, ...] = (
    _consistent_pool,
    _consistent_retry_delays,
    _writable_paths,
    _redis_cluster_database,
)
_DEPLOYED: tuple[Rule, ...] = (_secret_key, _debug_off, _cors, _storage)


class ConfigurationValidator:
    """Checks settings against policy before the application starts."""

    @staticmethod
    def validate_settings(settings: ApplicationSettings) -> list[str]:
        """Every problem found, one sentence each; empty when the settings are valid."""
        rules = _EVERY_ENVIRONMENT
        if settings.is_production or settings.is_staging:
            rules += _DEPLOYED
        return [problem for rule in rules for problem in rule(settings)]

    @staticmethod
    def validate_or_exit(settings: ApplicationSettings) -> None:
        """Return when valid; otherwise print every problem to stderr and exit with 1."""
        problems = ConfigurationValidator.validate_settings(settings)
        if problems:
            _exit_with(settings, problems)


def _exit_with(settings: ApplicationSettings, problems: list[str]) -> NoReturn:
    print(f"Invalid configuration for {settings.environment.value}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    raise SystemExit(1)
