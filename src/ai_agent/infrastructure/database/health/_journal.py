"""The failover journal: every write the fallback accepted during an outage, in order.

An entry is the name of the repository method (``create_message``) and its JSON payload: the
entity as the fallback stored it (creates and updates), the list of messages
(``create_messages``), or the id (deletes). An entry goes ``pending`` -> ``applied`` once
replayed into the primary (or moved to the ``rejected`` table when the primary refuses it
for good) -> forgotten once its copy in the fallback has been cleared.

Two implementations: :class:`MemoryJournal` (for a fallback that is not durable either) and
:class:`SQLiteJournal`, its own SQLite file (stdlib ``sqlite3`` on one worker thread, WAL),
kept next to a SQLite fallback's database so that it survives a restart with it. The file's
schema (``PRAGMA user_version`` 1)::

    journal(seq INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT, payload TEXT,
            recorded_at TEXT, applied INTEGER)     -- applied: 0 pending, 1 replayed
    rejected(seq INTEGER PRIMARY KEY, operation TEXT, payload TEXT, recorded_at TEXT,
             rejected_at TEXT, reason TEXT)        -- kept for an operator to inspect
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ai_agent.domain.models import utc_now
from ai_agent.infrastructure.database.errors import RepositoryError

__all__ = [
    "Journal",
    "JournalEntry",
    "MemoryJournal",
    "SQLiteJournal",
    "journal_for",
    "journal_path_for",
]

T = TypeVar("T")

FORMAT_VERSION = 1
JOURNAL_SUFFIX = ".failover-journal"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS journal_by_state ON journal (applied, seq);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    operation TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""
_APPEND = "INSERT INTO journal (operation, payload, recorded_at) VALUES (?, ?, ?)"
_SELECT = "SELECT seq, operation, payload, recorded_at FROM journal WHERE applied = ? ORDER BY seq"
_COUNT = "SELECT applied, count(*) FROM journal GROUP BY applied"
_COUNT_REJECTED = "SELECT count(*) FROM rejected"
_MARK = "UPDATE journal SET applied = 1 WHERE seq = ?"
_REJECT = "INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)"
_FORGET = "DELETE FROM journal WHERE applied = 1"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One write accepted by the fallback: ``operation`` is the repository method's name."""

    seq: int
    operation: str
    payload: str
    recorded_at: datetime


class Journal(ABC):
    """Ordered, append-only storage of fallback writes (see the module docstring)."""

    durable: bool = False

    def __init__(self) -> None:
        self.pending_count = 0
        self.applied_count = 0
        self.rejected_count = 0

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the journal lives (a file path, or ``memory``)."""

    @abstractmethod
    async def open(self) -> None:
        """Make the journal usable; idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources; entries stay where a durable journal keeps them."""

    @abstractmethod
    async def append(self, operation: str, payload: str) -> int:
        """Record a write (durably, when the journal is durable); return its sequence number."""

    @abstractmethod
    async def pending(self, limit: int) -> list[JournalEntry]:
        """The oldest ``limit`` entries not yet replayed, oldest first."""

    @abstractmethod
    async def mark_applied(self, entries: list[JournalEntry]) -> None:
        """These entries (the oldest pending ones, in order) reached the primary."""

    @abstractmethod
    async def reject(self, entry: JournalEntry, reason: str) -> None:
        """The primary refused the entry for good: keep it aside, and count it as processed."""

    @abstractmethod
    async def applied(self) -> list[JournalEntry]:
        """Entries replayed (or rejected) whose fallback copies are not yet cleared."""

    @abstractmethod
    async def forget_applied(self) -> None:
        """Drop the replayed entries: their copies in the fallback are gone."""


class MemoryJournal(Journal):
    """A journal in this process, for a fallback that does not survive a restart either."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: deque[JournalEntry] = deque()
        self._applied: list[JournalEntry] = []
        self.rejected_entries: list[tuple[JournalEntry, str]] = []
        self._next = 1

    @property
    def location(self) -> str:
        return "memory"

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None  # the entries live as long as this object

    async def append(self, operation: str, payload: str) -> int:
        entry = JournalEntry(self._next, operation, payload, utc_now())
        self._next += 1
        self._pending.append(entry)
        self.pending_count += 1
        return entry.seq

    async def pending(self, limit: int) -> list[JournalEntry]:
        return [entry for _, entry in zip(range(limit), self._pending, strict=False)]

    async def mark_applied(self, entries: list[JournalEntry]) -> None:
        for entry in entries:
            self._take(entry)

    async def reject(self, entry: JournalEntry, reason: str) -> None:
        self._take(entry)
        self.rejected_entries.append((entry, reason))
        self.rejected_count += 1

    def _take(self, entry: JournalEntry) -> None:
        if not self._pending or self._pending[0].seq != entry.seq:
            raise RepositoryError(f"journal entry {entry.seq} is not the oldest pending one")
        self._applied.append(self._pending.popleft())
        self.pending_count -= 1
        self.applied_count += 1

    async def applied(self) -> list[JournalEntry]:
        return list(self._applied)

    async def forget_applied(self) -> None:
        self._applied.clear()
        self.applied_count = 0


class SQLiteJournal(Journal):
    """A journal in its own SQLite file; every append is committed before it returns."""

    durable = True

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        super().__init__()
        self.path = Path(path).expanduser().absolute()
        self.synchronous = "NORMAL" if synchronous == "NORMAL" else "FULL"
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="failover-journal")
        try:
            await self._call(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(executor, connection.close)
        executor.shutdown(wait=True)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RepositoryError(f"failover journal {self.path} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        except sqlite3.Error as exc:
            raise RepositoryError(
                f"failover journal {self.path}: {type(exc).__name__}: {exc}"
            ) from exc

    # -- on the journal's thread -------------------------------------------------------------

    def _open(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > FORMAT_VERSION:
                raise RepositoryError(
                    f"failover journal {self.path} has format {version}; this version of "
                    f"ai-agent reads format {FORMAT_VERSION}"
                )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            connection.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = 1; COMMIT;")
            counts = dict(connection.execute(_COUNT).fetchall())
            self.rejected_count = connection.execute(_COUNT_REJECTED).fetchone()[0]
        except BaseException:
            connection.close()
            raise
        self.pending_count = counts.get(0, 0)
        self.applied_count = counts.get(1, 0)
        self._connection = connection

    def _db(self) -> sqlite3.Connection:
        assert self._connection is not None, "opened on this thread by _open"
        return self._connection

    def _append(self, operation: str, payload: str) -> int:
        cursor = self._db().execute(_APPEND, (operation, payload, utc_now().isoformat()))
        self.pending_count += 1
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _select(self, applied: int, limit: int | None) -> list[JournalEntry]:
        sql = _SELECT if limit is None else f"{_SELECT} LIMIT {int(limit)}"
        return [
            JournalEntry(seq, operation, payload, datetime.fromisoformat(recorded))
            for seq, operation, payload, recorded in self._db().execute(sql, (applied,))
        ]

    def _mark(self, seqs: list[int]) -> None:
        db = self._db()
        with db:  # one transaction, one commit for the whole group
            db.execute("BEGIN")
            db.executemany(_MARK, [(seq,) for seq in seqs])
        self.pending_count -= len(seqs)
        self.applied_count += len(seqs)

    def _reject(self, entry: JournalEntry, reason: str) -> None:
        row = (entry.seq, entry.operation, entry.payload, entry.recorded_at.isoformat())
        db = self._db()
        with db:  # one transaction: the entry is set aside and marked processed together
            db.execute("BEGIN")
            db.execute(_REJECT, (*row, utc_now().isoformat(), reason))
            db.execute(_MARK, (entry.seq,))
        self.pending_count -= 1
        self.applied_count += 1
        self.rejected_count += 1

    def _forget(self) -> None:
        self._db().execute(_FORGET)
        self.applied_count = 0

    # -- the interface -----------------------------------------------------------------------

    async def append(self, operation: str, payload: str) -> int:
        return await self._call(self._append, operation, payload)

    async def pending(self, limit: int) -> list[JournalEntry]:
        return await self._call(self._select, 0, limit)

    async def mark_applied(self, entries: list[JournalEntry]) -> None:
        await self._call(self._mark, [entry.seq for entry in entries])

    async def reject(self, entry: JournalEntry, reason: str) -> None:
        await self._call(self._reject, entry, reason)

    async def applied(self) -> list[JournalEntry]:
        return await self._call(self._select, 1, None)

    async def forget_applied(self) -> None:
        await self._call(self._forget)


def journal_path_for(fallback: object) -> Path | None:
    """Where a durable fallback's journal lives: next to a SQLite fallback's database file."""
    path = getattr(fallback, "path", None)
    if getattr(fallback, "backend_name", None) == "sqlite" and isinstance(path, Path):
        return path.with_name(path.name + JOURNAL_SUFFIX)
    return None


def journal_for(fallback: object, path: str | os.PathLike[str] | None = None) -> Journal:
    """The journal of ``fallback``'s writes: at ``path``, else beside a SQLite fallback's
    file, else in memory (a fallback that is not durable needs no durable journal)."""
    chosen = Path(path) if path is not None else journal_path_for(fallback)
    if chosen is None:
        return MemoryJournal()
    return SQLiteJournal(chosen, synchronous=str(getattr(fallback, "synchronous", "FULL")))
