"""Scoped state on SQLite: the ``states`` table (revision 0002), one row per key of a scope.

Both writes run in one ``BEGIN IMMEDIATE`` transaction (a SAVEPOINT inside a caller's
block): the session or message, and every key of every delta (upserted in scope, then key,
order). ``append_message_with_state`` reads the session row first, so that every check
(session, duplicate, parent, ``if_last_activity``) comes before its first write.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    parent_not_found,
)
from ai_agent.infrastructure.database.json_text import decode_json
from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._codec import (
    MESSAGES,
    to_json,
    to_micros,
)
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection
from ai_agent.infrastructure.database.sqlite._messages import (
    insert_message,
    touch_session,
)
from ai_agent.infrastructure.database.sqlite._sessions import insert_session
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend, merge_session_state

__all__ = ["append_message_with_state", "create_session_with_state", "get_states"]


async def get_states(connection: SQLiteConnection, scopes: list[str]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for scope, key, value in await connection.fetch(sql.GET_STATES, (to_json(scopes),)):
        states.setdefault(scope, {})[key] = decode_json(value)
    return states


async def create_session_with_state(
    connection: SQLiteConnection, session: Session, state: StateDeltas
) -> Session:
    def write(db: sqlite3.Connection) -> None:
        insert_session(db, session)
        db.executemany(sql.MERGE_STATE, _rows(state))

    await connection.atomically(write, session)
    return session  # the repository's own copy: BaseRepository detached it


async def append_message_with_state(
    connection: SQLiteConnection, append: StatefulAppend
) -> Message | None:
    message, state, session_state, if_last_activity = append
    row = MESSAGES.to_row(message)

    def write(db: sqlite3.Connection) -> Message | None:
        activity, metadata = _checked_session(db, message, row)
        if if_last_activity is not None and activity > to_micros(if_last_activity):
            return None
        if session_state:
            merged = merge_session_state(decode_json(metadata), session_state)
            parameters = (to_json(merged), to_micros(utc_now()), row["session_id"])
            db.execute(sql.SET_METADATA, parameters)
        touch_session(db, row)
        insert_message(db, row)
        db.executemany(sql.MERGE_STATE, _rows(state))
        return message

    return await connection.atomically(write, message)


def _checked_session(
    db: sqlite3.Connection, message: Message, row: dict[str, Any]
) -> tuple[int, str]:
    """The session's last activity and metadata, once the message may be appended to it."""
    sid = row["session_id"]
    found = db.execute(sql.SESSION_ACTIVITY, (sid,)).fetchall()
    if not found:
        raise NotFoundError("session", message.session_id)
    if db.execute(sql.MESSAGE_EXISTS, (row["id"],)).fetchall():
        raise DuplicateError("message", "id", message.id)
    parent = row["parent_message_id"]
    if parent is not None and not db.execute(sql.PARENT_EXISTS, (parent, sid)).fetchall():
        raise parent_not_found(message.parent_message_id or "?", message.session_id)
    activity, metadata = found[0]
    return activity, metadata


def _rows(state: StateDeltas) -> list[tuple[str, str, str]]:
    """One row per key, in scope then key order (the deltas come sorted)."""
    return [
        (scope, key, to_json(value))
        for scope, delta in state.items()
        for key, value in delta.items()
    ]
