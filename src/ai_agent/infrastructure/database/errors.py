"""The repository error tree.

Every failure a repository reports is one of these; driver exceptions (asyncpg, redis-py,
sqlite3) never escape a repository method: each backend translates them at one boundary and
chains the original with ``raise ... from exc``::

    RepositoryError
    ├── RepositoryConnectionError   the store cannot be reached, or the repository is closed
    ├── NotFoundError               an entity the operation needs does not exist
    ├── DuplicateError              an id, or a unique name, is already taken
    ├── ConflictError               a concurrent change the operation could not get past
    ├── RepositoryValidationError   the input is invalid; nothing was stored
    └── OperationDisabledError      a feature flag switches the operation off

Messages say what and which (``session 6f1c... not found``) and never hold a secret.
"""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "ConflictError",
    "DuplicateError",
    "NotFoundError",
    "OperationDisabledError",
    "RepositoryConnectionError",
    "RepositoryError",
    "RepositoryValidationError",
]


class RepositoryError(Exception):
    """Base class of every error a repository raises."""


class RepositoryConnectionError(RepositoryError):
    """The backing store is unreachable, timed out, or the repository is not connected."""


class NotFoundError(RepositoryError):
    """An entity the operation requires does not exist."""

    def __init__(self, entity: str, entity_id: UUID | str, detail: str = "") -> None:
        self.entity = entity
        self.entity_id = entity_id
        suffix = f" {detail}" if detail else ""
        super().__init__(f"{entity} {entity_id} not found{suffix}")


def parent_not_found(parent_id: UUID | str, session_id: UUID | str) -> NotFoundError:
    """A message names a parent that is not a message of its session (every backend says so
    in these words)."""
    return NotFoundError("parent message", parent_id, f"in session {session_id}")


class DuplicateError(RepositoryError):
    """An entity with the same id, or the same unique name, already exists."""

    def __init__(self, entity: str, field: str, value: UUID | str) -> None:
        self.entity = entity
        self.field = field
        self.value = value
        super().__init__(f"{entity} with {field} '{value}' already exists")


class ConflictError(RepositoryError):
    """A concurrent change prevented the operation; retrying it may succeed."""


class RepositoryValidationError(RepositoryError, ValueError):
    """The input was rejected before anything was stored."""


class OperationDisabledError(RepositoryError):
    """A feature flag switches the operation off (e.g. ``bulk_operations`` and
    ``create_messages``); nothing was stored, and retrying will not help until it is on."""
