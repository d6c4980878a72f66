"""Scoped state on PostgreSQL: the ``states`` table (revision 0002), one row per key.

Each write is one statement (``_queries.py``), so one round trip and atomic on its own, with
row locks taken in a fixed order: the session's row first, then the scopes' rows.
"""

from __future__ import annotations

from typing import Any

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    parent_not_found,
)
from ai_agent.infrastructure.database.postgresql import _queries as q
from ai_agent.infrastructure.database.postgresql._codec import MESSAGES, SESSIONS, encode_json
from ai_agent.infrastructure.database.postgresql._connection import ConnectionRouter
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["append_message_with_state", "create_session_with_state", "get_states"]


def _columns(state: StateDeltas) -> list[list[str]]:
    """The deltas as three arrays: scopes, keys, values as JSON text."""
    rows = [(s, k, encode_json(v)) for s, delta in state.items() for k, v in delta.items()]
    return [[row[i] for row in rows] for i in range(3)]


async def get_states(db: ConnectionRouter, scopes: list[str]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for scope, key, value in await db.fetch(q.GET_STATES.sql, scopes):
        states.setdefault(scope, {})[key] = value
    return states


async def create_session_with_state(
    db: ConnectionRouter, session: Session, state: StateDeltas
) -> Session:
    session.message_count = 0
    args = SESSIONS.values(session, q.CREATE_SESSION_WITH_STATE.params)
    created = await db.fetchval(q.CREATE_SESSION_WITH_STATE.sql, *args, *_columns(state))
    if not created:
        raise DuplicateError("session", "id", session.id)
    return session  # the repository's own copy: BaseRepository detached it


async def append_message_with_state(db: ConnectionRouter, append: StatefulAppend) -> Message | None:
    message, state, session_state, if_last_activity = append
    args = MESSAGES.values(message, q.APPEND_MESSAGE_WITH_STATE.params)
    extra = [if_last_activity, session_state, utc_now(), *_columns(state)]
    row = await db.fetchrow(q.APPEND_MESSAGE_WITH_STATE.sql, *args, *extra)
    assert row is not None  # the statement always returns one row
    if row["inserted"]:
        return message
    if not row["found"]:
        raise NotFoundError("session", message.session_id)
    if row["duplicate"]:
        raise DuplicateError("message", "id", message.id)
    if not row["parent_found"]:
        raise parent_not_found(message.parent_message_id or "?", message.session_id)
    return None  # stale
