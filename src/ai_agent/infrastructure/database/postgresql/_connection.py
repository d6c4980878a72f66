"""The asyncpg pool: open, check, ping and release it, and which connection each call runs on.

Outside a transaction block every call borrows a pooled connection for one statement
(acquire timeout ``pool_timeout`` on every acquire). Inside ``transaction()`` a contextvar of
this repository holds the block's connection and every call of the same task (and of tasks it
spawns, one statement at a time) runs on it: no second pool connection is ever taken inside a
transaction, so a pool of one cannot deadlock. Nested blocks are savepoints.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ai_agent.infrastructure.database.abandoned import Release, on_loop
from ai_agent.infrastructure.database.errors import RepositoryConnectionError, RepositoryError
from ai_agent.infrastructure.database.json_text import decode_json
from ai_agent.infrastructure.database.postgresql._codec import (
    decode_uuid,
    encode_json,
    encode_uuid,
)
from ai_agent.infrastructure.database.postgresql._errors import AcquireTimeout

if TYPE_CHECKING:
    from ai_agent.config.settings import DatabaseSettings

__all__ = [
    "Connection",
    "ConnectionRouter",
    "Pool",
    "check_codecs",
    "close_pool",
    "init_connection",
    "open_pool",
    "ping",
    "pool_connections",
    "terminate_on_loop",
]

T = TypeVar("T")
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"
Translate = Callable[[Exception], RepositoryError | None]

APPLICATION_NAME = "ai-agent"


async def init_connection(connection: Any) -> None:
    """Register the codecs on a new connection: JSON as dicts and lists, ids as ``uuid.UUID``.

    Pass it as ``init=`` when you build a pool for ``PostgreSQLRepository(pool=...)``.
    """
    for type_name in ("jsonb", "json"):
        await connection.set_type_codec(
            type_name, encoder=encode_json, decoder=decode_json, schema="pg_catalog"
        )
    await connection.set_type_codec(
        "uuid", encoder=encode_uuid, decoder=decode_uuid, schema="pg_catalog", format="binary"
    )


async def _keep_session_state(connection: Any) -> None:
    """Reset hook: nothing to reset.

    The repository sets no session state (no SET, LISTEN, cursors or advisory locks), and
    asyncpg rolls back an open transaction before this hook anyway. Its default reset query
    would cost one extra round trip on every release, i.e. on every call.
    """


async def open_pool(settings: DatabaseSettings) -> Pool:
    """A new pool for the settings, its connections set up by :func:`init_connection`."""
    pool: Pool = await asyncpg.create_pool(**_pool_options(settings))
    return pool


def _pool_options(settings: DatabaseSettings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "user": settings.user,
        "password": settings.password.get_secret_value() if settings.password else None,
        "database": settings.name,
        "min_size": settings.min_pool_size,
        "max_size": settings.max_pool_size,
        "timeout": settings.connect_timeout,  # per connection attempt
        "command_timeout": settings.command_timeout,  # per statement
        "ssl": settings.ssl_mode,
        "init": init_connection,
        "reset": _keep_session_state,
        "server_settings": {"application_name": APPLICATION_NAME},
    }


@dataclass(eq=False)
class _Transaction:
    connection: Connection
    owner: asyncio.Task[Any] | None
    # Tasks spawned inside the block share its connection; this runs their statements one
    # at a time (asyncpg allows one operation per connection).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: bool = True


class ConnectionRouter:
    """Runs statements on the current transaction's connection, or on a pooled one."""

    def __init__(self, translate: Translate, acquire_timeout: float) -> None:
        self.pool: Pool | None = None
        self._translate = translate
        self._acquire_timeout = acquire_timeout
        self._current: ContextVar[_Transaction | None] = ContextVar(
            "ai_agent_postgresql_transaction", default=None
        )

    def in_transaction(self) -> bool:
        """Whether calls of the current task run inside a ``transaction()`` block."""
        current = self._current.get()
        return current is not None and current.open

    # -- single statements ---------------------------------------------------------------

    async def execute(self, sql: str, *args: Any) -> str:
        return await self.run(lambda connection: connection.execute(sql, *args))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.run(lambda connection: connection.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self.run(lambda connection: connection.fetchrow(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.run(lambda connection: connection.fetchval(sql, *args))

    async def run(self, call: Callable[[Connection], Awaitable[T]]) -> T:
        """Await ``call(connection)`` on the transaction's connection, else a pooled one."""
        current = self._current.get()
        if current is not None and current.open:
            async with current.lock:
                return await call(current.connection)
        pool = self._pool()
        connection = await self._acquire(pool)
        try:
            return await call(connection)
        finally:
            await pool.release(connection)

    # -- transactions --------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        current = self._current.get()
        if current is not None and current.open:
            async with self._savepoint(current):
                yield
            return
        pool = self._pool()
        connection = await self._guard(self._acquire(pool))
        try:
            state = _Transaction(connection, asyncio.current_task())
            transaction = connection.transaction()
            await self._guard(transaction.start())
            token = self._current.set(state)
            try:
                yield
            except BaseException:
                state.open = False
                self._current.reset(token)
                await _quietly(transaction.rollback)
                raise
            state.open = False
            self._current.reset(token)
            await self._guard(transaction.commit())
        finally:
            await _quietly(lambda: pool.release(connection))

    @asynccontextmanager
    async def _savepoint(self, current: _Transaction) -> AsyncIterator[None]:
        if current.owner is not asyncio.current_task():
            raise RepositoryError(
                "a nested transaction() must run in the task that opened the outer one"
            )
        savepoint = current.connection.transaction()
        async with current.lock:
            await self._guard(savepoint.start())
        try:
            yield
        except BaseException:
            async with current.lock:
                await _quietly(savepoint.rollback)
            raise
        async with current.lock:
            await self._guard(savepoint.commit())

    # -- plumbing ------------------------------------------------------------------------

    def _pool(self) -> Pool:
        if self.pool is None:  # pragma: no cover - BaseRepository checks the state first
            raise RepositoryConnectionError("PostgreSQL repository is not connected")
        return self.pool

    async def _acquire(self, pool: Pool) -> Connection:
        # asyncio.timeout, not acquire(timeout=): asyncpg implements that with wait_for, one
        # extra task (and loop iteration) per call. The budget covers opening a connection
        # when the pool must (re)connect one. Every call arms the deadline: asyncpg has no
        # public constant-time way to tell that acquiring cannot wait (get_idle_size() walks
        # every holder), and the private queue it keeps them in may change under us.
        deadline = asyncio.timeout(self._acquire_timeout)
        try:
            async with deadline:
                return await pool.acquire()
        except TimeoutError as exc:
            if not deadline.expired():  # connect_timeout of a new connection
                raise
            raise AcquireTimeout(self._acquire_timeout, pool.get_max_size()) from exc

    async def _guard(self, operation: Awaitable[T]) -> T:
        """Await a driver call made outside a repository method, translating its errors."""
        try:
            return await operation
        except Exception as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc


async def _quietly(operation: Callable[[], Awaitable[object]]) -> None:
    # Cleanup after a failure: the original exception is what the caller must see; asyncpg
    # terminates a connection whose rollback or release failed. (A callable: asyncpg checks
    # a closed connection when the method is called, before there is anything to await.)
    with contextlib.suppress(Exception):
        await operation()


_CODECS_PROBE = "SELECT '{}'::jsonb, '00000000-0000-0000-0000-000000000000'::uuid"


async def check_codecs(db: ConnectionRouter) -> None:
    """Refuse a caller's pool whose connections lack :func:`init_connection`'s codecs."""
    row = await db.fetchrow(_CODECS_PROBE)
    if row is None or not isinstance(row[0], dict) or type(row[1]) is not UUID:
        raise RepositoryError(
            "the asyncpg pool given to PostgreSQLRepository lacks its codecs (JSON as "
            "dicts, ids as uuid.UUID); create it with init=PostgreSQLRepository.init_connection"
        )


async def ping(db: ConnectionRouter) -> bool:
    return bool(await db.fetchval("SELECT 1") == 1)


async def close_pool(pool: Pool, grace: float) -> None:
    """Wait up to ``grace`` seconds for borrowed connections to come back and close them
    gracefully; when that times out, or the server is gone, drop the sockets."""
    try:
        await asyncio.wait_for(pool.close(), timeout=grace)
    except Exception:
        pool.terminate()


def terminate_on_loop(pool: Pool) -> Release:
    """The release of an abandoned repository's pool: sockets only close through the loop."""
    return on_loop(asyncio.get_running_loop(), pool.terminate)


def pool_connections(pool: Pool | None) -> tuple[int, int] | None:
    """Connections (in use, idle), or ``None`` without a pool."""
    if pool is None:
        return None
    idle = pool.get_idle_size()
    return pool.get_size() - idle, idle
