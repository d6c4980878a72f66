"""``PostgreSQLRepository``: the repository contract on PostgreSQL, through an asyncpg pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

import asyncpg

from ai_agent.config.sections import RetryPolicy
from ai_agent.config.settings import DatabaseSettings
from ai_agent.domain.models import (
    Agent,
    DomainModel,
    ExternalService,
    MCPServer,
    Message,
    Session,
    Tool,
    utc_now,
)
from ai_agent.infrastructure.database.abandoned import Release, on_loop
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import (
    ConflictError,
    NotFoundError,
    RepositoryError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.postgresql import queries as q
from ai_agent.infrastructure.database.postgresql.codec import (
    AGENTS,
    EXTERNAL_SERVICES,
    MCP_SERVERS,
    MESSAGES,
    SESSIONS,
    TOOLS,
    Table,
    encode_json,
)
from ai_agent.infrastructure.database.postgresql.driver_errors import translate
from ai_agent.infrastructure.database.postgresql.pool import (
    ConnectionRouter,
    Pool,
    init_connection,
    pool_options,
)
from ai_agent.infrastructure.database.postgresql.states import StateStore

__all__ = ["PostgreSQLRepository"]

M = TypeVar("M", bound=DomainModel)
T = TypeVar("T")

_BATCH_JSON = frozenset({"metadata", "tool_calls"})


class PostgreSQLRepository(StateStore, BaseRepository):
    """The repository contract on PostgreSQL (asyncpg); see the package docstring."""

    backend_name: ClassVar[str] = "postgresql"

    def __init__(self, settings: DatabaseSettings | None = None, *, pool: Pool | None = None):
        """Describe the repository; nothing connects until ``connect()``.

        Args:
            settings: where and how to connect, and the pool's sizes and timeouts; read from
                the environment (``DB_*``) when omitted and no ``pool`` is given.
            pool: a ready asyncpg pool (built with ``init=PostgreSQLRepository.init_connection``)
                to use instead of creating one; ``disconnect()`` leaves it open.
        """
        super().__init__()
        if settings is None and pool is None:
            settings = DatabaseSettings()
        self._settings = settings
        self._given_pool = pool
        self._retry_policy: RetryPolicy | None = None
        timeout = (
            settings.pool_timeout
            if settings is not None
            else DatabaseSettings.model_fields["pool_timeout"].default
        )
        self._db = ConnectionRouter(self._translate_error, timeout)

    init_connection = staticmethod(init_connection)

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

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Self:
        """A repository for a ``postgresql://`` URL; ``overrides`` set other settings fields."""
        return cls(DatabaseSettings.from_url(url, **overrides))

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
        return await self._run(self._schema_revision)

    # -- lifecycle ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        if self._given_pool is not None:
            self._db.pool = self._given_pool
            await self._check_codecs()
            return
        assert self._settings is not None
        self._db.pool = await asyncpg.create_pool(**pool_options(self._settings))

    async def _check_codecs(self) -> None:
        try:
            row = await self._db.fetchrow(
                "SELECT '{}'::jsonb, '00000000-0000-0000-0000-000000000000'::uuid"
            )
        except Exception:
            self._db.pool = None
            raise
        if row is None or not isinstance(row[0], dict) or type(row[1]) is not UUID:
            self._db.pool = None
            raise RepositoryError(
                "the asyncpg pool given to PostgreSQLRepository lacks its codecs (JSON as "
                "dicts, ids as uuid.UUID); create it with init=PostgreSQLRepository.init_connection"
            )

    async def _disconnect(self) -> None:
        pool, self._db.pool = self._db.pool, None
        if pool is None or self._given_pool is not None:
            return
        assert self._settings is not None
        try:
            # Waits for borrowed connections to come back, then closes them gracefully.
            await asyncio.wait_for(pool.close(), timeout=self._settings.pool_timeout)
        except Exception:  # timed out, or the server is gone: drop the sockets
            pool.terminate()

    def _release_abandoned(self) -> Release | None:
        # Sockets only close through the loop; a caller's pool is the caller's to close.
        pool = self._db.pool
        if pool is None or self._given_pool is not None:
            return None
        return on_loop(asyncio.get_running_loop(), pool.terminate)

    async def _ping(self) -> bool:
        return bool(await self._db.fetchval("SELECT 1") == 1)

    def pool_connections(self) -> tuple[int, int] | None:
        pool = self._db.pool
        if pool is None:
            return None
        idle = pool.get_idle_size()
        return pool.get_size() - idle, idle

    def _server_endpoint(self) -> tuple[str, int] | None:
        settings = self._settings
        return None if settings is None else (settings.host, settings.port)

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        password = self._settings.password if self._settings is not None else None
        secret = password.get_secret_value() if password is not None else None
        return translate(exc, self.display_url, secret)

    async def _schema_revision(self) -> str | None:
        if not await self._db.fetchval(q.SCHEMA_VERSION_TABLE.sql):
            return None
        revision = await self._db.fetchval(q.SCHEMA_REVISION.sql)
        return None if revision is None else str(revision)

    # -- generic statements ------------------------------------------------------------------

    async def _insert(self, table: Table[M], statement: q.Statement, entity: M) -> M:
        await self._db.execute(statement.sql, *table.values(entity, statement.params))
        return entity  # the repository's own copy: BaseRepository detached it

    async def _get(self, table: Table[M], statement: q.Statement, key: UUID) -> M | None:
        row = await self._db.fetchrow(statement.sql, key)
        return None if row is None else table.decode(row)

    async def _list(
        self,
        table: Table[M],
        statement: q.Statement,
        *args: Any,
        known: dict[str, Any] | None = None,
    ) -> list[M]:
        return table.decode_all(await self._db.fetch(statement.sql, *args), known)

    async def _replace(self, table: Table[M], statement: q.Statement, entity: M) -> M:
        entity.updated_at = utc_now()
        row = await self._db.fetchrow(statement.sql, *table.values(entity, statement.params))
        if row is None:
            raise NotFoundError(table.entity, entity.id)
        return table.decode(row)

    async def _delete(self, statement: q.Statement, key: UUID) -> bool:
        return bool(await self._db.fetchval(statement.sql, key))

    @staticmethod
    def _listing(statements: q.TableStatements, enabled_only: bool) -> q.Statement:
        if enabled_only and statements.list_enabled is not None:
            return statements.list_enabled
        return statements.list_all

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        session.message_count = 0
        return await self._insert(SESSIONS, q.INSERT_SESSION, session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return await self._get(SESSIONS, q.GET_SESSION, session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        if user_id is None:
            return await self._list(SESSIONS, q.LIST_SESSIONS, limit, offset)
        return await self._list(SESSIONS, q.LIST_USER_SESSIONS, user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return await self._replace(SESSIONS, q.UPDATE_SESSION, session)

    async def _delete_session(self, session_id: UUID) -> bool:
        return await self._delete(q.DELETE_SESSION, session_id)

    # -- messages ----------------------------------------------------------------------------

    async def _create_message(self, message: Message) -> Message:
        args = MESSAGES.values(message, q.CREATE_MESSAGE.params)
        if await self._db.execute(q.CREATE_MESSAGE.sql, *args) == q.CREATE_MESSAGE_DONE:
            return message
        args = MESSAGES.values(message, q.MESSAGE_REFUSED.params)
        row = await self._db.fetchrow(q.MESSAGE_REFUSED.sql, *args)
        if row is not None and row["session_found"] and not row["parent_found"]:
            raise _missing_parent(message)
        # (Found both by now: a concurrent create of the session or parent; it was missing.)
        raise NotFoundError("session", message.session_id)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        columns = [
            [encode_json(getattr(m, name)) for m in messages]
            if name in _BATCH_JSON
            else [getattr(m, name) for m in messages]
            for name in q.CREATE_MESSAGES.params
        ]
        row = await self._db.fetchrow(q.CREATE_MESSAGES.sql, *columns)
        assert row is not None  # the statement always returns one row
        if row["inserted"] == len(messages):
            return messages
        if row["ord"] is None:  # pragma: no cover - a concurrent delete fails the foreign key
            raise RepositoryError("the batch of messages was not stored; retry it")
        failed = messages[row["ord"] - 1]
        if not row["session_found"]:
            raise NotFoundError("session", failed.session_id)
        raise _missing_parent(failed)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return await self._get(MESSAGES, q.GET_MESSAGE, message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        known = {"session_id": session_id}  # the page sends NULL for it (queries.py)
        page = q.MESSAGES_BY_SESSION
        return await self._list(MESSAGES, page, session_id, limit, offset, known=known)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        known = {"session_id": session_id}
        newest_first = await self._list(MESSAGES, q.RECENT_MESSAGES, session_id, limit, known=known)
        newest_first.reverse()
        return newest_first

    async def _update_message(self, message: Message) -> Message:
        message.updated_at = utc_now()
        args = MESSAGES.values(message, q.UPDATE_MESSAGE.params)
        row = await self._db.fetchrow(q.UPDATE_MESSAGE.sql, *args)
        assert row is not None  # the statement always returns one row
        if row["id"] is not None:
            return MESSAGES.decode(row)
        stored_session = row["stored_session_id"]
        if stored_session is not None and stored_session != message.session_id:
            raise RepositoryValidationError(
                f"message {message.id} belongs to session {stored_session}; "
                f"its session_id cannot change to {message.session_id}"
            )
        if stored_session is not None and not row["parent_found"]:
            raise _missing_parent(message)
        raise NotFoundError("message", message.id)

    async def _delete_message(self, message_id: UUID) -> bool:
        return await self._delete(q.DELETE_MESSAGE, message_id)

    async def _get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        session.message_count = 0
        args = SESSIONS.values(session, q.INSERT_SESSION_IF_NEW.params)
        if await self._db.execute(q.INSERT_SESSION_IF_NEW.sql, *args) == q.INSERT_SESSION_DONE:
            return session, True
        stored = await self._get_session(session.id)
        if stored is None:  # deleted between the two statements: a retry settles it
            raise ConflictError(f"session {session.id} was deleted while being read; retry")
        return stored, False

    async def _pop_message(self, session_id: UUID) -> Message | None:
        row = await self._db.run(lambda c: _locked(c, session_id, c.fetchrow, q.POP_MESSAGE))
        return None if row is None else MESSAGES.decode(row)

    async def _clear_messages(self, session_id: UUID) -> int:
        cleared = await self._db.run(lambda c: _locked(c, session_id, c.fetchval, q.CLEAR_MESSAGES))
        return int(cleared or 0)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        rows = await self._db.fetch(q.MESSAGES_AFTER.sql, session_id, after, limit)
        last = rows[-1]["seq"] if rows else after
        return MESSAGES.decode_all(rows, {"session_id": session_id}), last

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        rows = await self._db.fetch(q.PRUNE_SESSIONS.sql, cutoff, limit)
        return len(rows), sum(row[0] for row in rows)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        row = await self._db.fetchrow(q.COUNT_INACTIVE.sql, cutoff)
        assert row is not None  # an aggregate always returns one row
        return int(row[0]), int(row[1])

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        deleted = await self._db.run(
            lambda c: _locked(c, session_id, c.fetchval, q.TRIM_MESSAGES, keep, limit)
        )
        return int(deleted or 0)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        start = after or UUID(int=0)
        rows = await self._db.fetch(q.LONG_SESSIONS.sql, more_than, start, limit)
        return [(UUID(int=row[0].int), int(row[1])) for row in rows]

    # -- agents ------------------------------------------------------------------------------

    async def _create_agent(self, agent: Agent) -> Agent:
        return await self._insert(AGENTS, q.AGENT_SQL.insert, agent)

    async def _get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._get(AGENTS, q.AGENT_SQL.get, agent_id)

    async def _list_agents(self, limit: int, offset: int) -> list[Agent]:
        return await self._list(AGENTS, q.AGENT_SQL.list_all, limit, offset)

    async def _update_agent(self, agent: Agent) -> Agent:
        return await self._replace(AGENTS, q.AGENT_SQL.update, agent)

    async def _delete_agent(self, agent_id: UUID) -> bool:
        return await self._delete(q.AGENT_SQL.delete, agent_id)

    # -- tools -------------------------------------------------------------------------------

    async def _create_tool(self, tool: Tool) -> Tool:
        return await self._insert(TOOLS, q.TOOL_SQL.insert, tool)

    async def _get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._get(TOOLS, q.TOOL_SQL.get, tool_id)

    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]:
        return await self._list(TOOLS, self._listing(q.TOOL_SQL, enabled_only), limit, offset)

    async def _update_tool(self, tool: Tool) -> Tool:
        return await self._replace(TOOLS, q.TOOL_SQL.update, tool)

    async def _delete_tool(self, tool_id: UUID) -> bool:
        return await self._delete(q.TOOL_SQL.delete, tool_id)

    # -- MCP servers -------------------------------------------------------------------------

    async def _create_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._insert(MCP_SERVERS, q.MCP_SERVER_SQL.insert, server)

    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._get(MCP_SERVERS, q.MCP_SERVER_SQL.get, server_id)

    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]:
        statement = self._listing(q.MCP_SERVER_SQL, enabled_only)
        return await self._list(MCP_SERVERS, statement, limit, offset)

    async def _update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._replace(MCP_SERVERS, q.MCP_SERVER_SQL.update, server)

    async def _delete_mcp_server(self, server_id: UUID) -> bool:
        return await self._delete(q.MCP_SERVER_SQL.delete, server_id)  # tools: SET NULL

    # -- external services -------------------------------------------------------------------

    async def _create_external_service(self, service: ExternalService) -> ExternalService:
        return await self._insert(EXTERNAL_SERVICES, q.EXTERNAL_SERVICE_SQL.insert, service)

    async def _get_external_service(self, service_id: UUID) -> ExternalService | None:
        return await self._get(EXTERNAL_SERVICES, q.EXTERNAL_SERVICE_SQL.get, service_id)

    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]:
        statement = self._listing(q.EXTERNAL_SERVICE_SQL, enabled_only)
        return await self._list(EXTERNAL_SERVICES, statement, limit, offset)

    async def _update_external_service(self, service: ExternalService) -> ExternalService:
        return await self._replace(EXTERNAL_SERVICES, q.EXTERNAL_SERVICE_SQL.update, service)

    async def _delete_external_service(self, service_id: UUID) -> bool:
        return await self._delete(q.EXTERNAL_SERVICE_SQL.delete, service_id)


async def _locked(
    connection: Any,
    session_id: UUID,
    call: Callable[..., Awaitable[T]],
    statement: q.Statement,
    *args: Any,
) -> T | None:
    """Run ``statement`` (``$1`` = the session id) under the session's row lock, in a
    transaction of its own (a savepoint inside a caller's block); ``None`` when there is
    no such session."""
    async with connection.transaction():
        if not await connection.fetchval(q.LOCK_SESSION.sql, session_id):
            return None
        return await call(statement.sql, session_id, *args)


def _missing_parent(message: Message) -> NotFoundError:
    return NotFoundError(
        "parent message", message.parent_message_id or "?", f"in session {message.session_id}"
    )
