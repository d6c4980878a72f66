"""Repositories: one contract, four storage backends, a factory and health monitoring.

Backends load lazily, so a missing optional driver only matters when that backend is used::

    from ai_agent.infrastructure.database import setup_repository

    repository = await setup_repository(settings)
    session = await repository.create_session(Session(user_id="user-1"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    OperationDisabledError,
    RepositoryConnectionError,
    RepositoryError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.exports import lazy_exports
from ai_agent.infrastructure.database.telemetry import Telemetry

if TYPE_CHECKING:  # the lazily loaded names, for type checkers
    from ai_agent.infrastructure.database.factory import (
        RepositoryFactory,
        cleanup_repository,
        get_repository,
        setup_repository,
    )
    from ai_agent.infrastructure.database.health import RepositoryHealthMonitor
    from ai_agent.infrastructure.database.memory import InMemoryRepository
    from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
    from ai_agent.infrastructure.database.redis import RedisRepository
    from ai_agent.infrastructure.database.sqlite import SQLiteRepository

__all__ = [
    "BaseRepository",
    "ConflictError",
    "DuplicateError",
    "InMemoryRepository",
    "NotFoundError",
    "OperationDisabledError",
    "PostgreSQLRepository",
    "RedisRepository",
    "Repository",
    "RepositoryConnectionError",
    "RepositoryError",
    "RepositoryFactory",
    "RepositoryHealthMonitor",
    "RepositoryValidationError",
    "SQLiteRepository",
    "Telemetry",
    "cleanup_repository",
    "get_repository",
    "setup_repository",
]

_LAZY = {
    "InMemoryRepository": "memory",
    "SQLiteRepository": "sqlite",
    "RedisRepository": "redis",
    "PostgreSQLRepository": "postgresql",
    "RepositoryFactory": "factory",
    "setup_repository": "factory",
    "cleanup_repository": "factory",
    "get_repository": "factory",
    "RepositoryHealthMonitor": "health",
}


__getattr__ = lazy_exports(__name__, _LAZY, globals())
