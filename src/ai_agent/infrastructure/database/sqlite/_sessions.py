"""Sessions on SQLite: one statement each, atomic by itself."""

from __future__ import annotations

import sqlite3
from uuid import UUID

from ai_agent.domain.models import Session, utc_now
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._codec import SESSIONS
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection

__all__ = [
    "create_session",
    "delete_session",
    "get_session",
    "insert_session",
    "list_sessions",
    "update_session",
]


def insert_session(db: sqlite3.Connection, session: Session) -> None:
    """Insert a new session (inside a caller's transaction)."""
    db.execute(sql.INSERT_SESSION, _new_session_row(session))


async def create_session(connection: SQLiteConnection, session: Session) -> Session:
    await connection.write(sql.INSERT_SESSION, _new_session_row(session), session)
    return session  # the repository's own copy: BaseRepository detached it


def _new_session_row(session: Session) -> dict[str, object]:
    session.message_count = 0  # the repository's count: a new session starts at 0
    return SESSIONS.to_row(session)


async def get_session(connection: SQLiteConnection, session_id: UUID) -> Session | None:
    return SESSIONS.first(await connection.fetch(sql.GET_SESSION, (str(session_id),)))


async def list_sessions(
    connection: SQLiteConnection, user_id: str | None, limit: int, offset: int
) -> list[Session]:
    if user_id is None:
        rows = await connection.fetch(sql.LIST_SESSIONS, (limit, offset))
    else:
        rows = await connection.fetch(sql.LIST_USER_SESSIONS, (user_id, limit, offset))
    return SESSIONS.from_rows(rows)


async def update_session(connection: SQLiteConnection, session: Session) -> Session:
    session.updated_at = utc_now()
    rows = await connection.write(sql.UPDATE_SESSION, SESSIONS.to_row(session), session)
    stored = SESSIONS.first(rows)
    if stored is None:
        raise NotFoundError("session", session.id)
    return stored


async def delete_session(connection: SQLiteConnection, session_id: UUID) -> bool:
    return bool(await connection.write(sql.DELETE_SESSION, (str(session_id),)))
