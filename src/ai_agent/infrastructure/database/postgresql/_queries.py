"""Every SQL statement of the PostgreSQL backend, and nothing else.

A :class:`Statement` pairs SQL with the model fields bound to ``$1``, ``$2``, ...; each table's
plain statements are generated from its columns, the others are written out. Each write is one
statement (one round trip, atomic), and data-modifying CTEs share one snapshot, so a later
step reads an earlier one's output (the session's row lock, then ``seq``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ai_agent.infrastructure.database.catalog import AGENTS, EXTERNAL_SERVICES, MCP_SERVERS, TOOLS
from ai_agent.infrastructure.database.postgresql._codec import (
    MESSAGES,
    SESSIONS,
    Table,
    catalog_table,
)


@dataclass(frozen=True)
class Statement:
    """SQL and the model fields bound to ``$1..$n``, in order."""

    sql: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableStatements:
    """The plain statements of one table, generated from its columns."""

    insert: Statement
    get: Statement
    update: Statement
    delete: Statement
    list_all: Statement
    list_enabled: Statement | None


def _table_statements(
    table: Table[Any], order: str, *, filtered: bool = False, owned: tuple[str, ...] = ()
) -> TableStatements:
    """``owned`` columns (the repository's) are never written; ``created_at`` never updated."""
    inserted = tuple(name for name in table.columns if name not in owned)
    placeholders = ", ".join(f"${index}" for index in range(1, len(inserted) + 1))
    updated = tuple(name for name in inserted if name not in ("id", "created_at"))
    assignments = ", ".join(f"{name} = ${index}" for index, name in enumerate(updated, 2))
    insert = f"INSERT INTO {table.name} ({', '.join(inserted)}) VALUES ({placeholders})"
    update = f"UPDATE {table.name} SET {assignments} WHERE id = $1 RETURNING {table.column_list}"
    select = f"SELECT {table.column_list} FROM {table.name}"
    page = f"ORDER BY {order} LIMIT $1 OFFSET $2"
    return TableStatements(
        insert=Statement(insert, inserted),
        get=Statement(f"{select} WHERE id = $1"),
        update=Statement(update, ("id", *updated)),
        delete=Statement(f"DELETE FROM {table.name} WHERE id = $1 RETURNING true"),
        list_all=Statement(f"{select} {page}"),
        list_enabled=Statement(f"{select} WHERE enabled {page}") if filtered else None,
    )


# Unique names make ``name`` a total order; external services may share a name, so ``id``
# breaks ties. Each ORDER BY matches an index (uq_*_name, ix_*_enabled_name,
# ix_external_services_name, ix_sessions_activity), so listing is an index scan with no sort.
CATALOG_SQL: dict[str, TableStatements] = {
    AGENTS.name: _table_statements(catalog_table(AGENTS), "name"),
    TOOLS.name: _table_statements(catalog_table(TOOLS), "name", filtered=True),
    MCP_SERVERS.name: _table_statements(catalog_table(MCP_SERVERS), "name", filtered=True),
    EXTERNAL_SERVICES.name: _table_statements(
        catalog_table(EXTERNAL_SERVICES), "name, id", filtered=True
    ),
}
# message_count is never taken from the model: it starts at 0 (the column default), and a
# stale model must not reset the counter. Deleting a session cascades to its messages.
SESSION_SQL = _table_statements(SESSIONS, "last_activity DESC, id DESC", owned=("message_count",))
LIST_USER_SESSIONS = Statement(
    f"SELECT {SESSIONS.column_list} FROM sessions WHERE user_id = $1 "
    "ORDER BY last_activity DESC, id DESC LIMIT $2 OFFSET $3"
)
# get_or_create_session: a conflict writes nothing and leaves an open transaction usable.
INSERT_SESSION_IF_NEW = Statement(
    f"{SESSION_SQL.insert.sql} ON CONFLICT (id) DO NOTHING", SESSION_SQL.insert.params
)
INSERT_DONE = "INSERT 0 1"
# The lock every message write takes first (see create_message and pop_message).
LOCK_SESSION = Statement("SELECT true FROM sessions WHERE id = $1 FOR UPDATE")

_NUMBERED = "id created_at updated_at session_id role content metadata tool_calls parent_message_id"
if MESSAGES.columns != tuple(_NUMBERED.split()):  # the hand-written statements number these
    raise ImportError(f"Message fields changed to {MESSAGES.columns}; update _queries.py")


def _parent_found(parent: str, session: str) -> str:
    """Whether the parent message (``NULL``: none) is a message of the session."""
    found = f"EXISTS (SELECT 1 FROM messages WHERE id = {parent} AND session_id = {session})"
    return f"({parent}::uuid IS NULL OR {found})"


_INSERT_MESSAGE = f"INSERT INTO messages ({MESSAGES.column_list})"
# The message $1..$9 for the session that the CTE ``touched`` returned (none: no row).
_INSERT_TOUCHED_MESSAGE = f"""{_INSERT_MESSAGE}
    SELECT $1::uuid, $2, $3::timestamptz, touched.id, $5::text, $6::text, $7::jsonb, $8::jsonb,
           $9 FROM touched"""

GET_MESSAGE = Statement(f"SELECT {MESSAGES.column_list} FROM messages WHERE id = $1")
# Pages of one session's messages send NULL for session_id, which the caller knows
# (Table.decode_all's ``known``): less to send, and one id less to decode per row.
_PAGE_COLUMNS = MESSAGES.column_list.replace(", session_id,", ", NULL::uuid AS session_id,", 1)
MESSAGES_BY_SESSION = Statement(
    f"SELECT {_PAGE_COLUMNS} FROM messages WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
)
# Newest first straight off uq_messages_session_seq; the caller reverses the n rows.
RECENT_MESSAGES = Statement(
    f"SELECT {_PAGE_COLUMNS} FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT $2"
)
_AFTER = "WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
MESSAGES_AFTER = Statement(f"SELECT {_PAGE_COLUMNS}, seq FROM messages {_AFTER}")

# The UPDATE takes the session's row lock (concurrent appends queue there, none is lost) and
# the INSERT reads its output, so seq is drawn under that lock. Nothing is written unless the
# session exists and the parent, if any, is in the same session: the status then reads
# "INSERT 0 0" and MESSAGE_REFUSED tells which (on failure only: appends stay lean).
CREATE_MESSAGE = Statement(
    f"""
WITH touched AS (
    UPDATE sessions
       SET message_count = message_count + 1,
           last_activity = GREATEST(last_activity, $2)
     WHERE id = $4 AND {_parent_found("$9", "$4")}
    RETURNING id
)
{_INSERT_TOUCHED_MESSAGE}
""",
    MESSAGES.columns,
)
MESSAGE_REFUSED = Statement(
    "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1) AS session_found, "
    f"{_parent_found('$2', '$1')} AS parent_found",
    ("session_id", "parent_message_id"),
)

# A batch arrives as one array per column (JSON as text: asyncpg would read a list of lists
# as a 2-D array), in list order (WITH ORDINALITY). ``problem`` is the first message whose
# session is missing or whose parent is neither stored in the same session nor earlier in the
# batch; any problem writes nothing. Sessions are locked in id order (two batches cannot
# deadlock), then seq is drawn in list order. A session deleted after the check makes the
# INSERT fail its foreign key, so the batch is all or none.
CREATE_MESSAGES = Statement(
    f"""
WITH batch AS (
    SELECT *
      FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::uuid[], $5::text[],
                  $6::text[], $7::text[], $8::text[], $9::uuid[])
           WITH ORDINALITY AS b({MESSAGES.column_list}, ord)
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
     ORDER BY b.ord LIMIT 1
), locked AS (
    SELECT s.id, p.added, p.latest
      FROM sessions s
      JOIN (SELECT session_id, count(*) AS added, max(created_at) AS latest
              FROM batch GROUP BY session_id) p ON p.session_id = s.id
     WHERE NOT EXISTS (SELECT 1 FROM problem)
     ORDER BY s.id FOR UPDATE OF s
), touched AS (
    UPDATE sessions s SET message_count = s.message_count + l.added,
                          last_activity = GREATEST(s.last_activity, l.latest)
      FROM locked l WHERE s.id = l.id
    RETURNING s.id
), inserted AS (
    {_INSERT_MESSAGE}
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
    MESSAGES.columns,
)

# session_id is matched, never set: a message cannot move to another session. The outer
# SELECT always returns one row, telling a missing message, a changed session_id and a
# missing parent apart without a second round trip.
UPDATE_MESSAGE = Statement(
    f"""
WITH target AS (SELECT session_id FROM messages WHERE id = $1),
parent AS (SELECT {_parent_found("$8", "$3")} AS found),
updated AS (
    UPDATE messages SET updated_at = $2, role = $4, content = $5, metadata = $6,
                        tool_calls = $7, parent_message_id = $8
     WHERE id = $1 AND session_id = $3 AND (SELECT found FROM parent)
    RETURNING {MESSAGES.column_list}
)
SELECT (SELECT session_id FROM target) AS stored_session_id,
       (SELECT found FROM parent) AS parent_found, updated.*
  FROM (SELECT 1) AS one LEFT JOIN updated ON true
""",
    tuple(name for name in MESSAGES.columns if name != "created_at"),
)

# The session's row is locked before the message row, the order create_message takes them
# in, so a delete racing an append of a reply cannot deadlock. A message already deleted by
# a concurrent call is skipped after the lock, so the count drops exactly once.
DELETE_MESSAGE = Statement("""
WITH locked AS (
    SELECT s.id FROM sessions s JOIN messages m ON m.session_id = s.id
     WHERE m.id = $1 FOR UPDATE OF s
), deleted AS (
    DELETE FROM messages m USING locked WHERE m.id = $1 AND m.session_id = locked.id
    RETURNING m.session_id
), counted AS (
    UPDATE sessions s SET message_count = s.message_count - 1
      FROM deleted WHERE s.id = deleted.session_id RETURNING s.id
)
SELECT EXISTS (SELECT 1 FROM counted)
""")

# POP_MESSAGE, CLEAR_MESSAGES and TRIM_MESSAGES ($1: the session) run after LOCK_SESSION, in
# a statement of their own: its snapshot, taken once the lock is granted, sees what a
# concurrent pop or append committed (one statement would let two pops pick the same row).
POP_MESSAGE = Statement(f"""
WITH deleted AS (
    DELETE FROM messages
     WHERE id = (SELECT id FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1)
    RETURNING {MESSAGES.column_list}
), counted AS (
    UPDATE sessions SET message_count = message_count - 1
     WHERE id = $1 AND EXISTS (SELECT 1 FROM deleted)
)
SELECT * FROM deleted
""")
CLEAR_MESSAGES = Statement("""
WITH deleted AS (DELETE FROM messages WHERE session_id = $1 RETURNING 1),
     counted AS (UPDATE sessions SET message_count = 0 WHERE id = $1)
SELECT count(*) FROM deleted
""")
# The oldest messages beyond the newest $2, at most $3 of them, and the counter.
TRIM_MESSAGES = Statement("""
WITH doomed AS (
    SELECT id FROM messages
     WHERE session_id = $1 AND seq <= (SELECT seq FROM messages WHERE session_id = $1
                                        ORDER BY seq DESC OFFSET $2 LIMIT 1)
     ORDER BY seq LIMIT $3
), deleted AS (DELETE FROM messages m USING doomed WHERE m.id = doomed.id RETURNING 1),
counted AS (
    UPDATE sessions SET message_count = message_count - (SELECT count(*) FROM deleted)
     WHERE id = $1
)
SELECT count(*) FROM deleted
""")

# Retention: a bounded batch per statement. PRUNE_SESSIONS walks ix_sessions_activity from
# the least recently active end; the outer WHERE is re-checked on each row after its lock
# is granted, so a session that an append moved forward meanwhile is kept.
PRUNE_SESSIONS = Statement(
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE last_activity < $1 "
    "ORDER BY last_activity, id LIMIT $2) AND last_activity < $1 RETURNING message_count"
)
COUNT_INACTIVE = Statement(
    "SELECT count(*), coalesce(sum(message_count), 0) FROM sessions WHERE last_activity < $1"
)
LONG_SESSIONS = Statement(
    "SELECT id, message_count FROM sessions WHERE message_count > $1 AND id > $2 "
    "ORDER BY id LIMIT $3"
)

# Scoped state (revision 0002). Locks are taken in one order, the session's row first (as every
# message write takes it), then the scopes' rows in (scope, key) order (deltas arrive sorted),
# so writers never wait in a cycle. Deltas travel as one array per column, values as JSON.
GET_STATES = Statement("SELECT scope, key, value FROM states WHERE scope = ANY($1::text[])")


def _merge(first: int) -> str:
    """Upsert the delta in ``$first..$first+2`` (scopes, keys, JSON) once ``done`` has a row."""
    scopes, keys, values = (f"${first + i}::text[]" for i in range(3))
    return f"""
    INSERT INTO states (scope, key, value)
    SELECT d.scope, d.key, d.value::jsonb
      FROM unnest({scopes}, {keys}, {values}) WITH ORDINALITY AS d(scope, key, value, ord)
     WHERE EXISTS (SELECT 1 FROM done)
     ORDER BY d.ord
    ON CONFLICT (scope, key) DO UPDATE SET value = EXCLUDED.value"""


# ON CONFLICT DO NOTHING waits for a concurrent create of the same id, then writes nothing:
# the caller sees 0 created and no state merged.
CREATE_SESSION_WITH_STATE = Statement(
    f"""
WITH done AS ({INSERT_SESSION_IF_NEW.sql} RETURNING id),
merged AS ({_merge(len(INSERT_SESSION_IF_NEW.params) + 1)})
SELECT count(*) FROM done
""",
    INSERT_SESSION_IF_NEW.params,
)
# $1..$9 the message (as CREATE_MESSAGE), $10 if_last_activity, $11 the session-state delta
# (NULL: none), $12 the session's new updated_at, $13..$15 the scope deltas. The session row
# is locked first; its last_activity is then the latest committed one. Nothing is written
# unless every check passes; the last row tells which failed.
APPEND_MESSAGE_WITH_STATE = Statement(
    f"""
WITH s AS (
    SELECT id, last_activity FROM sessions WHERE id = $4 FOR UPDATE
), checks AS (
    SELECT s.id, EXISTS (SELECT 1 FROM messages WHERE id = $1) AS duplicate,
           {_parent_found("$9", "$4")} AS parent_found,
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
), done AS ({_INSERT_TOUCHED_MESSAGE} RETURNING 1),
merged AS ({_merge(13)})
SELECT (SELECT count(*) FROM done) AS inserted, c.id IS NOT NULL AS found,
       c.duplicate, c.parent_found, c.stale
  FROM (SELECT 1) AS one LEFT JOIN checks c ON true
""",
    MESSAGES.columns,
)

SCHEMA_VERSION_TABLE = Statement("SELECT to_regclass('alembic_version') IS NOT NULL")
SCHEMA_REVISION = Statement("SELECT version_num FROM alembic_version LIMIT 1")
