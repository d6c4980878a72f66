"""Every SQL statement of the PostgreSQL backend, as module-level constants.

A :class:`Statement` pairs the SQL with the model fields that fill ``$1``, ``$2``, ... so a
parameter list is always built from the same place as the text. Plain CRUD is derived from
the table descriptions in :mod:`.codec` (columns == model fields); the message statements,
which keep ``sessions.message_count`` and ``last_activity`` in step, are written out.

Each write is one statement, hence one round trip and atomic on its own. Data-modifying CTEs
run against one snapshot; where one step must happen before another (take the session's row
lock before the message gets its ``seq``), the later step reads the earlier one's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ai_agent.infrastructure.database.postgresql.codec import (
    AGENTS,
    EXTERNAL_SERVICES,
    MCP_SERVERS,
    MESSAGES,
    SESSIONS,
    TOOLS,
    Table,
)

__all__ = [
    "AGENT_SQL",
    "CREATE_MESSAGE",
    "CREATE_MESSAGES",
    "CREATE_MESSAGE_DONE",
    "DELETE_MESSAGE",
    "DELETE_SESSION",
    "EXTERNAL_SERVICE_SQL",
    "GET_MESSAGE",
    "GET_SESSION",
    "INSERT_SESSION",
    "LIST_SESSIONS",
    "LIST_USER_SESSIONS",
    "MCP_SERVER_SQL",
    "MESSAGES_BY_SESSION",
    "MESSAGE_REFUSED",
    "RECENT_MESSAGES",
    "SCHEMA_REVISION",
    "SCHEMA_VERSION_TABLE",
    "TOOL_SQL",
    "UPDATE_MESSAGE",
    "UPDATE_SESSION",
    "Statement",
    "TableStatements",
]


@dataclass(frozen=True)
class Statement:
    """SQL and the model fields bound to ``$1..$n``, in order."""

    sql: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableStatements:
    """The generic statements of one table."""

    insert: Statement
    get: Statement
    update: Statement
    delete: Statement
    list_all: Statement
    list_enabled: Statement | None


def _placeholders(count: int, start: int = 1) -> str:
    return ", ".join(f"${index}" for index in range(start, start + count))


def _insert(table: Table[Any], skip: tuple[str, ...] = ()) -> Statement:
    columns = tuple(name for name in table.columns if name not in skip)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})"
    return Statement(sql, columns)


def _update(table: Table[Any], keep: tuple[str, ...]) -> Statement:
    """``UPDATE ... WHERE id = $1``; columns in ``keep`` (and ``created_at``) are never set."""
    kept = {"id", "created_at", *keep}
    columns = tuple(name for name in table.columns if name not in kept)
    assignments = ", ".join(f"{name} = ${index}" for index, name in enumerate(columns, 2))
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = $1 RETURNING {table.column_list}"
    return Statement(sql, ("id", *columns))


def _catalogue(table: Table[Any], order: str, filtered: bool) -> TableStatements:
    select = f"SELECT {table.column_list} FROM {table.name}"
    return TableStatements(
        insert=_insert(table),
        get=Statement(f"{select} WHERE id = $1"),
        update=_update(table, ()),
        delete=Statement(f"DELETE FROM {table.name} WHERE id = $1 RETURNING true"),
        list_all=Statement(f"{select} ORDER BY {order} LIMIT $1 OFFSET $2"),
        list_enabled=(
            Statement(f"{select} WHERE enabled ORDER BY {order} LIMIT $1 OFFSET $2")
            if filtered
            else None
        ),
    )


# Unique names make ``name`` a total order; external services may share a name, so ``id``
# breaks ties. Each ORDER BY matches an index (uq_*_name, ix_*_enabled_name,
# ix_external_services_name), so listing is an index scan with no sort.
AGENT_SQL = _catalogue(AGENTS, "name", filtered=False)
TOOL_SQL = _catalogue(TOOLS, "name", filtered=True)
MCP_SERVER_SQL = _catalogue(MCP_SERVERS, "name", filtered=True)
EXTERNAL_SERVICE_SQL = _catalogue(EXTERNAL_SERVICES, "name, id", filtered=True)

_SESSION_SELECT = f"SELECT {SESSIONS.column_list} FROM sessions"
# message_count starts at 0 (the column default): it is never taken from the model.
INSERT_SESSION = _insert(SESSIONS, skip=("message_count",))
GET_SESSION = Statement(f"{_SESSION_SELECT} WHERE id = $1")
# Never writes message_count: a stale model must not reset the counter.
UPDATE_SESSION = _update(SESSIONS, keep=("message_count",))
DELETE_SESSION = Statement("DELETE FROM sessions WHERE id = $1 RETURNING true")  # cascades
LIST_SESSIONS = Statement(
    f"{_SESSION_SELECT} ORDER BY last_activity DESC, id DESC LIMIT $1 OFFSET $2"
)
LIST_USER_SESSIONS = Statement(
    f"{_SESSION_SELECT} WHERE user_id = $1 ORDER BY last_activity DESC, id DESC LIMIT $2 OFFSET $3"
)

_MESSAGE_SELECT = f"SELECT {MESSAGES.column_list} FROM messages"
_MESSAGE_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "session_id",
    "role",
    "content",
    "metadata",
    "tool_calls",
    "parent_message_id",
)
if MESSAGES.columns != _MESSAGE_FIELDS:  # the hand-written statements below number these
    raise ImportError(f"Message fields changed to {MESSAGES.columns}; update queries.py")

GET_MESSAGE = Statement(f"{_MESSAGE_SELECT} WHERE id = $1")
# Pages of one session's messages send NULL for session_id, which the caller knows
# (Table.decode_all's ``known``): 16 bytes less a row, and one id less to decode (issue 15).
_PAGE_SELECT = _MESSAGE_SELECT.replace(", session_id,", ", NULL::uuid AS session_id,", 1)
MESSAGES_BY_SESSION = Statement(
    f"{_PAGE_SELECT} WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
)
# Newest first straight off uq_messages_session_seq; the caller reverses the n rows.
RECENT_MESSAGES = Statement(f"{_PAGE_SELECT} WHERE session_id = $1 ORDER BY seq DESC LIMIT $2")

# The UPDATE takes the session's row lock (concurrent appends queue there, none is lost) and
# the INSERT reads its output, so seq is drawn under that lock. Nothing is written unless the
# session exists and the parent, if any, is a message of the same session: the status then
# reads "INSERT 0 0" and MESSAGE_REFUSED tells which (a second round trip, on failure only).
# Kept as lean as the hand-written append: a status row computed in the same statement
# (three sub-plans) cost 30-60 us a call on the server.
CREATE_MESSAGE = Statement(
    """
WITH touched AS (
    UPDATE sessions
       SET message_count = message_count + 1,
           last_activity = GREATEST(last_activity, $2)
     WHERE id = $4
       AND ($9::uuid IS NULL
            OR EXISTS (SELECT 1 FROM messages WHERE id = $9 AND session_id = $4))
    RETURNING id
)
INSERT INTO messages (id, created_at, updated_at, session_id, role, content,
                      metadata, tool_calls, parent_message_id)
SELECT $1::uuid, $2, $3::timestamptz, touched.id, $5::text, $6::text, $7::jsonb, $8::jsonb, $9
  FROM touched
""",
    _MESSAGE_FIELDS,
)
CREATE_MESSAGE_DONE = "INSERT 0 1"
MESSAGE_REFUSED = Statement(
    """
SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1) AS session_found,
       $2::uuid IS NULL
       OR EXISTS (SELECT 1 FROM messages WHERE id = $2 AND session_id = $1) AS parent_found
""",
    ("session_id", "parent_message_id"),
)

# A batch arrives as one array per column (JSON as text: asyncpg would read a list of lists
# as a 2-D array) and keeps list order through WITH ORDINALITY. ``problem`` is the first
# message, in list order, whose session is missing or whose parent is neither stored in the
# same session nor earlier in the batch; any problem writes nothing. Sessions are locked in
# id order (two batches over the same sessions cannot deadlock), counts are added per
# session, and the INSERT waits for those locks before drawing seq, in list order. A session
# deleted after the check makes the INSERT fail its foreign key, so the batch is all or none.
CREATE_MESSAGES = Statement(
    """
WITH batch AS (
    SELECT *
      FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::uuid[], $5::text[],
                  $6::text[], $7::text[], $8::text[], $9::uuid[])
           WITH ORDINALITY AS b(id, created_at, updated_at, session_id, role, content,
                                metadata, tool_calls, parent_message_id, ord)
), problem AS (
    SELECT b.ord, b.session_id, b.parent_message_id,
           EXISTS (SELECT 1 FROM sessions s WHERE s.id = b.session_id) AS session_found
      FROM batch b
     WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = b.session_id)
        OR (b.parent_message_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM messages m
                             WHERE m.id = b.parent_message_id AND m.session_id = b.session_id)
            AND NOT EXISTS (SELECT 1 FROM batch e
                             WHERE e.id = b.parent_message_id AND e.session_id = b.session_id
                               AND e.ord < b.ord))
     ORDER BY b.ord
     LIMIT 1
), locked AS (
    SELECT s.id, p.added, p.latest
      FROM sessions s
      JOIN (SELECT session_id, count(*) AS added, max(created_at) AS latest
              FROM batch GROUP BY session_id) p ON p.session_id = s.id
     WHERE NOT EXISTS (SELECT 1 FROM problem)
     ORDER BY s.id
       FOR UPDATE OF s
), touched AS (
    UPDATE sessions s
       SET message_count = s.message_count + l.added,
           last_activity = GREATEST(s.last_activity, l.latest)
      FROM locked l
     WHERE s.id = l.id
    RETURNING s.id
), inserted AS (
    INSERT INTO messages (id, created_at, updated_at, session_id, role, content,
                          metadata, tool_calls, parent_message_id)
    SELECT b.id, b.created_at, b.updated_at, b.session_id, b.role, b.content,
           b.metadata::jsonb, b.tool_calls::jsonb, b.parent_message_id
      FROM batch b
     WHERE (SELECT count(*) FROM touched) > 0
     ORDER BY b.ord
    RETURNING id
)
SELECT (SELECT count(*) FROM inserted) AS inserted,
       problem.ord, problem.session_id, problem.parent_message_id, problem.session_found
  FROM (SELECT 1) AS one LEFT JOIN problem ON true
""",
    _MESSAGE_FIELDS,
)

# session_id is matched, never set: a message cannot move to another session. The outer
# SELECT always returns one row, telling a missing message, a changed session_id and a
# missing parent apart without a second round trip.
UPDATE_MESSAGE = Statement(
    f"""
WITH target AS (
    SELECT session_id FROM messages WHERE id = $1
), parent AS (
    SELECT $8::uuid IS NULL
        OR EXISTS (SELECT 1 FROM messages WHERE id = $8 AND session_id = $3) AS found
), updated AS (
    UPDATE messages
       SET updated_at = $2, role = $4, content = $5, metadata = $6, tool_calls = $7,
           parent_message_id = $8
     WHERE id = $1 AND session_id = $3 AND (SELECT found FROM parent)
    RETURNING {MESSAGES.column_list}
)
SELECT (SELECT session_id FROM target) AS stored_session_id,
       (SELECT found FROM parent) AS parent_found,
       updated.*
  FROM (SELECT 1) AS one LEFT JOIN updated ON true
""",
    (
        "id",
        "updated_at",
        "session_id",
        "role",
        "content",
        "metadata",
        "tool_calls",
        "parent_message_id",
    ),
)

# The session's row is locked before the message row, the order create_message takes them
# in, so a delete racing an append of a reply cannot deadlock. A message already deleted by
# a concurrent call is skipped after the lock, so the count drops exactly once.
DELETE_MESSAGE = Statement(
    """
WITH locked AS (
    SELECT s.id
      FROM sessions s JOIN messages m ON m.session_id = s.id
     WHERE m.id = $1
       FOR UPDATE OF s
), deleted AS (
    DELETE FROM messages m USING locked
     WHERE m.id = $1 AND m.session_id = locked.id
    RETURNING m.session_id
), counted AS (
    UPDATE sessions s SET message_count = s.message_count - 1
      FROM deleted WHERE s.id = deleted.session_id
    RETURNING s.id
)
SELECT EXISTS (SELECT 1 FROM counted)
"""
)

# get_or_create_session: a conflict writes nothing and leaves an open transaction usable.
INSERT_SESSION_IF_NEW = Statement(
    f"{INSERT_SESSION.sql} ON CONFLICT (id) DO NOTHING", INSERT_SESSION.params
)
INSERT_SESSION_DONE = "INSERT 0 1"

# pop_message and clear_messages first take the session's row lock (LOCK_SESSION, the lock
# create_message takes), then run in a later statement: its snapshot, taken after the lock
# is granted, sees what a concurrent pop or append committed meanwhile. (In one statement,
# two pops would both pick the same newest row and the second would find it gone.)
LOCK_SESSION = Statement("SELECT true FROM sessions WHERE id = $1 FOR UPDATE")
POP_MESSAGE = Statement(
    f"""
WITH deleted AS (
    DELETE FROM messages
     WHERE id = (SELECT id FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1)
    RETURNING {MESSAGES.column_list}
), counted AS (
    UPDATE sessions SET message_count = message_count - 1
     WHERE id = $1 AND EXISTS (SELECT 1 FROM deleted)
)
SELECT * FROM deleted
"""
)
CLEAR_MESSAGES = Statement(
    """
WITH deleted AS (
    DELETE FROM messages WHERE session_id = $1 RETURNING 1
), counted AS (
    UPDATE sessions SET message_count = 0 WHERE id = $1
)
SELECT count(*) FROM deleted
"""
)
MESSAGES_AFTER = Statement(
    f"{_PAGE_SELECT.replace('SELECT ', 'SELECT seq, ', 1)} "
    "WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
)

# Retention, a bounded batch per statement. PRUNE_SESSIONS walks ix_sessions_activity from
# the least recently active end; the outer WHERE is re-checked on each row after its lock
# is granted, so a session that an append moved forward meanwhile is kept.
PRUNE_SESSIONS = Statement(
    """
DELETE FROM sessions
 WHERE id IN (SELECT id FROM sessions WHERE last_activity < $1
               ORDER BY last_activity, id LIMIT $2)
   AND last_activity < $1
RETURNING message_count
"""
)
COUNT_INACTIVE = Statement(
    "SELECT count(*), coalesce(sum(message_count), 0) FROM sessions WHERE last_activity < $1"
)
# Under the session's row lock (LOCK_SESSION): the oldest messages beyond the newest $2, at
# most $3 of them, and the counter, in one statement.
TRIM_MESSAGES = Statement(
    """
WITH doomed AS (
    SELECT id FROM messages
     WHERE session_id = $1
       AND seq <= (SELECT seq FROM messages WHERE session_id = $1
                    ORDER BY seq DESC OFFSET $2 LIMIT 1)
     ORDER BY seq LIMIT $3
), deleted AS (
    DELETE FROM messages m USING doomed WHERE m.id = doomed.id RETURNING 1
), counted AS (
    UPDATE sessions SET message_count = message_count - (SELECT count(*) FROM deleted)
     WHERE id = $1
)
SELECT count(*) FROM deleted
"""
)
LONG_SESSIONS = Statement(
    "SELECT id, message_count FROM sessions WHERE message_count > $1 AND id > $2 "
    "ORDER BY id LIMIT $3"
)

SCHEMA_VERSION_TABLE = Statement("SELECT to_regclass('alembic_version') IS NOT NULL")
SCHEMA_REVISION = Statement("SELECT version_num FROM alembic_version LIMIT 1")
