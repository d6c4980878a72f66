"""Sessions and messages on SQLite.

Messages are numbered per session (``seq`` = max + 1, assigned inside the write transaction,
which the write lock serialises across tasks and, through ``BEGIN IMMEDIATE``, across
processes); ``(session_id, seq)`` is unique and indexed, so a session's messages in order and
its last n are index range scans. ``create_message`` is four statements: BEGIN, the session
counter update (which also proves the session exists), the insert (which numbers the
message and checks its parent in the same statement), COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import aiosqlite

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.sqlite._core import SQLiteCore
from ai_agent.infrastructure.database.sqlite._rows import MESSAGES, SESSIONS, to_json

__all__ = ["ConversationStore"]

_SESSION_COLUMNS = SESSIONS.select_list
_MESSAGE_COLUMNS = MESSAGES.select_list

_GET_SESSION = f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?"
_LIST_SESSIONS = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY last_activity DESC, id DESC LIMIT ? OFFSET ?"
)
_LIST_USER_SESSIONS = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = ? "
    "ORDER BY last_activity DESC, id DESC LIMIT ? OFFSET ?"
)
# message_count and created_at are the repository's: never taken from the caller on update.
_UPDATE_SESSION = (
    "UPDATE sessions SET user_id = :user_id, title = :title, metadata = :metadata, "
    "last_activity = :last_activity, updated_at = :updated_at "
    f"WHERE id = :id RETURNING {_SESSION_COLUMNS}"
)
_DELETE_SESSION = "DELETE FROM sessions WHERE id = ? RETURNING id"  # messages: ON DELETE CASCADE

_TOUCH_SESSION = (
    "UPDATE sessions SET message_count = message_count + :added, "
    "last_activity = max(last_activity, :latest) WHERE id = :session_id"
)
_INSERT_MESSAGE = (
    f"INSERT INTO messages (seq, {_MESSAGE_COLUMNS}) "
    "SELECT coalesce((SELECT max(seq) FROM messages WHERE session_id = :session_id), 0) + 1, "
    + ", ".join(f":{column}" for column in MESSAGES.columns)
    + " WHERE :parent_message_id IS NULL OR EXISTS (SELECT 1 FROM messages "
    "WHERE id = :parent_message_id AND session_id = :session_id)"
)
_INSERT_NUMBERED_MESSAGE = (
    f"INSERT INTO messages (seq, {_MESSAGE_COLUMNS}) VALUES (:seq, "
    + ", ".join(f":{column}" for column in MESSAGES.columns)
    + ")"
)
# One row per session of a batch: does it exist, and its highest seq so far.
_BATCH_SESSIONS = (
    "SELECT j.value, EXISTS (SELECT 1 FROM sessions WHERE id = j.value), "
    "(SELECT max(seq) FROM messages WHERE session_id = j.value) FROM json_each(?) AS j"
)
_BATCH_KNOWN_MESSAGES = (
    "SELECT id, session_id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
)
_GET_MESSAGE = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?"
_MESSAGES_IN_ORDER = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq LIMIT ? OFFSET ?"
)
_NEWEST_MESSAGES = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?"
)
# A message stays in its session; a new parent must be a message of that same session.
_UPDATE_MESSAGE = (
    "UPDATE messages SET role = :role, content = :content, metadata = :metadata, "
    "tool_calls = :tool_calls, parent_message_id = :parent_message_id, "
    "updated_at = :updated_at WHERE id = :id AND session_id = :session_id "
    "AND (:parent_message_id IS NULL OR EXISTS (SELECT 1 FROM messages AS p "
    "WHERE p.id = :parent_message_id AND p.session_id = :session_id)) "
    f"RETURNING {_MESSAGE_COLUMNS}"
)
_POP_MESSAGE = (
    "DELETE FROM messages WHERE id = (SELECT id FROM messages WHERE session_id = ? "
    f"ORDER BY seq DESC LIMIT 1) RETURNING {_MESSAGE_COLUMNS}"
)
_CLEAR_MESSAGES = "DELETE FROM messages WHERE session_id = ?"
_UNCOUNT_ALL = "UPDATE sessions SET message_count = 0 WHERE id = ?"
_MESSAGES_AFTER = (
    f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND seq > ? "
    "ORDER BY seq LIMIT ?"
)
_MESSAGE_SESSION = "SELECT session_id FROM messages WHERE id = ?"
_DELETE_MESSAGE = "DELETE FROM messages WHERE id = ? RETURNING session_id"
_UNCOUNT_MESSAGE = "UPDATE sessions SET message_count = message_count - 1 WHERE id = ?"


class ConversationStore(SQLiteCore):
    """The session and message operations of ``SQLiteRepository``."""

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        session.message_count = 0
        async with self._writing(session, atomic=False) as connection:
            await connection.execute(SESSIONS.insert_sql, SESSIONS.to_row(session))
        return session  # the repository's own copy: BaseRepository detached it

    async def _get_session(self, session_id: UUID) -> Session | None:
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_GET_SESSION, (str(session_id),))
        return next((SESSIONS.from_row(row) for row in rows), None)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        async with self._reading() as connection:
            if user_id is None:
                rows = await connection.execute_fetchall(_LIST_SESSIONS, (limit, offset))
            else:
                parameters = (user_id, limit, offset)
                rows = await connection.execute_fetchall(_LIST_USER_SESSIONS, parameters)
        return [SESSIONS.from_row(row) for row in rows]

    async def _update_session(self, session: Session) -> Session:
        session.updated_at = utc_now()
        async with self._writing(session, atomic=False) as connection:
            rows = await connection.execute_fetchall(_UPDATE_SESSION, SESSIONS.to_row(session))
        stored = next((SESSIONS.from_row(row) for row in rows), None)
        if stored is None:
            raise NotFoundError("session", session.id)
        return stored

    async def _delete_session(self, session_id: UUID) -> bool:
        async with self._writing(atomic=False) as connection:
            rows = await connection.execute_fetchall(_DELETE_SESSION, (str(session_id),))
        return bool(list(rows))

    # -- messages ----------------------------------------------------------------------------

    async def _create_message(self, message: Message) -> Message:
        row = MESSAGES.to_row(message)
        async with self._writing(message) as connection:
            touch = {"added": 1, "latest": row["created_at"], "session_id": row["session_id"]}
            cursor = await connection.execute(_TOUCH_SESSION, touch)
            if cursor.rowcount == 0:
                raise NotFoundError("session", message.session_id)
            cursor = await connection.execute(_INSERT_MESSAGE, row)
            if cursor.rowcount == 0:  # the WHERE clause found no such parent in the session
                raise NotFoundError(
                    "message", str(message.parent_message_id), f"in session {message.session_id}"
                )
        return message

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        rows = [MESSAGES.to_row(message) for message in messages]
        async with self._writing() as connection:
            next_seq = await self._check_batch(connection, messages)
            for row in rows:
                next_seq[row["session_id"]] += 1
                row["seq"] = next_seq[row["session_id"]]
            await connection.executemany(_INSERT_NUMBERED_MESSAGE, rows)
            await connection.executemany(_TOUCH_SESSION, _session_touches(rows))
        return messages

    async def _check_batch(
        self, connection: aiosqlite.Connection, messages: list[Message]
    ) -> dict[Any, int]:
        """Raise the first problem of the batch in list order; return each session's max seq."""
        session_ids = list(dict.fromkeys(str(message.session_id) for message in messages))
        found = await connection.execute_fetchall(_BATCH_SESSIONS, (to_json(session_ids),))
        existing = {row[0]: row[2] or 0 for row in found if row[1]}
        wanted = {str(message.id) for message in messages}
        wanted |= {str(m.parent_message_id) for m in messages if m.parent_message_id}
        known = await connection.execute_fetchall(_BATCH_KNOWN_MESSAGES, (to_json(list(wanted)),))
        session_of = {row[0]: row[1] for row in known}
        for message in messages:
            session_id, message_id = str(message.session_id), str(message.id)
            if message_id in session_of:
                raise DuplicateError("message", "id", message.id)
            if session_id not in existing:
                raise NotFoundError("session", message.session_id)
            parent = message.parent_message_id
            if parent is not None and session_of.get(str(parent)) != session_id:
                raise NotFoundError("message", str(parent), f"in session {session_id}")
            session_of[message_id] = session_id  # later messages may reply to this one
        return existing

    async def _get_message(self, message_id: UUID) -> Message | None:
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_GET_MESSAGE, (str(message_id),))
        return next((MESSAGES.from_row(row) for row in rows), None)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        parameters = (str(session_id), limit, offset)
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_MESSAGES_IN_ORDER, parameters)
        return [MESSAGES.from_row(row) for row in rows]

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        # Newest first off the (session_id, seq) index, reversed here: no sort step at all.
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_NEWEST_MESSAGES, (str(session_id), limit))
        return [MESSAGES.from_row(row) for row in reversed(list(rows))]

    async def _update_message(self, message: Message) -> Message:
        message.updated_at = utc_now()
        async with self._writing(message, atomic=False) as connection:
            row = MESSAGES.to_row(message)
            rows = list(await connection.execute_fetchall(_UPDATE_MESSAGE, row))
            if not rows:
                stored = await connection.execute_fetchall(_MESSAGE_SESSION, (str(message.id),))
                self._explain_unchanged(message, [row[0] for row in stored])
        return MESSAGES.from_row(rows[0])

    @staticmethod
    def _explain_unchanged(message: Message, stored_session: list[str]) -> None:
        if not stored_session:
            raise NotFoundError("message", message.id)
        if stored_session[0] != str(message.session_id):
            raise RepositoryValidationError(
                f"message {message.id} belongs to session {stored_session[0]}; "
                f"its session_id cannot change to {message.session_id}"
            )
        raise NotFoundError(
            "message", str(message.parent_message_id), f"in session {message.session_id}"
        )

    async def _delete_message(self, message_id: UUID) -> bool:
        async with self._writing() as connection:
            rows = list(await connection.execute_fetchall(_DELETE_MESSAGE, (str(message_id),)))
            if rows:  # replies keep existing: parent_message_id is ON DELETE SET NULL
                await connection.execute(_UNCOUNT_MESSAGE, (rows[0][0],))
        return bool(rows)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        async with self._writing() as connection:
            rows = list(await connection.execute_fetchall(_POP_MESSAGE, (str(session_id),)))
            if rows:
                await connection.execute(_UNCOUNT_MESSAGE, (str(session_id),))
        return MESSAGES.from_row(rows[0]) if rows else None

    async def _clear_messages(self, session_id: UUID) -> int:
        async with self._writing() as connection:
            cursor = await connection.execute(_CLEAR_MESSAGES, (str(session_id),))
            cleared = cursor.rowcount
            await connection.execute(_UNCOUNT_ALL, (str(session_id),))
        return cleared

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        parameters = (str(session_id), after, limit)
        async with self._reading() as connection:
            rows = list(await connection.execute_fetchall(_MESSAGES_AFTER, parameters))
        last = rows[-1]["seq"] if rows else after
        return [MESSAGES.from_row(row) for row in rows], last


def _session_touches(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One counter update per session of a batch: how many messages, and the latest time."""
    touches: dict[Any, dict[str, Any]] = {}
    for row in rows:
        latest = row["created_at"]
        touch = touches.setdefault(
            row["session_id"], {"session_id": row["session_id"], "added": 0, "latest": latest}
        )
        touch["added"] += 1
        touch["latest"] = max(touch["latest"], latest)
    return list(touches.values())
