"""Repository factory: settings or a URL in, the selected (unconnected) backend out.

Backends are resolved through one table of URL scheme -> ``"module:Class"`` and imported
lazily, so a missing optional driver matters only for the backend that needs it, and then
as an error that names the extra to install. There is never a silent downgrade to memory.

Usage::

    from ai_agent.config.settings import get_settings
    from ai_agent.infrastructure.database import (
        RepositoryFactory,
        cleanup_repository,
        get_repository,
        setup_repository,
    )

    settings = get_settings()                       # STORAGE_BACKEND, USE_DATABASE, ...
    repository = RepositoryFactory.create_repository(settings)       # unconnected
    other = RepositoryFactory.from_url("sqlite:///agent.db")         # unconnected too
    repository = await setup_repository(settings)   # connected, health-checked, current
    assert await get_repository() is repository
    await cleanup_repository()                      # disconnects the current one

``setup_repository`` makes the repository *current* for the process (``get_repository``
returns it), closing the previous one.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import (
    RepositoryConnectionError,
    RepositoryError,
)

if TYPE_CHECKING:
    from ai_agent.config.settings import ApplicationSettings

__all__ = [
    "BackendSpec",
    "MissingDriverError",
    "RepositoryFactory",
    "cleanup_repository",
    "get_repository",
    "setup_repository",
]

_PACKAGE = "ai_agent.infrastructure.database"


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs installed."""

    name: str
    target: str  # "module:Class", imported on first use
    extra: str | None  # the pip extra that brings its driver
    drivers: tuple[str, ...] = ()


_BACKENDS = {
    "memory": BackendSpec("memory", f"{_PACKAGE}.memory:InMemoryRepository", None),
    "sqlite": BackendSpec(
        "sqlite", f"{_PACKAGE}.sqlite:SQLiteRepository", "sqlite", ("aiosqlite",)
    ),
    "redis": BackendSpec("redis", f"{_PACKAGE}.redis:RedisRepository", "redis", ("redis",)),
    "postgresql": BackendSpec(
        "postgresql", f"{_PACKAGE}.postgresql:PostgreSQLRepository", "postgresql", ("asyncpg",)
    ),
}

# URL scheme -> backend name.
_SCHEMES = {
    "memory": "memory",
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "redis": "redis",
    "rediss": "redis",
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "postgresql+asyncpg": "postgresql",
}


def _redacted(url: str, scheme: str) -> str:
    """The URL with its password hidden; only the scheme when it does not parse."""
    try:
        return str(make_url(url))
    except (ArgumentError, ValueError):
        return f"{scheme}://..." if scheme else "(not a URL)"


class MissingDriverError(RepositoryError, ImportError):
    """A backend's optional driver is not installed; the message names the extra."""


def load_backend(name: str) -> type[BaseRepository]:
    """Import and return the repository class of backend ``name``."""
    spec = _BACKENDS.get(name)
    if spec is None:
        raise RepositoryError(
            f"unknown storage backend {name!r}; expected one of {', '.join(_BACKENDS)}"
        )
    module_name, _, class_name = spec.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if spec.extra and missing.split(".")[0] in spec.drivers:
            raise MissingDriverError(
                f"the {name} backend needs the {missing.split('.')[0]} driver, which is not "
                f"installed; install it with: pip install 'ai-agent[{spec.extra}]'"
            ) from exc
        raise
    backend: type[BaseRepository] = getattr(module, class_name)
    return backend


class RepositoryFactory:
    """Builds repositories from settings or URLs; never connects or migrates them."""

    @staticmethod
    def create_repository(settings: ApplicationSettings) -> BaseRepository:
        """The backend the settings select (``STORAGE_BACKEND``, else the seed's priority)."""
        backend = str(settings.selected_backend)
        repository_class = load_backend(backend)
        if backend == "memory":
            return repository_class()
        if backend == "sqlite":
            return repository_class(settings.sqlite_path)  # type: ignore[call-arg]
        if backend == "redis":
            repository = repository_class(settings.redis)  # type: ignore[call-arg]
            repository.retry_policy = settings.retry.policy("redis")
            return repository
        repository = repository_class(settings.database)  # type: ignore[call-arg]
        repository.retry_policy = settings.retry.policy("db")
        return repository

    @staticmethod
    def from_url(url: str, **options: Any) -> BaseRepository:
        """A backend from a URL: ``memory://``, ``sqlite:///path``, ``redis[s]://...``,
        ``postgresql://...``; ``options`` override the URL's settings (pool sizes, ...)."""
        scheme = url.partition("://")[0].lower() if "://" in url else ""
        backend = _SCHEMES.get(scheme)
        if backend is None:
            raise RepositoryError(
                f"unsupported repository URL {_redacted(url, scheme)!r}; expected a scheme "
                f"among {', '.join(sorted(_SCHEMES))}"
            )
        repository_class = load_backend(backend)
        if backend == "memory":
            return repository_class()
        from_url = getattr(repository_class, "from_url")  # noqa: B009 - every server backend has one
        repository: BaseRepository = from_url(url, **options)
        return repository

    @staticmethod
    def backends() -> tuple[str, ...]:
        """The names of every known backend."""
        return tuple(_BACKENDS)


_current: BaseRepository | None = None
_setup_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _setup_lock() -> asyncio.Lock:
    # One lock per event loop: an asyncio.Lock is bound to the loop it first waits on.
    loop = asyncio.get_running_loop()
    lock = _setup_locks.get(loop)
    if lock is None:
        for stale in [known for known in _setup_locks if known.is_closed()]:
            del _setup_locks[stale]
        lock = _setup_locks[loop] = asyncio.Lock()
    return lock


async def setup_repository(settings: ApplicationSettings) -> BaseRepository:
    """Create, connect and health-check the selected backend and make it current.

    Raises:
        RepositoryConnectionError: the backend cannot be reached (names backend and the
            redacted URL).
        RepositoryError: the database schema is behind; the message says to run
            ``ai-agent db migrate``.
    """
    global _current
    repository = RepositoryFactory.create_repository(settings)
    await _connect_checked(repository)
    previous, _current = _current, repository
    if previous is not None:
        await previous.disconnect()
    return repository


async def _connect_checked(repository: BaseRepository) -> None:
    where = f"the {repository.backend_name} backend at {repository.display_url}"
    try:
        await repository.connect()
    except RepositoryConnectionError as exc:
        raise RepositoryConnectionError(f"cannot connect to {where}: {exc}") from exc
    try:
        if not await repository.health_check():
            raise RepositoryConnectionError(f"{where} does not answer its health check")
        await _check_schema(repository, where)
    except BaseException:
        await repository.disconnect()
        raise


async def _check_schema(repository: BaseRepository, where: str) -> None:
    schema_revision = getattr(repository, "schema_revision", None)
    if schema_revision is None:
        return
    from ai_agent.infrastructure.database import migrations

    current = await schema_revision()
    head = migrations.head_revision()
    if current != head:
        state = "has no schema" if current is None else f"is at revision {current}"
        raise RepositoryError(
            f"{where} {state}, but this version of ai-agent needs revision {head}; "
            "run `ai-agent db migrate`"
        )


async def cleanup_repository() -> None:
    """Disconnect the current repository, if any, and forget it."""
    global _current
    repository, _current = _current, None
    if repository is not None:
        await repository.disconnect()


async def get_repository(settings: ApplicationSettings | None = None) -> BaseRepository:
    """The current repository; set up from ``settings`` first when there is none."""
    if _current is not None:
        return _current
    if settings is None:
        raise RepositoryError(
            "no repository is set up; call setup_repository(settings) or pass settings"
        )
    async with _setup_lock():  # concurrent first callers share one set-up
        if _current is not None:
            return _current
        return await setup_repository(settings)
