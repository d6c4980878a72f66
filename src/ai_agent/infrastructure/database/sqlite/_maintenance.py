"""Retention on SQLite: bounded deletes, each one short write transaction on an index.

``prune_sessions`` walks ``ix_sessions_activity`` from the least recently active session;
``trim_messages`` walks ``uq_messages_session_seq`` from a session's oldest message. Every
call holds the write lock only for its own batch, so appends from other tasks and processes
go on between batches.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ai_agent.infrastructure.database.sqlite._core import SQLiteCore
from ai_agent.infrastructure.database.sqlite._rows import to_micros

__all__ = ["MaintenanceStore"]

# last_activity is re-checked by the DELETE itself, inside the write transaction.
_PRUNE_SESSIONS = (
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE last_activity < :cutoff "
    "ORDER BY last_activity, id LIMIT :limit) AND last_activity < :cutoff RETURNING message_count"
)
_COUNT_INACTIVE = (
    "SELECT count(*), coalesce(sum(message_count), 0) FROM sessions WHERE last_activity < ?"
)
# The oldest messages beyond the newest :keep, at most :limit of them.
_TRIM_MESSAGES = (
    "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE session_id = :session_id "
    "AND seq <= (SELECT seq FROM messages WHERE session_id = :session_id "
    "ORDER BY seq DESC LIMIT 1 OFFSET :keep) ORDER BY seq LIMIT :limit)"
)
_UNCOUNT_MESSAGES = "UPDATE sessions SET message_count = message_count - ? WHERE id = ?"
_LONG_SESSIONS = (
    "SELECT id, message_count FROM sessions WHERE message_count > ? AND id > ? ORDER BY id LIMIT ?"
)


class MaintenanceStore(SQLiteCore):
    """The retention operations of ``SQLiteRepository``."""

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        parameters = {"cutoff": to_micros(cutoff), "limit": limit}
        async with self._writing(atomic=False) as connection:  # one statement: atomic
            rows = list(await connection.execute_fetchall(_PRUNE_SESSIONS, parameters))
        return len(rows), sum(row[0] for row in rows)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        async with self._reading() as connection:
            rows = list(await connection.execute_fetchall(_COUNT_INACTIVE, (to_micros(cutoff),)))
        return int(rows[0][0]), int(rows[0][1])

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        parameters = {"session_id": str(session_id), "keep": keep, "limit": limit}
        async with self._writing() as connection:
            cursor = await connection.execute(_TRIM_MESSAGES, parameters)
            deleted = cursor.rowcount
            if deleted:
                await connection.execute(_UNCOUNT_MESSAGES, (deleted, str(session_id)))
        return max(deleted, 0)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        parameters = (more_than, "" if after is None else str(after), limit)
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_LONG_SESSIONS, parameters)
        return [(UUID(row[0]), int(row[1])) for row in rows]
