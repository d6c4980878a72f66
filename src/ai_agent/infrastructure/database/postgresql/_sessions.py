"""The session operations on PostgreSQL, and the session's row lock other writes queue on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import Session
from ai_agent.infrastructure.database.errors import ConflictError
from ai_agent.infrastructure.database.postgresql import _queries as q
from ai_agent.infrastructure.database.postgresql._catalog import (
    delete_row,
    get_row,
    insert_row,
    list_rows,
    replace_row,
)
from ai_agent.infrastructure.database.postgresql._codec import SESSIONS
from ai_agent.infrastructure.database.postgresql._connection import Connection, ConnectionRouter

__all__ = [
    "create_session",
    "delete_session",
    "get_or_create_session",
    "get_session",
    "list_sessions",
    "under_session_lock",
    "update_session",
]

T = TypeVar("T")


async def create_session(db: ConnectionRouter, session: Session) -> Session:
    session.message_count = 0
    return await insert_row(db, SESSIONS, q.SESSION_SQL.insert, session)


async def get_session(db: ConnectionRouter, session_id: UUID) -> Session | None:
    return await get_row(db, SESSIONS, q.SESSION_SQL.get, session_id)


async def list_sessions(
    db: ConnectionRouter, user_id: str | None, limit: int, offset: int
) -> list[Session]:
    if user_id is None:
        return await list_rows(db, SESSIONS, q.SESSION_SQL.list_all, limit, offset)
    return await list_rows(db, SESSIONS, q.LIST_USER_SESSIONS, user_id, limit, offset)


async def update_session(db: ConnectionRouter, session: Session) -> Session:
    return await replace_row(db, SESSIONS, q.SESSION_SQL.update, session)


async def delete_session(db: ConnectionRouter, session_id: UUID) -> bool:
    return await delete_row(db, q.SESSION_SQL.delete, session_id)  # and its messages


async def get_or_create_session(db: ConnectionRouter, session: Session) -> tuple[Session, bool]:
    session.message_count = 0
    args = SESSIONS.values(session, q.INSERT_SESSION_IF_NEW.params)
    if await db.execute(q.INSERT_SESSION_IF_NEW.sql, *args) == q.INSERT_DONE:
        return session, True
    stored = await get_session(db, session.id)
    if stored is None:  # deleted between the two statements: a retry settles it
        raise ConflictError(f"session {session.id} was deleted while being read; retry")
    return stored, False


async def under_session_lock(
    db: ConnectionRouter,
    session_id: UUID,
    fetch: Callable[[Connection], Callable[..., Awaitable[T]]],
    statement: q.Statement,
    *args: Any,
) -> T | None:
    """Run ``statement`` (``$1`` = the session id) through ``fetch(connection)`` under the
    session's row lock, in a transaction of its own (a savepoint inside a caller's block);
    ``None`` when there is no such session."""

    async def locked(connection: Connection) -> T | None:
        async with connection.transaction():
            if not await connection.fetchval(q.LOCK_SESSION.sql, session_id):
                return None
            return await fetch(connection)(statement.sql, session_id, *args)

    return await db.run(locked)
