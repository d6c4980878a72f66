"""Retention on SQLite: bounded deletes, each one short write transaction on an index.

``prune_sessions`` walks ``ix_sessions_activity`` from the least recently active session;
``trim_messages`` walks ``uq_messages_session_seq`` from a session's oldest message. Every
call holds the write lock only for its own batch, so appends from other tasks and processes
go on between batches.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._codec import to_micros
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection

__all__ = ["count_inactive_sessions", "long_sessions", "prune_sessions", "trim_messages"]


async def prune_sessions(
    connection: SQLiteConnection, cutoff: datetime, limit: int
) -> tuple[int, int]:
    parameters = {"cutoff": to_micros(cutoff), "limit": limit}
    rows = await connection.write(sql.PRUNE_SESSIONS, parameters)
    return len(rows), sum(row[0] for row in rows)


async def count_inactive_sessions(
    connection: SQLiteConnection, cutoff: datetime
) -> tuple[int, int]:
    rows = await connection.fetch(sql.COUNT_INACTIVE, (to_micros(cutoff),))
    return int(rows[0][0]), int(rows[0][1])


async def trim_messages(
    connection: SQLiteConnection, session_id: UUID, keep: int, limit: int
) -> int:
    parameters = {"session_id": str(session_id), "keep": keep, "limit": limit}
    async with connection.writing() as db:
        deleted = (await db.execute(sql.TRIM_MESSAGES, parameters)).rowcount
        if deleted:
            await db.execute(sql.UNCOUNT_MESSAGES, (deleted, str(session_id)))
    return max(deleted, 0)


async def long_sessions(
    connection: SQLiteConnection, more_than: int, after: UUID | None, limit: int
) -> list[tuple[UUID, int]]:
    parameters = (more_than, "" if after is None else str(after), limit)
    rows = await connection.fetch(sql.LONG_SESSIONS, parameters)
    return [(UUID(row[0]), int(row[1])) for row in rows]
