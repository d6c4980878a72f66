"""Scoped state on SQLite: the ``states`` table (revision 0002), one row per key of a scope.

Both writes run in one ``BEGIN IMMEDIATE`` transaction (a SAVEPOINT inside a caller's
block): the session or message, and every key of every delta (upserted in scope, then key,
order). ``append_message_with_state`` reads the session row first, so that every check
(session, duplicate, parent, ``if_last_activity``) comes before its first write.
"""

from __future__ import annotations

import json
from typing import Any

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import DuplicateError, NotFoundError
from ai_agent.infrastructure.database.sqlite._conversations import (
    _INSERT_MESSAGE,
    _TOUCH_SESSION,
)
from ai_agent.infrastructure.database.sqlite._core import SQLiteCore
from ai_agent.infrastructure.database.sqlite._rows import MESSAGES, SESSIONS, to_json, to_micros
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend, merge_session_state

__all__ = ["StateStore"]

_GET_STATES = "SELECT scope, key, value FROM states WHERE scope IN (SELECT value FROM json_each(?))"
_MERGE = (
    "INSERT INTO states (scope, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value"
)
_SESSION_ROW = "SELECT last_activity, metadata FROM sessions WHERE id = ?"
_MESSAGE_EXISTS = "SELECT 1 FROM messages WHERE id = ?"
_PARENT_EXISTS = "SELECT 1 FROM messages WHERE id = ? AND session_id = ?"
_SET_METADATA = "UPDATE sessions SET metadata = ?, updated_at = ? WHERE id = ?"


class StateStore(SQLiteCore):
    """The scoped-state operations of ``SQLiteRepository``."""

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_GET_STATES, (to_json(scopes),))
        states: dict[str, dict[str, Any]] = {}
        for scope, key, value in rows:
            states.setdefault(scope, {})[key] = json.loads(value)
        return states

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        session.message_count = 0
        async with self._writing(session) as connection:
            await connection.execute(SESSIONS.insert_sql, SESSIONS.to_row(session))
            await connection.executemany(_MERGE, _rows(state))
        return session  # the repository's own copy: BaseRepository detached it

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        message, state, session_state, if_last_activity = append
        row = MESSAGES.to_row(message)
        sid = row["session_id"]
        async with self._writing(message) as connection:
            found = list(await connection.execute_fetchall(_SESSION_ROW, (sid,)))
            if not found:
                raise NotFoundError("session", message.session_id)
            if list(await connection.execute_fetchall(_MESSAGE_EXISTS, (row["id"],))):
                raise DuplicateError("message", "id", message.id)
            parent = row["parent_message_id"]
            if parent is not None and not list(
                await connection.execute_fetchall(_PARENT_EXISTS, (parent, sid))
            ):
                raise NotFoundError("message", str(parent), f"in session {sid}")
            activity, metadata = found[0]
            if if_last_activity is not None and activity > to_micros(if_last_activity):
                return None
            if session_state:
                merged = merge_session_state(json.loads(metadata), session_state)
                await connection.execute(
                    _SET_METADATA, (to_json(merged), to_micros(utc_now()), sid)
                )
            touch = {"added": 1, "latest": row["created_at"], "session_id": sid}
            await connection.execute(_TOUCH_SESSION, touch)
            await connection.execute(_INSERT_MESSAGE, row)
            await connection.executemany(_MERGE, _rows(state))
        return message


def _rows(state: StateDeltas) -> list[tuple[str, str, str]]:
    """One row per key, in scope then key order (the deltas come sorted)."""
    return [
        (scope, key, to_json(value))
        for scope, delta in state.items()
        for key, value in delta.items()
    ]
