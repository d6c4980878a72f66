"""``PostgreSQLRepository``: the repository contract on PostgreSQL, through an asyncpg pool.

Each hook delegates to its family module: ``_sessions``, ``_messages``, ``_catalog``,
``_states``, ``_maintenance``; ``_connection`` holds the pool and the transactions.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, ClassVar, Self, cast
from uuid import UUID

from ai_agent.config.sections import RetryPolicy
from ai_agent.config.settings import DatabaseSettings
from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.catalog import CATALOGS, CatalogKind, E
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.postgresql import (
    _connection,
    _maintenance,
    _messages,
    _sessions,
    _states,
)
from ai_agent.infrastructure.database.postgresql import _queries as q
from ai_agent.infrastructure.database.postgresql._catalog import CatalogTable
from ai_agent.infrastructure.database.postgresql._codec import catalog_table
from ai_agent.infrastructure.database.postgresql._connection import Pool
from ai_agent.infrastructure.database.postgresql._errors import translate_error
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["PostgreSQLRepository"]

_DEFAULT_POOL_TIMEOUT: float = DatabaseSettings.model_fields["pool_timeout"].default


class PostgreSQLRepository(BaseRepository):
    """The repository contract on PostgreSQL (asyncpg); see the package docstring."""

    backend_name: ClassVar[str] = "postgresql"

    def __init__(self, settings: DatabaseSettings | None = None, *, pool: Pool | None = None):
        """Describe the repository; nothing connects until ``connect()``.

        Args:
            settings: where and how to connect, and the pool's sizes and timeouts (the
                application's ``settings.database``); required unless ``pool`` is given.
            pool: a ready asyncpg pool (built with ``init=PostgreSQLRepository.init_connection``)
                to use instead of creating one; ``disconnect()`` leaves it open.
        """
        if settings is None and pool is None:
            raise TypeError(
                "PostgreSQLRepository needs settings (e.g. settings.database) or a pool; "
                "PostgreSQLRepository.from_url(url) builds the settings from a URL"
            )
        super().__init__()
        self._settings = settings
        self._given_pool = pool
        self._retry_policy: RetryPolicy | None = None
        timeout = settings.pool_timeout if settings is not None else _DEFAULT_POOL_TIMEOUT
        self._db = _connection.ConnectionRouter(self._translate_error, timeout)
        self._catalogs: dict[str, CatalogTable[Any]] = {
            kind.name: CatalogTable(self._db, catalog_table(kind), q.CATALOG_SQL[kind.name])
            for kind in CATALOGS
        }

    init_connection = staticmethod(_connection.init_connection)

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Self:
        """A repository for a ``postgresql://`` URL; ``overrides`` set other settings fields."""
        return cls(DatabaseSettings.from_url(url, **overrides))

    @property
    def retry_policy(self) -> RetryPolicy | None:
        """How transient failures are retried; never inside a transaction block.

        A failed statement aborts the block's transaction, so retrying one call of it cannot
        succeed (and must not run outside the block): the whole block is the unit to retry.
        """
        return None if self._db.in_transaction() else self._retry_policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy | None) -> None:
        self._retry_policy = policy

    @property
    def display_url(self) -> str:
        if self._settings is None:
            return "postgresql://(caller's pool)"
        return str(self._settings.url)

    @property
    def owns_pool(self) -> bool:
        """Whether ``disconnect()`` closes the pool (it does only for a pool it created)."""
        return self._given_pool is None

    @property
    def pool(self) -> Pool | None:
        """The asyncpg pool while connected."""
        return self._db.pool

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Group repository calls of this task into one transaction (nested: a savepoint).

        An exception leaving the block rolls back everything done inside it. A failed
        statement aborts a PostgreSQL transaction: to carry on after an error inside the
        block, wrap the call that may fail in a nested ``transaction()``.
        """
        self._ensure_open()
        return self._db.transaction()

    async def schema_revision(self) -> str | None:
        """The Alembic revision of the schema, or ``None`` when it was never migrated."""
        self._ensure_open()
        return await self._run(_maintenance.schema_revision, self._db)

    def pool_connections(self) -> tuple[int, int] | None:
        return _connection.pool_connections(self._db.pool)

    def _server_endpoint(self) -> tuple[str, int] | None:
        settings = self._settings
        return None if settings is None else (settings.host, settings.port)

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        password = self._settings.password if self._settings is not None else None
        secret = password.get_secret_value() if password is not None else None
        return translate_error(exc, self.display_url, secret)

    # -- lifecycle ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        if self._given_pool is None:
            assert self._settings is not None
            self._db.pool = await _connection.open_pool(self._settings)
            return
        self._db.pool = self._given_pool
        try:
            await _connection.check_codecs(self._db)
        except Exception:
            self._db.pool = None
            raise

    async def _disconnect(self) -> None:
        pool, self._db.pool = self._db.pool, None
        if pool is not None and self._settings is not None and self._given_pool is None:
            await _connection.close_pool(pool, self._settings.pool_timeout)

    def _release_abandoned(self) -> Release | None:
        pool = self._db.pool  # a caller's pool is the caller's to close
        if pool is None or self._given_pool is not None:
            return None
        return _connection.terminate_on_loop(pool)

    async def _ping(self) -> bool:
        return await _connection.ping(self._db)

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        return await _sessions.create_session(self._db, session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return await _sessions.get_session(self._db, session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        return await _sessions.list_sessions(self._db, user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return await _sessions.update_session(self._db, session)

    async def _delete_session(self, session_id: UUID) -> bool:
        return await _sessions.delete_session(self._db, session_id)

    async def _get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        return await _sessions.get_or_create_session(self._db, session)

    # -- messages ----------------------------------------------------------------------------

    async def _create_message(self, message: Message) -> Message:
        return await _messages.create_message(self._db, message)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        return await _messages.create_messages(self._db, messages)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return await _messages.get_message(self._db, message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        return await _messages.messages_by_session(self._db, session_id, limit, offset)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        return await _messages.recent_messages(self._db, session_id, limit)

    async def _update_message(self, message: Message) -> Message:
        return await _messages.update_message(self._db, message)

    async def _delete_message(self, message_id: UUID) -> bool:
        return await _messages.delete_message(self._db, message_id)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        return await _messages.pop_message(self._db, session_id)

    async def _clear_messages(self, session_id: UUID) -> int:
        return await _messages.clear_messages(self._db, session_id)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        return await _messages.message_page(self._db, session_id, after, limit)

    # -- scoped state ------------------------------------------------------------------------

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        return await _states.get_states(self._db, scopes)

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        return await _states.create_session_with_state(self._db, session, state)

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        return await _states.append_message_with_state(self._db, append)

    # -- retention ---------------------------------------------------------------------------

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        return await _maintenance.prune_sessions(self._db, cutoff, limit)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        return await _maintenance.count_inactive_sessions(self._db, cutoff)

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        return await _maintenance.trim_messages(self._db, session_id, keep, limit)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        return await _maintenance.long_sessions(self._db, more_than, after, limit)

    # -- catalog -------------------------------------------------------------------------------

    async def _create_entry(self, kind: CatalogKind[E], entry: E) -> E:
        return cast(E, await self._catalogs[kind.name].create(entry))

    async def _get_entry(self, kind: CatalogKind[E], entry_id: UUID) -> E | None:
        return cast("E | None", await self._catalogs[kind.name].get(entry_id))

    async def _list_entries(
        self, kind: CatalogKind[E], enabled_only: bool, limit: int, offset: int
    ) -> list[E]:
        catalog = self._catalogs[kind.name]
        return cast("list[E]", await catalog.page(limit, offset, enabled_only=enabled_only))

    async def _update_entry(self, kind: CatalogKind[E], entry: E) -> E:
        return cast(E, await self._catalogs[kind.name].update(entry))

    async def _delete_entry(self, kind: CatalogKind[E], entry_id: UUID) -> bool:
        return await self._catalogs[kind.name].delete(entry_id)
