"""sqlite3 and aiosqlite at the driver level: opening files, the worker thread.

aiosqlite runs each call on its worker thread and answers on the event loop: a thread hop
per statement. :func:`run_on_worker` runs a whole function there instead, so a
multi-statement write (BEGIN ... COMMIT) costs one hop.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from ai_agent.infrastructure.database.errors import RepositoryConnectionError
from ai_agent.infrastructure.database.sqlite import _queries as sql

__all__ = ["enclosed_in", "open_reader", "probe", "run_on_worker", "stop_worker", "worker"]

T = TypeVar("T")


async def run_on_worker(driver: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` with the sqlite3 connection on aiosqlite's thread, after queued calls.

    aiosqlite's own methods do one sqlite3 call each through ``_execute``; this passes it a
    whole function. (Its ``_execute`` and ``_conn`` are the public methods' common path.)
    """
    execute = cast(Callable[..., Any], driver._execute)
    return cast(T, await execute(work, driver._conn))


def worker(driver: aiosqlite.Connection) -> threading.Thread:
    # aiosqlite >= 0.22 runs a thread of its own; older versions are that thread.
    thread = getattr(driver, "_thread", driver)
    assert isinstance(thread, threading.Thread)
    return thread


def stop_worker(driver: aiosqlite.Connection, timeout: float) -> None:
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
    thread = worker(driver)
    if thread is not threading.current_thread():  # a collection may run on the worker
        thread.join(timeout)


def probe(path: Path, timeout: float) -> None:
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


def open_reader(path: Path, timeout: float) -> sqlite3.Connection:
    """The connection for reads: used by one task at a time (the lock), from any thread."""
    uri = f"{path.as_uri()}?mode=rw"
    reader = sqlite3.connect(uri, timeout=timeout, uri=True, check_same_thread=False)
    reader.isolation_level = None  # autocommit: each read sees the latest commit
    reader.execute(sql.pragma("query_only = ON"))
    return reader


def enclosed_in(
    work: Callable[[sqlite3.Connection], T], begin: str, end: str, *undo: str
) -> Callable[[sqlite3.Connection], T]:
    """``work`` between ``begin`` and ``end``; ``undo`` when anything fails."""

    def run(db: sqlite3.Connection) -> T:
        db.execute(begin)
        try:
            result = work(db)
            db.execute(end)
        except BaseException:
            for statement in undo:
                with contextlib.suppress(sqlite3.Error):  # must not hide the first error
                    db.execute(statement)
            raise
        return result

    return run
