"""``SQLiteRepository``: the contract hooks, each delegating to its family module."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Self
from uuid import UUID

from ai_agent.config.urls import sqlite_file_path
from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.catalog import CatalogKind, E
from ai_agent.infrastructure.database.errors import RepositoryError, RepositoryValidationError
from ai_agent.infrastructure.database.sqlite import (
    _catalog,
    _maintenance,
    _messages,
    _sessions,
    _states,
)
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection, Synchronous
from ai_agent.infrastructure.database.sqlite._errors import translate_error
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["SQLiteRepository"]


class SQLiteRepository(BaseRepository):
    """The repository contract on a SQLite file; see the package docstring."""

    backend_name = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] = "ai_agent.db",
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.path: Final = _file_path(path)
        self.synchronous: Final = _synchronous(synchronous)
        self.busy_timeout: Final = _busy_timeout(busy_timeout)
        self._connection = SQLiteConnection(self.path, self.synchronous, self.busy_timeout)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """Build from ``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``.

        ``sqlite+aiosqlite://`` URLs (SQLAlchemy's spelling) are accepted too. Any other
        form is a ``RepositoryValidationError`` that shows the URL (password masked), the
        accepted forms and, for ``sqlite://agent.db``, the likely intended one.
        """
        try:
            path = sqlite_file_path(url)
        except ValueError as exc:
            raise RepositoryValidationError(f"SQLiteRepository: {exc}") from None
        return cls(path, **options)

    @property
    def display_url(self) -> str:
        return self._connection.display_url

    # -- lifecycle and transactions ----------------------------------------------------------

    async def _connect(self) -> None:
        await self._connection.open()

    async def _disconnect(self) -> None:
        await self._connection.close()

    async def _ping(self) -> bool:
        return await self._connection.ping()

    def _release_abandoned(self) -> Release | None:
        return self._connection.release_abandoned()

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        return translate_error(exc, self.display_url)

    def pool_connections(self) -> tuple[int, int] | None:
        return self._connection.in_use()

    async def schema_revision(self) -> str | None:
        """The Alembic revision of the database file, or ``None`` when it has no schema."""
        self._ensure_open()
        return await self._run(self._connection.schema_revision)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Run the block's repository calls as one atomic unit.

        An exception leaving the block rolls back every call made inside it; a nested block
        is a SAVEPOINT, undone alone when an exception leaves it. While the block runs, other
        tasks' calls wait for it, so do not await, inside the block, a task that uses this
        repository: it would wait for the block forever.
        """
        self._ensure_open()
        async with self._connection.transaction():
            yield self

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        return await _sessions.create_session(self._connection, session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return await _sessions.get_session(self._connection, session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        return await _sessions.list_sessions(self._connection, user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return await _sessions.update_session(self._connection, session)

    async def _delete_session(self, session_id: UUID) -> bool:
        return await _sessions.delete_session(self._connection, session_id)

    # -- messages ----------------------------------------------------------------------------

    async def _create_message(self, message: Message) -> Message:
        return await _messages.create_message(self._connection, message)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        return await _messages.create_messages(self._connection, messages)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return await _messages.get_message(self._connection, message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        return await _messages.get_messages_by_session(self._connection, session_id, limit, offset)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        return await _messages.get_recent_messages(self._connection, session_id, limit)

    async def _update_message(self, message: Message) -> Message:
        return await _messages.update_message(self._connection, message)

    async def _delete_message(self, message_id: UUID) -> bool:
        return await _messages.delete_message(self._connection, message_id)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        return await _messages.pop_message(self._connection, session_id)

    async def _clear_messages(self, session_id: UUID) -> int:
        return await _messages.clear_messages(self._connection, session_id)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        return await _messages.message_page(self._connection, session_id, after, limit)

    # -- catalog -------------------------------------------------------------------------------

    async def _create_entry(self, kind: CatalogKind[E], entry: E) -> E:
        return await _catalog.create(self._connection, kind, entry)

    async def _get_entry(self, kind: CatalogKind[E], entry_id: UUID) -> E | None:
        return await _catalog.get(self._connection, kind, entry_id)

    async def _list_entries(
        self, kind: CatalogKind[E], enabled_only: bool, limit: int, offset: int
    ) -> list[E]:
        return await _catalog.list_page(self._connection, kind, enabled_only, limit, offset)

    async def _update_entry(self, kind: CatalogKind[E], entry: E) -> E:
        return await _catalog.update(self._connection, kind, entry)

    async def _delete_entry(self, kind: CatalogKind[E], entry_id: UUID) -> bool:
        return await _catalog.delete(self._connection, kind, entry_id)

    # -- scoped state ------------------------------------------------------------------------

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        return await _states.get_states(self._connection, scopes)

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        return await _states.create_session_with_state(self._connection, session, state)

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        return await _states.append_message_with_state(self._connection, append)

    # -- retention ---------------------------------------------------------------------------

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        return await _maintenance.prune_sessions(self._connection, cutoff, limit)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        return await _maintenance.count_inactive_sessions(self._connection, cutoff)

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        return await _maintenance.trim_messages(self._connection, session_id, keep, limit)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        return await _maintenance.long_sessions(self._connection, more_than, after, limit)


def _file_path(path: str | os.PathLike[str]) -> Path:
    text = os.fspath(path)
    if not text or text == ":memory:" or text.startswith("file:"):
        raise RepositoryValidationError(
            f"SQLiteRepository needs a database file path, got {text!r}; "
            "use InMemoryRepository for a store without a file"
        )
    return Path(text).expanduser().absolute()


def _synchronous(synchronous: Synchronous) -> Synchronous:
    if synchronous not in ("FULL", "NORMAL"):
        raise RepositoryValidationError(
            f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}"
        )
    return synchronous


def _busy_timeout(busy_timeout: float) -> float:
    if not busy_timeout >= 0:
        raise RepositoryValidationError(f"busy_timeout must be >= 0, got {busy_timeout!r}")
    return float(busy_timeout)
