"""The SQLite connection: opening it, its pragmas, the lock that makes it safe for tasks.

One aiosqlite connection serves a repository. A single connection shares one transaction
state, so every statement runs under one ``asyncio.Lock``: a task never sees another task's
uncommitted rows and never lands inside another task's transaction. Nothing is lost by
serialising: aiosqlite runs one call at a time on its worker thread anyway, and SQLite admits
one writer at a time. Multi-statement writes run in ``BEGIN IMMEDIATE`` ... ``COMMIT``
(``IMMEDIATE`` takes the file's write lock first, so other processes queue behind it for
the busy timeout instead of failing half-way), and roll back on any error.

``transaction()`` holds the lock for a whole block. A context variable records the owning
task, so statements inside the block run directly (each write inside a SAVEPOINT, so one
failed call undoes only itself), nested blocks become SAVEPOINTs, and other tasks (including
tasks the block starts) wait until the block ends.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import aiosqlite

from ai_agent.domain.models import DomainModel
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.errors import RepositoryConnectionError
from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._errors import translate_error

__all__ = ["Parameters", "SQLiteConnection", "Synchronous"]

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
        self._lock = asyncio.Lock()

    @property
    def display_url(self) -> str:
        return f"sqlite:///{self.path}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        # aiosqlite leaves its worker thread to die unawaited when opening fails, and that
        # thread then reports into a closed event loop; so find open failures here first.
        await asyncio.to_thread(_probe, self.path, self.busy_timeout)
        opening = aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        # A daemon worker never holds the interpreter open: a repository nobody disconnects
        # is closed by its finalizer instead, which runs after Python waits for non-daemon
        # threads (see _stop_worker).
        _worker(opening).daemon = True
        driver = await opening
        try:
            driver.row_factory = sqlite3.Row
            await self._configure(driver)
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
        if driver is not None:
            try:
                await driver.close()
            except (sqlite3.Error, ValueError):
                pass  # closing is best effort; the worker thread stops either way

    def release_abandoned(self) -> Release | None:
        driver = self._driver
        if driver is None:
            return None
        return functools.partial(_stop_worker, driver, self.busy_timeout + 1.0)

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

    async def fetch(self, statement: str, parameters: Parameters = ()) -> list[sqlite3.Row]:
        """The rows of one read."""
        async with self.reading() as db:
            return list(await db.execute_fetchall(statement, parameters))

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

    async def write(
        self, statement: str, parameters: Parameters, subject: DomainModel | None = None
    ) -> list[sqlite3.Row]:
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


def _worker(driver: aiosqlite.Connection) -> threading.Thread:
    # aiosqlite >= 0.22 runs a thread of its own; older versions are that thread.
    thread = getattr(driver, "_thread", driver)
    assert isinstance(thread, threading.Thread)
    return thread


def _stop_worker(driver: aiosqlite.Connection, timeout: float) -> None:
    """Close an abandoned connection on its worker thread and end that thread, loop-free.

    ``stop()`` makes a future on the calling thread's event loop when it has one, and the
    worker then answers into that loop, which may be closed by then ("Event loop is
    closed" from the worker): so it is called from a thread without a loop. Statements
    already queued run first; the join waits for them and for the close.
    """
    stop = getattr(driver, "stop", None)
    if stop is None:  # aiosqlite without stop(): its daemon thread ends with the process
        return
    stopper = threading.Thread(target=stop, name="ai-agent-sqlite-stop")
    stopper.start()
    stopper.join()
    worker = _worker(driver)
    if worker is not threading.current_thread():  # a collection may run on the worker
        worker.join(timeout)


def _probe(path: Path, timeout: float) -> None:
    """Open and close the file with plain sqlite3; refuse a missing one.

    Connecting would create an empty file, which has no schema: the start would fail and
    leave that file behind. Migrations create the file (``migrations.upgrade``).
    """
    if not path.exists():
        raise RepositoryConnectionError(
            f"the SQLite database file {path} does not exist; to create it, "
            f"run `ai-agent db migrate --url sqlite:///{path}`"
        )
    # mode=rw: a file removed since the check is an error here too, not created again.
    sqlite3.connect(f"{path.as_uri()}?mode=rw", timeout=timeout, uri=True).close()


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
