"""Raw SQLite store: the standard library's ``sqlite3``, synchronous, on one connection.

The same durability as the project's default: WAL, ``synchronous=FULL``, foreign keys on.
Calls block the event loop (no worker thread): this is the floor a plain sqlite3 program
reaches; the project uses aiosqlite, which adds a thread hop per statement. Messages use
``seq INTEGER PRIMARY KEY`` (the rowid) for insertion order and a unique id; timestamps are
epoch microseconds and JSON is text, as in the project's SQLite schema.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, Session
from bench.stores import Store

__all__ = ["RawSQLiteStore", "open_raw_sqlite"]

SCHEMA = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    title TEXT,
    metadata TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    last_activity INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_activity ON sessions (user_id, last_activity DESC, id DESC);
CREATE INDEX sessions_activity ON sessions (last_activity DESC, id DESC);
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tool_calls TEXT NOT NULL,
    parent_message_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX messages_session_seq ON messages (session_id, seq);
CREATE INDEX messages_parent ON messages (parent_message_id) WHERE parent_message_id IS NOT NULL;
"""

BUMP = """
UPDATE sessions SET message_count = message_count + ?, last_activity = max(last_activity, ?)
WHERE id = ?
"""
INSERT_MESSAGE = "INSERT INTO messages VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
RECENT = """
SELECT id, session_id, role, content, metadata, tool_calls, parent_message_id, created_at,
       updated_at
FROM (SELECT * FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?)
ORDER BY seq
"""
LIST_SESSIONS = """
SELECT * FROM sessions WHERE user_id = ? ORDER BY last_activity DESC, id DESC LIMIT ?
"""


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _row(message: Message) -> tuple[object, ...]:
    parent = message.parent_message_id
    return (
        str(message.id),
        str(message.session_id),
        str(message.role),
        message.content,
        json.dumps(message.metadata),
        json.dumps(message.tool_calls),
        None if parent is None else str(parent),
        _micros(message.created_at),
        _micros(message.updated_at),
    )


class RawSQLiteStore:
    """Plain sqlite3: each write is one ``BEGIN IMMEDIATE`` ... ``COMMIT``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    async def create_session(self, session: Session) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (
                    str(session.id),
                    session.user_id,
                    session.title,
                    json.dumps(session.metadata),
                    _micros(session.last_activity),
                    _micros(session.created_at),
                    _micros(session.updated_at),
                ),
            )

    async def append(self, message: Message) -> None:
        await self.append_many([message])

    async def append_many(self, messages: Sequence[Message]) -> None:
        rows = [_row(message) for message in messages]
        counts: dict[str, tuple[int, int]] = {}
        for message in messages:
            count, newest = counts.get(str(message.session_id), (0, 0))
            created = _micros(message.created_at)
            counts[str(message.session_id)] = (count + 1, max(newest, created))
        with self.db:  # commits, or rolls back on any error
            for session_id, (count, newest) in counts.items():
                if self.db.execute(BUMP, (count, newest, session_id)).rowcount != 1:
                    raise LookupError(f"session {session_id} not found")
            self.db.executemany(INSERT_MESSAGE, rows)

    async def recent(self, session_id: UUID, limit: int) -> list[Any]:
        return self.db.execute(RECENT, (str(session_id), limit)).fetchall()

    async def list_sessions(self, user_id: str, limit: int) -> list[Any]:
        return self.db.execute(LIST_SESSIONS, (user_id, limit)).fetchall()

    def ids(self, items: Sequence[Any]) -> list[str]:
        return [row[0] for row in items]  # both reads select the id first

    async def delete_session(self, session_id: UUID) -> bool:
        with self.db:
            cursor = self.db.execute("DELETE FROM sessions WHERE id = ?", (str(session_id),))
        return cursor.rowcount == 1

    async def message_count(self, session_id: UUID) -> int | None:
        row = self.db.execute(
            "SELECT message_count FROM sessions WHERE id = ?", (str(session_id),)
        ).fetchone()
        return None if row is None else int(row[0])


def _fresh_connection(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level="IMMEDIATE")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.executescript(SCHEMA)
    return connection


@asynccontextmanager
async def open_raw_sqlite(path: Path) -> AsyncIterator[Store]:
    """A new database file at ``path`` (removed first if present)."""
    connection = _fresh_connection(path)  # blocking, like every call of this store
    try:
        yield RawSQLiteStore(connection)
    finally:
        connection.close()
