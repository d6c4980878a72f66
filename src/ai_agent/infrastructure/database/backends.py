"""Which backends exist, where each lives, and what it needs installed.

Each backend is imported on first use, so a missing optional driver matters only for the
backend that needs it, and then as an error that names the extra to install. The factory
builds repositories from this table; migrations check a driver here before SQLAlchemy
reaches it.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_agent.extras import MissingExtraError, install_hint
from ai_agent.infrastructure.database.errors import RepositoryError

if TYPE_CHECKING:
    from ai_agent.infrastructure.database.base import BaseRepository

__all__ = ["BACKEND_NAMES", "BackendSpec", "MissingDriverError", "load_backend", "require_driver"]

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
        # aiosqlite is a dependency of the base install: no extra brings it.
        "sqlite",
        f"{_PACKAGE}.sqlite:SQLiteRepository",
        None,
        ("aiosqlite",),
    ),
    "redis": BackendSpec("redis", f"{_PACKAGE}.redis:RedisRepository", "redis", ("redis",)),
    "postgresql": BackendSpec(
        "postgresql", f"{_PACKAGE}.postgresql:PostgreSQLRepository", "postgresql", ("asyncpg",)
    ),
}

BACKEND_NAMES: tuple[str, ...] = tuple(_BACKENDS)


class MissingDriverError(RepositoryError, MissingExtraError):
    """A backend's optional driver is not installed; the message names the extra."""


def _spec(name: str) -> BackendSpec:
    spec = _BACKENDS.get(name)
    if spec is None:
        raise RepositoryError(
            f"unknown storage backend {name!r}; expected one of {', '.join(_BACKENDS)}"
        )
    return spec


def _missing_driver(spec: BackendSpec, driver: str) -> MissingDriverError:
    # Without an extra the driver belongs to the base install, which is then incomplete.
    hint = install_hint(spec.extra) if spec.extra else f"pip install {driver}"
    return MissingDriverError(
        f"the {spec.name} backend needs the {driver} driver, which is not installed; "
        f"install it with: {hint}",
        extra=spec.extra or "",
        module=driver,
    )


def require_driver(name: str) -> None:
    """Raise :class:`MissingDriverError` when backend ``name``'s driver is not installed.

    For code that reaches a driver other than through the repository class (migrations
    run asyncpg through SQLAlchemy): it checks without importing.
    """
    spec = _spec(name)
    for driver in spec.drivers:
        if importlib.util.find_spec(driver) is None:
            raise _missing_driver(spec, driver)


def load_backend(name: str) -> type[BaseRepository]:
    """Import and return the repository class of backend ``name``."""
    spec = _spec(name)
    module_name, _, class_name = spec.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        if spec.drivers and missing in spec.drivers:
            raise _missing_driver(spec, missing) from exc
        raise
    backend: type[BaseRepository] = getattr(module, class_name)
    return backend
