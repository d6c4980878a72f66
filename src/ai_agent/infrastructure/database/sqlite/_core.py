"""The SQLite connection, its settings, and the locking that makes it safe for tasks.

One aiosqlite connection serves the repository. A single connection shares one transaction
state, so every statement runs under one ``asyncio.Lock``: a task never sees another task's
uncommitted rows and never lands inside another task's transaction. Nothing is lost by
serialising: aiosqlite runs one call at a time on its worker thread anyway, and SQLite admits
one writer at a time. Multi-statement writes run in ``BEGIN IMMEDIATE`` ... ``COMMIT``
(``IMMEDIATE`` takes the file's write lock first, so other processes queue behind it for
the busy timeout instead of failing half-way), and roll back on any error.

``transaction()`` holds the lock for a whole block. A context variable records the owning
task, so repository calls inside the block run directly (each inside a SAVEPOINT, so one
failed call undoes only itself), nested blocks become SAVEPOINTs, and other tasks (including
tasks the block starts) wait until the block ends.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import aiosqlite

from ai_agent.config.urls import sqlite_file_path
from ai_agent.domain.models import DomainModel
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import (
    RepositoryConnectionError,
    RepositoryError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.sqlite._errors import translate

__all__ = ["SQLiteCore", "Synchronous"]

Synchronous = Literal["FULL", "NORMAL"]

_READ_REVISION = (
    "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version')"
)
_SELECT_REVISION = "SELECT version_num FROM alembic_version LIMIT 1"


@dataclass(eq=False)
class _Transaction:
    """An open ``transaction()`` block: which repository, which task, how deep."""

    repository: SQLiteCore
    owner: asyncio.Task[Any] | None
    savepoints: int = 0
    open: bool = True

    def next_savepoint(self) -> str:
        self.savepoints += 1
        return f"ai_agent_{self.savepoints}"


# Module level (not per repository) as contextvars should be; entries name their repository.
_ACTIVE: ContextVar[tuple[_Transaction, ...]] = ContextVar("ai_agent_sqlite_tx", default=())


class SQLiteCore(BaseRepository):
    """Connection lifecycle, transactions and error translation of ``SQLiteRepository``."""

    backend_name = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] = "ai_agent.db",
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        text = os.fspath(path)
        if not text or text == ":memory:" or text.startswith("file:"):
            raise RepositoryValidationError(
                f"SQLiteRepository needs a database file path, got {text!r}; "
                "use InMemoryRepository for a store without a file"
            )
        if synchronous not in ("FULL", "NORMAL"):
            raise RepositoryValidationError(
                f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}"
            )
        if not busy_timeout >= 0:
            raise RepositoryValidationError(f"busy_timeout must be >= 0, got {busy_timeout!r}")
        self.path = Path(text).expanduser().absolute()
        self.synchronous: Synchronous = synchronous
        self.busy_timeout = float(busy_timeout)
        self._connection: aiosqlite.Connection | None = None
        self._statement_lock = asyncio.Lock()

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
        return f"sqlite:///{self.path}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        # aiosqlite leaves its worker thread to die unawaited when opening fails, and that
        # thread then reports into a closed event loop; so find open failures here first.
        await asyncio.to_thread(_probe, self.path, self.busy_timeout)
        opening = aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        # A daemon worker never holds the interpreter open: a repository nobody disconnects
        # is closed by its finalizer instead, which runs after Python waits for non-daemon
        # threads (see _stop_worker).
        _worker(opening).daemon = True
        connection = await opening
        try:
            connection.row_factory = sqlite3.Row
            await self._configure(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._statement_lock = asyncio.Lock()  # bound to the loop that connects

    async def _configure(self, connection: aiosqlite.Connection) -> None:
        await connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        mode = await _pragma(connection, "journal_mode")
        if mode != "wal":  # switching needs the write lock: only when the file is not WAL yet
            mode = await _pragma(connection, "journal_mode = WAL")
        if mode != "wal":
            raise RepositoryConnectionError(
                f"cannot use write-ahead logging on {self.display_url} (journal mode {mode})"
            )
        if await _pragma(connection, "foreign_keys") != 1:
            raise RepositoryConnectionError(
                f"this SQLite library cannot enforce foreign keys ({self.display_url})"
            )

    async def _disconnect(self) -> None:
        if self._owned_transaction() is not None:
            await self._close()  # the owner closing inside its block: the lock is its own
            return
        async with self._statement_lock:
            await self._close()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except (sqlite3.Error, ValueError):
                pass  # closing is best effort; the worker thread stops either way

    def _release_abandoned(self) -> Release | None:
        connection = self._connection
        if connection is None:
            return None
        return functools.partial(_stop_worker, connection, self.busy_timeout + 1.0)

    async def _ping(self) -> bool:
        # No lock: a read of the schema page is harmless inside another task's transaction.
        rows = await self._open().execute_fetchall("SELECT count(*) FROM sqlite_master")
        return len(list(rows)) == 1

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        return translate(exc, self.display_url)

    def pool_connections(self) -> tuple[int, int] | None:
        # One connection, in use while a statement or a transaction() block holds its lock.
        if self._connection is None:
            return None
        return (1, 0) if self._statement_lock.locked() else (0, 1)

    async def schema_revision(self) -> str | None:
        """The Alembic revision of the database file, or ``None`` when it has no schema."""
        self._ensure_open()
        return await self._run(self._schema_revision)

    async def _schema_revision(self) -> str | None:
        async with self._reading() as connection:
            rows = list(await connection.execute_fetchall(_READ_REVISION))
            if not rows[0][0]:
                return None
            rows = list(await connection.execute_fetchall(_SELECT_REVISION))
        return str(rows[0][0]) if rows else None

    # -- statements and transactions ---------------------------------------------------------

    def _open(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RepositoryConnectionError(
                f"sqlite repository at {self.display_url} is not connected; call connect() first"
            )
        return self._connection

    def _owned_transaction(self) -> _Transaction | None:
        task = asyncio.current_task()
        for active in _ACTIVE.get():
            if active.repository is self and active.open and active.owner is task:
                return active
        return None

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for reads: under the lock unless this task owns a transaction."""
        if self._owned_transaction() is not None:
            yield self._open()
            return
        async with self._statement_lock:
            yield self._open()

    @asynccontextmanager
    async def _writing(
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
                    yield self._open()
                return
            async with self._statement_lock:
                connection = self._open()
                if not atomic:
                    yield connection
                    return
                async with self._immediate(connection):
                    yield connection
        except (sqlite3.Error, ValueError) as exc:
            translated = translate(exc, self.display_url, subject)
            if translated is None:
                raise
            raise translated from exc

    @asynccontextmanager
    async def _immediate(self, connection: aiosqlite.Connection) -> AsyncIterator[None]:
        await self._control(connection, "BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await _quietly(connection, "ROLLBACK")
            raise
        try:
            await self._control(connection, "COMMIT")
        except BaseException:
            await _quietly(connection, "ROLLBACK")
            raise

    @asynccontextmanager
    async def _savepoint(self, transaction: _Transaction, *, enabled: bool) -> AsyncIterator[None]:
        if not enabled:
            yield
            return
        connection = self._open()
        name = transaction.next_savepoint()
        await self._control(connection, f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await _quietly(connection, f"ROLLBACK TO {name}")
            await _quietly(connection, f"RELEASE {name}")
            raise
        await self._control(connection, f"RELEASE {name}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Run the block's repository calls as one atomic unit.

        An exception leaving the block rolls back every call made inside it; a nested block
        is a SAVEPOINT, undone alone when an exception leaves it. While the block runs, other
        tasks' calls wait for it, so do not await, inside the block, a task that uses this
        repository: it would wait for the block forever.
        """
        self._ensure_open()
        owned = self._owned_transaction()
        if owned is not None:
            async with self._savepoint(owned, enabled=True):
                yield self
            return
        async with self._statement_lock:
            connection = self._open()
            current = _Transaction(self, asyncio.current_task())
            async with self._immediate(connection):
                token = _ACTIVE.set((*_ACTIVE.get(), current))
                try:
                    yield self
                finally:
                    current.open = False
                    _ACTIVE.reset(token)

    async def _control(self, connection: aiosqlite.Connection, statement: str) -> None:
        """Run BEGIN, COMMIT, SAVEPOINT or RELEASE; its driver errors leave it translated.

        (Errors raised by the code inside a block are not this method's to translate.)
        """
        try:
            await connection.execute(statement)
        except (sqlite3.Error, ValueError) as exc:
            translated = translate(exc, self.display_url)
            if translated is None:
                raise
            raise translated from exc


def _worker(connection: aiosqlite.Connection) -> threading.Thread:
    # aiosqlite >= 0.22 runs a thread of its own; older versions are that thread.
    thread = getattr(connection, "_thread", connection)
    assert isinstance(thread, threading.Thread)
    return thread


def _stop_worker(connection: aiosqlite.Connection, timeout: float) -> None:
    """Close an abandoned connection on its worker thread and end that thread, loop-free.

    ``stop()`` makes a future on the calling thread's event loop when it has one, and the
    worker then answers into that loop, which may be closed by then ("Event loop is
    closed" from the worker): so it is called from a thread without a loop. Statements
    already queued run first; the join waits for them and for the close.
    """
    stop = getattr(connection, "stop", None)
    if stop is None:  # aiosqlite < 0.22: its daemon thread ends with the process
        return
    stopper = threading.Thread(target=stop, name="ai-agent-sqlite-stop")
    stopper.start()
    stopper.join()
    worker = _worker(connection)
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


async def _pragma(connection: aiosqlite.Connection, statement: str) -> object:
    rows = list(await connection.execute_fetchall(f"PRAGMA {statement}"))
    return rows[0][0] if rows else None


async def _quietly(connection: aiosqlite.Connection, statement: str) -> None:
    """Undo after a failure; an error here must not hide the original one.

    It fails harmlessly when there is nothing left to undo (a cancelled COMMIT still runs on
    aiosqlite's thread). Statements queue in order on that thread, so the rollback runs
    before any statement of the next lock holder even if this task is cancelled again.
    """
    try:
        await connection.execute(statement)
    except (sqlite3.Error, ValueError):
        pass
