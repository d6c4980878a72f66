"""Retention on PostgreSQL, a bounded batch per statement, and the schema's revision."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ai_agent.infrastructure.database.postgresql import _queries as q
from ai_agent.infrastructure.database.postgresql._connection import ConnectionRouter
from ai_agent.infrastructure.database.postgresql._sessions import under_session_lock

__all__ = [
    "count_inactive_sessions",
    "long_sessions",
    "prune_sessions",
    "schema_revision",
    "trim_messages",
]


async def prune_sessions(db: ConnectionRouter, cutoff: datetime, limit: int) -> tuple[int, int]:
    rows = await db.fetch(q.PRUNE_SESSIONS.sql, cutoff, limit)
    return len(rows), sum(row[0] for row in rows)


async def count_inactive_sessions(db: ConnectionRouter, cutoff: datetime) -> tuple[int, int]:
    row = await db.fetchrow(q.COUNT_INACTIVE.sql, cutoff)
    assert row is not None  # an aggregate always returns one row
    return int(row[0]), int(row[1])


async def trim_messages(db: ConnectionRouter, session_id: UUID, keep: int, limit: int) -> int:
    trim = q.TRIM_MESSAGES
    deleted = await under_session_lock(db, session_id, lambda c: c.fetchval, trim, keep, limit)
    return int(deleted or 0)


async def long_sessions(
    db: ConnectionRouter, more_than: int, after: UUID | None, limit: int
) -> list[tuple[UUID, int]]:
    start = after or UUID(int=0)
    rows = await db.fetch(q.LONG_SESSIONS.sql, more_than, start, limit)
    return [(UUID(int=row[0].int), int(row[1])) for row in rows]


async def schema_revision(db: ConnectionRouter) -> str | None:
    """The Alembic revision of the schema, or ``None`` when it was never migrated."""
    if not await db.fetchval(q.SCHEMA_VERSION_TABLE.sql):
        return None
    revision = await db.fetchval(q.SCHEMA_REVISION.sql)
    return None if revision is None else str(revision)
