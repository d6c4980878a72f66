"""Scoped state on PostgreSQL: the ``states`` table (revision 0002), one row per key.

Each write is one statement, so one round trip and atomic on its own, with row locks taken
in a fixed order: the session's row first (as every message write takes it), then the
scopes' rows in (scope, key) order (the deltas arrive sorted and are inserted in that
order), so two writers can never wait on each other in a cycle. Deltas travel as one array
per column, values as JSON text (``encode_json``), like ``CREATE_MESSAGES``.
"""

from __future__ import annotations

from typing import Any

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import DuplicateError, NotFoundError
from ai_agent.infrastructure.database.postgresql import queries as q
from ai_agent.infrastructure.database.postgresql.codec import MESSAGES, SESSIONS, encode_json
from ai_agent.infrastructure.database.postgresql.pool import ConnectionRouter
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["StateStore"]

GET_STATES = q.Statement("SELECT scope, key, value FROM states WHERE scope = ANY($1::text[])")


def _merge(first: int) -> str:
    """The upsert of a delta in ``$first..$first+2`` (scopes, keys, JSON texts), run only
    once the CTE ``done`` has a row."""
    scopes, keys, values = (f"${first + i}::text[]" for i in range(3))
    return f"""
    INSERT INTO states (scope, key, value)
    SELECT d.scope, d.key, d.value::jsonb
      FROM unnest({scopes}, {keys}, {values}) WITH ORDINALITY AS d(scope, key, value, ord)
     WHERE EXISTS (SELECT 1 FROM done)
     ORDER BY d.ord
    ON CONFLICT (scope, key) DO UPDATE SET value = EXCLUDED.value"""


_SESSION_PARAMS = q.INSERT_SESSION_IF_NEW.params
# ON CONFLICT DO NOTHING waits for a concurrent create of the same id, then writes nothing:
# the caller sees 0 created and no state merged.
CREATE_SESSION_WITH_STATE = q.Statement(
    f"""
WITH done AS ({q.INSERT_SESSION_IF_NEW.sql} RETURNING id),
merged AS ({_merge(len(_SESSION_PARAMS) + 1)})
SELECT count(*) FROM done
""",
    _SESSION_PARAMS,
)

# $1..$9 the message (as CREATE_MESSAGE), $10 if_last_activity, $11 the session-state delta
# (NULL: none), $12 the session's new updated_at, $13..$15 the scope deltas. The session row
# is locked first; its last_activity is then the latest committed one. Nothing is written
# unless every check passes; the last row tells which failed.
APPEND_MESSAGE_WITH_STATE = q.Statement(
    f"""
WITH s AS (
    SELECT id, last_activity FROM sessions WHERE id = $4 FOR UPDATE
), checks AS (
    SELECT s.id,
           EXISTS (SELECT 1 FROM messages WHERE id = $1) AS duplicate,
           ($9::uuid IS NULL
            OR EXISTS (SELECT 1 FROM messages WHERE id = $9 AND session_id = $4)) AS parent_found,
           ($10::timestamptz IS NOT NULL AND s.last_activity > $10) AS stale
      FROM s
), touched AS (
    UPDATE sessions
       SET message_count = message_count + 1,
           last_activity = GREATEST(last_activity, $2),
           metadata = CASE WHEN $11::jsonb IS NULL THEN metadata
                      ELSE jsonb_set(metadata, '{{state}}',
                           CASE WHEN jsonb_typeof(metadata -> 'state') = 'object'
                                THEN metadata -> 'state' ELSE '{{}}'::jsonb END || $11::jsonb)
                      END,
           updated_at = CASE WHEN $11::jsonb IS NULL THEN updated_at ELSE $12 END
      FROM checks c
     WHERE sessions.id = c.id AND NOT c.duplicate AND c.parent_found AND NOT c.stale
    RETURNING sessions.id
), done AS (
    INSERT INTO messages (id, created_at, updated_at, session_id, role, content,
                          metadata, tool_calls, parent_message_id)
    SELECT $1::uuid, $2, $3::timestamptz, touched.id, $5::text, $6::text, $7::jsonb,
           $8::jsonb, $9
      FROM touched
    RETURNING 1
), merged AS ({_merge(13)})
SELECT (SELECT count(*) FROM done) AS inserted, c.id IS NOT NULL AS found,
       c.duplicate, c.parent_found, c.stale
  FROM (SELECT 1) AS one LEFT JOIN checks c ON true
""",
    MESSAGES.columns,
)


def _columns(state: StateDeltas) -> list[list[str]]:
    rows = [(s, k, encode_json(v)) for s, delta in state.items() for k, v in delta.items()]
    return [[row[i] for row in rows] for i in range(3)]


class StateStore:
    """The scoped-state operations of ``PostgreSQLRepository`` (it provides ``_db``)."""

    _db: ConnectionRouter

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        states: dict[str, dict[str, Any]] = {}
        for scope, key, value in await self._db.fetch(GET_STATES.sql, scopes):
            states.setdefault(scope, {})[key] = value
        return states

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        session.message_count = 0
        args = SESSIONS.values(session, CREATE_SESSION_WITH_STATE.params)
        created = await self._db.fetchval(CREATE_SESSION_WITH_STATE.sql, *args, *_columns(state))
        if not created:
            raise DuplicateError("session", "id", session.id)
        return session  # the repository's own copy: BaseRepository detached it

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        message, state, session_state, if_last_activity = append
        args = MESSAGES.values(message, APPEND_MESSAGE_WITH_STATE.params)
        extra = [if_last_activity, session_state, utc_now(), *_columns(state)]
        row = await self._db.fetchrow(APPEND_MESSAGE_WITH_STATE.sql, *args, *extra)
        assert row is not None  # the statement always returns one row
        if row["inserted"]:
            return message
        if not row["found"]:
            raise NotFoundError("session", message.session_id)
        if row["duplicate"]:
            raise DuplicateError("message", "id", message.id)
        if not row["parent_found"]:
            raise NotFoundError(
                "parent message",
                message.parent_message_id or "?",
                f"in session {message.session_id}",
            )
        return None  # stale
