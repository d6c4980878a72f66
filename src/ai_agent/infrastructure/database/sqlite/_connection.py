"""The SQLite connections: opening them, their pragmas, the lock that makes them safe for tasks.

One aiosqlite connection serves a repository's writes; every statement runs under one
``asyncio.Lock``, so a task never sees another task's uncommitted rows nor lands inside its
transaction (SQLite admits one writer at a time anyway). Multi-statement writes run in
``BEGIN IMMEDIATE`` ... ``COMMIT`` (other processes queue behind the write lock for the busy
timeout instead of failing half-way) and roll back on any error. Reads outside a transaction
run, under the same lock, on a second, query-only connection on the event loop's thread: in
WAL mode a read never waits for a writer, and its index walk costs less than decoding its
rows, which runs on that thread anyway, while a hop to the worker thread costs more.

``transaction()`` holds the lock for a whole block. A context variable records the owning
task, so statements inside the block run directly on the writer (each write inside a
SAVEPOINT, so one failed call undoes only itself), nested blocks become SAVEPOINTs, and
other tasks (including tasks the block starts) wait until the block ends.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, cast

import aiosqlite

from ai_agent.domain.models import DomainModel
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.errors import RepositoryConnectionError
from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._driver import (
    enclosed_in,
    open_reader,
    probe,
    run_on_worker,
    stop_worker,
    worker,
)
from ai_agent.infrastructure.database.sqlite._errors import translate_error

__all__ = ["Parameters", "SQLiteConnection", "Synchronous"]

T = TypeVar("T")
Synchronous = Literal["FULL", "NORMAL"]
Parameters = Mapping[str, Any] | Iterable[Any]


@dataclass(eq=False)
class _Transaction:
    """An open ``transaction()`` block: which connection, which task, how deep."""

    connection: SQLiteConnection
    owner: asyncio.Task[Any] | None
    savepoints: int = 0
    open: bool = True

    def next_savepoint(self) -> sql.Savepoint:
        self.savepoints += 1
        return sql.savepoint(f"ai_agent_{self.savepoints}")


# Module level (not per connection) as contextvars should be; entries name their connection.
_ACTIVE: ContextVar[tuple[_Transaction, ...]] = ContextVar("ai_agent_sqlite_tx", default=())


class SQLiteConnection:
    """One database file's connection, its statement lock and its transactions."""

    def __init__(self, path: Path, synchronous: Synchronous, busy_timeout: float) -> None:
        self.path = path
        self.synchronous: Synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._driver: aiosqlite.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def display_url(self) -> str:
        return f"sqlite:///{self.path}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        # aiosqlite leaves its worker thread to die unawaited when opening fails, and that
        # thread then reports into a closed event loop; so find open failures here first.
        await asyncio.to_thread(probe, self.path, self.busy_timeout)
        opening = aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        # A daemon worker never holds the interpreter open: a repository nobody disconnects
        # is closed by its finalizer instead, which runs after Python waits for non-daemon
        # threads (see stop_worker).
        worker(opening).daemon = True
        driver = await opening
        try:
            await self._configure(driver)
            self._reader = await asyncio.to_thread(open_reader, self.path, self.busy_timeout)
        except BaseException:
            await driver.close()
            raise
        self._driver = driver
        self._lock = asyncio.Lock()  # bound to the loop that connects

    async def _configure(self, driver: aiosqlite.Connection) -> None:
        await driver.execute(sql.pragma(f"busy_timeout = {int(self.busy_timeout * 1000)}"))
        await driver.execute(sql.pragma("foreign_keys = ON"))
        await driver.execute(sql.pragma(f"synchronous = {self.synchronous}"))
        mode = await _pragma(driver, "journal_mode")
        if mode != "wal":  # switching needs the write lock: only when the file is not WAL yet
            mode = await _pragma(driver, "journal_mode = WAL")
        if mode != "wal":
            raise RepositoryConnectionError(
                f"cannot use write-ahead logging on {self.display_url} (journal mode {mode})"
            )
        if await _pragma(driver, "foreign_keys") != 1:
            raise RepositoryConnectionError(
                f"this SQLite library cannot enforce foreign keys ({self.display_url})"
            )

    async def close(self) -> None:
        if self._owned_transaction() is not None:
            await self._close()  # the owner closing inside its block: the lock is its own
            return
        async with self._lock:
            await self._close()

    async def _close(self) -> None:
        driver, self._driver = self._driver, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        if driver is not None:
            try:
                await driver.close()
            except (sqlite3.Error, ValueError):
                pass  # closing is best effort; the worker thread stops either way

    def release_abandoned(self) -> Release | None:
        driver = self._driver
        if driver is None:
            return None
        return functools.partial(stop_worker, driver, self.busy_timeout + 1.0)

    async def ping(self) -> bool:
        # No lock: a read of the schema page is harmless inside another task's transaction.
        rows = await self.driver().execute_fetchall(sql.PING)
        return len(list(rows)) == 1

    def in_use(self) -> tuple[int, int] | None:
        """(in use, idle): in use while a statement or a ``transaction()`` holds the lock."""
        if self._driver is None:
            return None
        return (1, 0) if self._lock.locked() else (0, 1)

    async def schema_revision(self) -> str | None:
        async with self.reading() as db:
            rows = list(await db.execute_fetchall(sql.HAS_REVISION_TABLE))
            if not rows[0][0]:
                return None
            rows = list(await db.execute_fetchall(sql.SELECT_REVISION))
        return str(rows[0][0]) if rows else None

    # -- statements and transactions ---------------------------------------------------------

    def driver(self) -> aiosqlite.Connection:
        """The aiosqlite connection; ``RepositoryConnectionError`` when not connected."""
        if self._driver is None:
            raise RepositoryConnectionError(
                f"sqlite repository at {self.display_url} is not connected; call connect() first"
            )
        return self._driver

    def _owned_transaction(self) -> _Transaction | None:
        task = asyncio.current_task()
        for active in _ACTIVE.get():
            if active.connection is self and active.open and active.owner is task:
                return active
        return None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for reads: under the lock unless this task owns a transaction."""
        if self._owned_transaction() is not None:
            yield self.driver()
            return
        async with self._lock:
            yield self.driver()

    async def fetch(self, statement: str, parameters: Parameters = ()) -> list[Any]:
        """The rows of one read, as tuples; the owner of a transaction reads through it."""
        if self._owned_transaction() is not None:
            return list(await self.driver().execute_fetchall(statement, parameters))
        async with self._lock:
            self.driver()  # not connected: the same error as for any other call
            assert self._reader is not None  # opened and closed with the driver
            return self._reader.execute(statement, cast(Any, parameters)).fetchall()

    @asynccontextmanager
    async def writing(
        self, subject: DomainModel | None = None, *, atomic: bool = True
    ) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for one repository write; driver errors leave it translated.

        ``atomic`` wraps several statements in a transaction (a SAVEPOINT inside the owner's
        ``transaction()`` block); a single statement is atomic by itself. ``subject`` is the
        entity written, so that constraint errors can name it.
        """
        try:
            transaction = self._owned_transaction()
            if transaction is not None:
                async with self._savepoint(transaction, enabled=atomic):
                    yield self.driver()
                return
            async with self._lock:
                driver = self.driver()
                if not atomic:
                    yield driver
                    return
                async with self._immediate(driver):
                    yield driver
        except (sqlite3.Error, ValueError) as exc:
            self._raise_translated(exc, subject)

    async def atomically(
        self, work: Callable[[sqlite3.Connection], T], subject: DomainModel | None = None
    ) -> T:
        """Run ``work`` as one transaction (a SAVEPOINT inside the owner's block), in one hop.

        Like :meth:`writing`, but the whole transaction runs on the worker thread at once.
        """
        try:
            transaction = self._owned_transaction()
            if transaction is not None:
                point = transaction.next_savepoint()
                enclosed = enclosed_in(
                    work, point.open, point.release, point.rollback, point.release
                )
                return await run_on_worker(self.driver(), enclosed)
            async with self._lock:
                enclosed = enclosed_in(work, sql.BEGIN_IMMEDIATE, sql.COMMIT, sql.ROLLBACK)
                return await run_on_worker(self.driver(), enclosed)
        except (sqlite3.Error, ValueError) as exc:
            self._raise_translated(exc, subject)

    async def write(
        self, statement: str, parameters: Parameters, subject: DomainModel | None = None
    ) -> list[Any]:
        """Run one writing statement (atomic by itself) and return the rows it returns."""
        async with self.writing(subject, atomic=False) as db:
            return list(await db.execute_fetchall(statement, parameters))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One atomic block for the calling task; a nested block is a SAVEPOINT."""
        owned = self._owned_transaction()
        if owned is not None:
            async with self._savepoint(owned, enabled=True):
                yield
            return
        async with self._lock:
            driver = self.driver()
            current = _Transaction(self, asyncio.current_task())
            async with self._immediate(driver):
                token = _ACTIVE.set((*_ACTIVE.get(), current))
                try:
                    yield
                finally:
                    current.open = False
                    _ACTIVE.reset(token)

    @asynccontextmanager
    async def _immediate(self, driver: aiosqlite.Connection) -> AsyncIterator[None]:
        await self._control(driver, sql.BEGIN_IMMEDIATE)
        try:
            yield
        except BaseException:
            await _quietly(driver, sql.ROLLBACK)
            raise
        try:
            await self._control(driver, sql.COMMIT)
        except BaseException:
            await _quietly(driver, sql.ROLLBACK)
            raise

    @asynccontextmanager
    async def _savepoint(self, transaction: _Transaction, *, enabled: bool) -> AsyncIterator[None]:
        if not enabled:
            yield
            return
        driver = self.driver()
        savepoint = transaction.next_savepoint()
        await self._control(driver, savepoint.open)
        try:
            yield
        except BaseException:
            await _quietly(driver, savepoint.rollback)
            await _quietly(driver, savepoint.release)
            raise
        await self._control(driver, savepoint.release)

    async def _control(self, driver: aiosqlite.Connection, statement: str) -> None:
        """Run BEGIN, COMMIT, SAVEPOINT or RELEASE; its driver errors leave it translated.

        (Errors raised by the code inside a block are not this method's to translate.)
        """
        try:
            await driver.execute(statement)
        except (sqlite3.Error, ValueError) as exc:
            self._raise_translated(exc)

    def _raise_translated(self, exc: Exception, subject: DomainModel | None = None) -> NoReturn:
        translated = translate_error(exc, self.display_url, subject)
        if translated is None:
            raise exc
        raise translated from exc


async def _pragma(driver: aiosqlite.Connection, setting: str) -> object:
    rows = list(await driver.execute_fetchall(sql.pragma(setting)))
    return rows[0][0] if rows else None


async def _quietly(driver: aiosqlite.Connection, statement: str) -> None:
    """Undo after a failure; an error here must not hide the original one.

    It fails harmlessly when there is nothing left to undo (a cancelled COMMIT still runs on
    aiosqlite's thread). Statements queue in order on that thread, so the rollback runs
    before any statement of the next lock holder even if this task is cancelled again.
    """
    try:
        await driver.execute(statement)
    except (sqlite3.Error, ValueError):
        pass
