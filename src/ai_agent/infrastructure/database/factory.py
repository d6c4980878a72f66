"""Repository factory: settings or a URL in, the selected (unconnected) backend out.

A URL's scheme names the backend, and :mod:`.backends` imports it on first use: a missing
optional driver matters only for the backend that needs it, and then as an error that names
the extra to install. There is never a silent downgrade to memory.

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
from typing import TYPE_CHECKING, Any

from ai_agent.config.urls import shown_url
from ai_agent.infrastructure.database.backends import (
    BACKEND_NAMES,
    BackendSpec,
    MissingDriverError,
    load_backend,
    require_driver,
)
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import (
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.telemetry import Telemetry

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ai_agent.config.settings import ApplicationSettings

__all__ = [
    "BackendSpec",
    "MissingDriverError",
    "RepositoryFactory",
    "cleanup_repository",
    "get_repository",
    "load_backend",
    "open_checked",
    "require_driver",
    "setup_repository",
]

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


_URL_EXAMPLES = (
    "memory://, sqlite:///relative.db, sqlite:////absolute/path.db, redis://host:6379/0 "
    "(rediss:// for TLS), postgresql://user:password@host/name"
)


def _unsupported(url: str) -> RepositoryError:
    """What was given (password masked), the schemes accepted, and a likely fix."""
    shown = shown_url(url)
    scheme, colon, rest = shown.partition(":")
    hint = ""
    if colon and not rest.startswith("//") and scheme.lower() in _SCHEMES:
        # "sqlite:agent.db": a known scheme without its slashes.
        slashes = "///" if _SCHEMES[scheme.lower()] == "sqlite" else "//"
        hint = f"; did you mean '{scheme}:{slashes}{rest}'?"
    return RepositoryError(
        f"unsupported repository URL {shown!r}: expected one of the schemes "
        f"{', '.join(sorted(_SCHEMES))}, as in {_URL_EXAMPLES}{hint}"
    )


class RepositoryFactory:
    """Builds repositories from settings or URLs; never connects or migrates them."""

    @staticmethod
    def create_repository(
        settings: ApplicationSettings, *, registry: CollectorRegistry | None = None
    ) -> BaseRepository:
        """The backend the settings select (``STORAGE_BACKEND``, else the seed's priority),
        measured and traced as ``settings.observability`` says (``OBSERVABILITY_METRICS_*``,
        ``_TRACING_*``), on ``registry`` (default: prometheus_client's)."""
        repository = _selected(settings)
        repository.telemetry = Telemetry.from_settings(settings.observability, registry)
        return repository

    @staticmethod
    def from_url(url: str, *, telemetry: Telemetry | None = None, **options: Any) -> BaseRepository:
        """A backend from a URL: ``memory://``, ``sqlite:///path``, ``redis[s]://...``,
        ``postgresql://...``; ``options`` override the URL's settings (pool sizes, ...);
        ``telemetry`` replaces the default one (metrics on the default registry)."""
        scheme = url.partition("://")[0].lower() if "://" in url else ""
        backend = _SCHEMES.get(scheme)
        if backend is None:
            raise _unsupported(url)
        repository_class = load_backend(backend)
        if backend == "memory":
            repository: BaseRepository = repository_class()
        else:
            from_url = getattr(repository_class, "from_url")  # noqa: B009 - every server backend has one
            repository = from_url(url, **options)
        if telemetry is not None:
            repository.telemetry = telemetry
        return repository

    @staticmethod
    def backends() -> tuple[str, ...]:
        """The names of every known backend."""
        return BACKEND_NAMES


def _selected(settings: ApplicationSettings) -> BaseRepository:
    backend = str(settings.selected_backend)
    repository_class = load_backend(backend)
    if backend == "memory":
        return repository_class()
    if backend == "sqlite":
        return repository_class(  # type: ignore[call-arg]
            settings.sqlite_path,
            synchronous=settings.sqlite_synchronous,
            busy_timeout=settings.sqlite_busy_timeout,
        )
    if backend == "redis":
        repository = repository_class(settings.redis)  # type: ignore[call-arg]
        repository.retry_policy = settings.retry.policy("redis")
        return repository
    repository = repository_class(settings.database)  # type: ignore[call-arg]
    repository.retry_policy = settings.retry.policy("db")
    return repository


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


async def setup_repository(
    settings: ApplicationSettings, *, registry: CollectorRegistry | None = None
) -> BaseRepository:
    """Create, connect and health-check the selected backend and make it current
    (metrics on ``registry``, default prometheus_client's: see ``create_repository``).

    Raises:
        RepositoryConnectionError: the backend cannot be reached (names backend and the
            redacted URL).
        RepositoryError: the database schema is behind; the message says to run
            ``ai-agent db migrate``.
    """
    global _current
    repository = RepositoryFactory.create_repository(settings, registry=registry)
    await _connect_checked(repository)
    previous, _current = _current, repository
    if previous is not None:
        await previous.disconnect()
    return repository


async def open_checked(repository: BaseRepository) -> None:
    """Connect ``repository`` and check it as ``setup_repository`` does (it answers, its
    schema is at head), without making it current; it is disconnected again on failure."""
    await _connect_checked(repository)


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
