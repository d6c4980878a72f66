"""The failover journal without a running monitor: read it, or replay it by hand.

``ai-agent health`` reads a journal's counts with :func:`read_journal` (nothing is created or
changed); ``ai-agent db replay`` applies a pending journal to the primary with
:func:`replay_journal`, exactly as the monitor does when it fails back (the same ``drain`` and
``clear_copies``)::

    state = read_journal(fallback)           # None: a journal kept in memory, not on disk
    if state is not None and state.pending:
        outcome = await replay_journal(primary, fallback)

Only a SQLite fallback keeps its journal on disk (``<database>.failover-journal``). Replay
while no running application uses the same fallback: its monitor keeps the journal's
counts in memory, and would replay the same entries itself anyway.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.health._failover import backend_name, describe
from ai_agent.infrastructure.database.health._journal import (
    _COUNT,
    _COUNT_REJECTED,
    FORMAT_VERSION,
    SQLiteJournal,
    journal_path_for,
)
from ai_agent.infrastructure.database.health._replay import clear_copies, drain

__all__ = ["JournalState", "ReplayOutcome", "read_journal", "replay_journal"]


@dataclass(frozen=True, slots=True)
class JournalState:
    """A journal file: where it is and how many entries it holds in each state."""

    location: Path
    exists: bool
    pending: int = 0
    applied: int = 0  # replayed, with copies in the fallback not yet cleared
    rejected: int = 0  # set aside: the primary refused them for good


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What :func:`replay_journal` did."""

    location: Path
    replayed: int  # entries applied to the primary (or set aside) by this run
    rejected: int  # of them, set aside
    cleared: int | None  # fallback copies deleted; None when the fallback could not be reached
    pending: int  # entries still waiting (0 unless the primary failed part-way)
    clear_error: str | None = None


def _location(fallback: Repository, journal_path: str | Path | None) -> Path:
    chosen = Path(journal_path) if journal_path is not None else journal_path_for(fallback)
    if chosen is None:
        raise RepositoryError(
            f"the {backend_name(fallback)} fallback keeps its failover journal in the memory "
            "of the process that runs the monitor; only a SQLite fallback keeps one on disk"
        )
    return chosen.expanduser().absolute()


def read_journal(
    fallback: Repository, journal_path: str | Path | None = None
) -> JournalState | None:
    """The journal of ``fallback`` (or at ``journal_path``), read without changing anything.

    ``None`` for a fallback whose journal lives in memory. A missing file is reported
    (``exists=False``), never created. The file is opened read-write without creating it
    (``mode=rw``) and only read: a read-only connection would leave ``-wal`` and ``-shm``
    files behind.
    """
    try:
        path = _location(fallback, journal_path)
    except RepositoryError:
        return None
    if not path.exists():
        return JournalState(path, exists=False)
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            counts = dict(connection.execute(_COUNT).fetchall()) if version else {}
            rejected = connection.execute(_COUNT_REJECTED).fetchone()[0] if version else 0
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise RepositoryError(f"failover journal {path}: {type(exc).__name__}: {exc}") from exc
    if version > FORMAT_VERSION:
        raise RepositoryError(
            f"failover journal {path} has format {version}; this version of ai-agent "
            f"reads format {FORMAT_VERSION}"
        )
    return JournalState(path, True, counts.get(0, 0), counts.get(1, 0), rejected)


async def replay_journal(
    primary: Repository, fallback: Repository, journal_path: str | Path | None = None
) -> ReplayOutcome:
    """Apply the fallback's pending journal to ``primary``, then clear the fallback's copies.

    ``primary`` must be connected and migrated (a write it refuses for want of a schema
    would be set aside for good). ``fallback`` is connected here (idempotently) to delete
    the replayed entities' copies; when it cannot be, the replayed entries stay marked
    applied and the monitor clears them at its next start. Idempotent: a second run finds
    nothing pending. A missing journal is an error naming where it was looked for.

    Raises:
        RepositoryError: no journal on disk for this fallback, or none at its location.
        RepositoryConnectionError: the primary failed part-way; a later run resumes.
    """
    path = _location(fallback, journal_path)
    if not path.exists():
        raise RepositoryError(f"there is no failover journal at {path}")
    journal = SQLiteJournal(path, synchronous=str(getattr(fallback, "synchronous", "FULL")))
    await journal.open()
    try:
        rejected_before = journal.rejected_count
        replayed = await drain(primary, journal)
        rejected = journal.rejected_count - rejected_before
        cleared, clear_error = await _clear(fallback, journal)
        pending = journal.pending_count
    finally:
        await journal.close()
    return ReplayOutcome(path, replayed, rejected, cleared, pending, clear_error)


async def _clear(fallback: Repository, journal: SQLiteJournal) -> tuple[int | None, str | None]:
    """Delete the replayed entities from the fallback, as the monitor does after fail-back."""
    if journal.pending_count:
        return 0, None  # replay stopped part-way: the copies still answer for the rest
    try:
        await fallback.connect()
        removed = await clear_copies(fallback, await journal.applied())
    except RepositoryError as exc:
        return None, describe(exc)
    await journal.forget_applied()
    return removed, None
