"""The SQL the SQLite backend runs, and nothing else.

Statements that list a table's columns are built from that table's model (:mod:`._codec`),
so a column added to a model reaches every statement at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ai_agent.infrastructure.database.sqlite._codec import MESSAGES, SESSIONS, Table

__all__ = [
    "BATCH_KNOWN_MESSAGES",
    "BATCH_SESSIONS",
    "BEGIN_IMMEDIATE",
    "CLEAR_MESSAGES",
    "COMMIT",
    "COUNT_INACTIVE",
    "DELETE_MESSAGE",
    "DELETE_SESSION",
    "GET_MESSAGE",
    "GET_SESSION",
    "GET_STATES",
    "HAS_REVISION_TABLE",
    "INSERT_MESSAGE",
    "INSERT_NUMBERED_MESSAGE",
    "INSERT_SESSION",
    "LIST_SESSIONS",
    "LIST_USER_SESSIONS",
    "LONG_SESSIONS",
    "MERGE_STATE",
    "MESSAGES_AFTER",
    "MESSAGES_IN_ORDER",
    "MESSAGE_EXISTS",
    "MESSAGE_SESSION",
    "NEWEST_MESSAGES",
    "PARENT_EXISTS",
    "PING",
    "POP_MESSAGE",
    "PRUNE_SESSIONS",
    "ROLLBACK",
    "SELECT_REVISION",
    "SESSION_ACTIVITY",
    "SET_METADATA",
    "TOUCH_SESSION",
    "TRIM_MESSAGES",
    "UNCOUNT_ALL",
    "UNCOUNT_MESSAGES",
    "UPDATE_MESSAGE",
    "UPDATE_SESSION",
    "CatalogStatements",
    "Savepoint",
    "catalog_statements",
    "pragma",
    "savepoint",
]


def _select_list(table: Table[Any]) -> str:
    return ", ".join(table.columns)


def _insert(table: Table[Any]) -> str:
    values = ", ".join(f":{column}" for column in table.columns)
    return f"INSERT INTO {table.name} ({_select_list(table)}) VALUES ({values})"


_SESSION_COLUMNS = _select_list(SESSIONS)
_MESSAGE_COLUMNS = _select_list(MESSAGES)
_MESSAGE_VALUES = ", ".join(f":{column}" for column in MESSAGES.columns)

# -- connection and transactions ---------------------------------------------------------------

PING = "SELECT count(*) FROM sqlite_master"
HAS_REVISION_TABLE = (
    "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version')"
)
SELECT_REVISION = "SELECT version_num FROM alembic_version LIMIT 1"
BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"


def pragma(setting: str) -> str:
    """``PRAGMA name`` reads a setting, ``PRAGMA name = value`` sets it."""
    return f"PRAGMA {setting}"


@dataclass(frozen=True)
class Savepoint:
    """The three statements of one named savepoint."""

    open: str
    rollback: str
    release: str


def savepoint(name: str) -> Savepoint:
    return Savepoint(f"SAVEPOINT {name}", f"ROLLBACK TO {name}", f"RELEASE {name}")


# -- sessions ----------------------------------------------------------------------------------

INSERT_SESSION = _insert(SESSIONS)
GET_SESSION = f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?"
LIST_SESSIONS = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY last_activity DESC, id DESC LIMIT ? OFFSET ?"
)
LIST_USER_SESSIONS = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = ? "
    "ORDER BY last_activity DESC, id DESC LIMIT ? OFFSET ?"
)
# message_count and created_at are the repository's: never taken from the caller on update.
UPDATE_SESSION = (
    "UPDATE sessions SET user_id = :user_id, title = :title, metadata = :metadata, "
    "last_activity = :last_activity, updated_at = :updated_at "
    f"WHERE id = :id RETURNING {_SESSION_COLUMNS}"
)
DELETE_SESSION = "DELETE FROM sessions WHERE id = ? RETURNING id"  # messages: ON DELETE CASCADE
TOUCH_SESSION = (
    "UPDATE sessions SET message_count = message_count + :added, "
    "last_activity = max(last_activity, :latest) WHERE id = :session_id"
)
UNCOUNT_MESSAGES = "UPDATE sessions SET message_count = message_count - ? WHERE id = ?"
UNCOUNT_ALL = "UPDATE sessions SET message_count = 0 WHERE id = ?"

# -- messages ----------------------------------------------------------------------------------

# Numbers the message and checks its parent in the same statement.
INSERT_MESSAGE = (
    f"INSERT INTO messages (seq, {_MESSAGE_COLUMNS}) "
    "SELECT coalesce((SELECT max(seq) FROM messages WHERE session_id = :session_id), 0) + 1, "
    f"{_MESSAGE_VALUES} WHERE :parent_message_id IS NULL OR EXISTS (SELECT 1 FROM messages "
    "WHERE id = :parent_message_id AND session_id = :session_id)"
)
INSERT_NUMBERED_MESSAGE = (
    f"INSERT INTO messages (seq, {_MESSAGE_COLUMNS}) VALUES (:seq, {_MESSAGE_VALUES})"
)
# One row per session of a batch: does it exist, and its highest seq so far.
BATCH_SESSIONS = (
    "SELECT j.value, EXISTS (SELECT 1 FROM sessions WHERE id = j.value), "
    "(SELECT max(seq) FROM messages WHERE session_id = j.value) FROM json_each(?) AS j"
)
BATCH_KNOWN_MESSAGES = (
    "SELECT id, session_id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
)
GET_MESSAGE = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?"
MESSAGES_IN_ORDER = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq LIMIT ? OFFSET ?"
)
NEWEST_MESSAGES = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?"
)
# A message stays in its session; a new parent must be a message of that same session.
UPDATE_MESSAGE = (
    "UPDATE messages SET role = :role, content = :content, metadata = :metadata, "
    "tool_calls = :tool_calls, parent_message_id = :parent_message_id, "
    "updated_at = :updated_at WHERE id = :id AND session_id = :session_id "
    "AND (:parent_message_id IS NULL OR EXISTS (SELECT 1 FROM messages AS p "
    "WHERE p.id = :parent_message_id AND p.session_id = :session_id)) "
    f"RETURNING {_MESSAGE_COLUMNS}"
)
POP_MESSAGE = (
    "DELETE FROM messages WHERE id = (SELECT id FROM messages WHERE session_id = ? "
    f"ORDER BY seq DESC LIMIT 1) RETURNING {_MESSAGE_COLUMNS}"
)
CLEAR_MESSAGES = "DELETE FROM messages WHERE session_id = ?"
MESSAGES_AFTER = (
    f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND seq > ? "
    "ORDER BY seq LIMIT ?"
)
MESSAGE_SESSION = "SELECT session_id FROM messages WHERE id = ?"
DELETE_MESSAGE = "DELETE FROM messages WHERE id = ? RETURNING session_id"

# -- catalog -----------------------------------------------------------------------------------

# id and created_at never change on update; updated_at is the repository's now.
_FIXED_ON_UPDATE = ("id", "created_at")


@dataclass(frozen=True)
class CatalogStatements:
    """The statements of one catalog table. Listings walk a ``(name, id)`` index."""

    insert: str
    get: str
    list: str
    list_enabled: str
    update: str
    delete: str


@cache
def catalog_statements(table: Table[Any]) -> CatalogStatements:
    """The SQL of one catalog table, built once from its columns."""
    columns = _select_list(table)
    assignments = ", ".join(
        f"{column} = :{column}" for column in table.columns if column not in _FIXED_ON_UPDATE
    )
    order = "ORDER BY name, id LIMIT ? OFFSET ?"
    return CatalogStatements(
        insert=_insert(table),
        get=f"SELECT {columns} FROM {table.name} WHERE id = ?",
        list=f"SELECT {columns} FROM {table.name} {order}",
        list_enabled=f"SELECT {columns} FROM {table.name} WHERE enabled {order}",
        update=f"UPDATE {table.name} SET {assignments} WHERE id = :id RETURNING {columns}",
        delete=f"DELETE FROM {table.name} WHERE id = ? RETURNING id",
    )


# -- scoped state ------------------------------------------------------------------------------

GET_STATES = "SELECT scope, key, value FROM states WHERE scope IN (SELECT value FROM json_each(?))"
MERGE_STATE = (
    "INSERT INTO states (scope, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value"
)
SESSION_ACTIVITY = "SELECT last_activity, metadata FROM sessions WHERE id = ?"
MESSAGE_EXISTS = "SELECT 1 FROM messages WHERE id = ?"
PARENT_EXISTS = "SELECT 1 FROM messages WHERE id = ? AND session_id = ?"
SET_METADATA = "UPDATE sessions SET metadata = ?, updated_at = ? WHERE id = ?"

# -- retention ---------------------------------------------------------------------------------

# last_activity is re-checked by the DELETE itself, inside the write transaction.
PRUNE_SESSIONS = (
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE last_activity < :cutoff "
    "ORDER BY last_activity, id LIMIT :limit) AND last_activity < :cutoff RETURNING message_count"
)
COUNT_INACTIVE = (
    "SELECT count(*), coalesce(sum(message_count), 0) FROM sessions WHERE last_activity < ?"
)
# The oldest messages beyond the newest :keep, at most :limit of them.
TRIM_MESSAGES = (
    "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE session_id = :session_id "
    "AND seq <= (SELECT seq FROM messages WHERE session_id = :session_id "
    "ORDER BY seq DESC LIMIT 1 OFFSET :keep) ORDER BY seq LIMIT :limit)"
)
LONG_SESSIONS = (
    "SELECT id, message_count FROM sessions WHERE message_count > ? AND id > ? ORDER BY id LIMIT ?"
)
