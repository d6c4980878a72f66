"""Messages on SQLite.

Messages are numbered per session (``seq`` = max + 1, assigned inside the write transaction,
which the write lock serialises across tasks and, through ``BEGIN IMMEDIATE``, across
processes); ``(session_id, seq)`` is unique and indexed, so a session's messages in order and
its last n are index range scans. ``create_message`` is four statements: BEGIN, the session
counter update (which also proves the session exists), the insert (which numbers the
message and checks its parent in the same statement), COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, utc_now
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryValidationError,
    parent_not_found,
)
from ai_agent.infrastructure.database.sqlite import _queries as sql
from ai_agent.infrastructure.database.sqlite._codec import MESSAGES, to_json
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection

__all__ = [
    "clear_messages",
    "create_message",
    "create_messages",
    "delete_message",
    "get_message",
    "get_messages_by_session",
    "get_recent_messages",
    "insert_message",
    "message_page",
    "pop_message",
    "touch_session",
    "update_message",
]

Row = dict[str, Any]


def touch_session(db: sqlite3.Connection, row: Row) -> int:
    """Count one more message in the row's session; how many sessions that found (0 or 1)."""
    touch = {"added": 1, "latest": row["created_at"], "session_id": row["session_id"]}
    return db.execute(sql.TOUCH_SESSION, touch).rowcount


def insert_message(db: sqlite3.Connection, row: Row) -> int:
    """Number and insert the message; 0 when its parent is not a message of its session."""
    return db.execute(sql.INSERT_MESSAGE, row).rowcount


async def create_message(connection: SQLiteConnection, message: Message) -> Message:
    row = MESSAGES.to_row(message)

    def write(db: sqlite3.Connection) -> None:
        if not touch_session(db, row):
            raise NotFoundError("session", message.session_id)
        if not insert_message(db, row):
            raise parent_not_found(message.parent_message_id or "?", message.session_id)

    await connection.atomically(write, message)
    return message


async def create_messages(connection: SQLiteConnection, messages: list[Message]) -> list[Message]:
    rows = [MESSAGES.to_row(message) for message in messages]

    def write(db: sqlite3.Connection) -> None:
        last_seq = _check_batch(db, messages)
        for row in rows:
            last_seq[row["session_id"]] += 1
            row["seq"] = last_seq[row["session_id"]]
        db.executemany(sql.INSERT_NUMBERED_MESSAGE, rows)
        db.executemany(sql.TOUCH_SESSION, _session_touches(rows))

    await connection.atomically(write)
    return messages


def _check_batch(db: sqlite3.Connection, messages: list[Message]) -> dict[Any, int]:
    """Raise the first problem of the batch in list order; return each session's max seq."""
    session_ids = list(dict.fromkeys(str(message.session_id) for message in messages))
    found = db.execute(sql.BATCH_SESSIONS, (to_json(session_ids),)).fetchall()
    existing = {row[0]: row[2] or 0 for row in found if row[1]}
    wanted = {str(message.id) for message in messages}
    wanted |= {str(m.parent_message_id) for m in messages if m.parent_message_id}
    known = db.execute(sql.BATCH_KNOWN_MESSAGES, (to_json(list(wanted)),)).fetchall()
    session_of = {row[0]: row[1] for row in known}
    for message in messages:
        session_id, message_id = str(message.session_id), str(message.id)
        if message_id in session_of:
            raise DuplicateError("message", "id", message.id)
        if session_id not in existing:
            raise NotFoundError("session", message.session_id)
        parent = message.parent_message_id
        if parent is not None and session_of.get(str(parent)) != session_id:
            raise parent_not_found(parent, session_id)
        session_of[message_id] = session_id  # later messages may reply to this one
    return existing


def _session_touches(rows: Iterable[Row]) -> list[Row]:
    """One counter update per session of a batch: how many messages, and the latest time."""
    touches: dict[Any, Row] = {}
    for row in rows:
        latest = row["created_at"]
        touch = touches.setdefault(
            row["session_id"], {"session_id": row["session_id"], "added": 0, "latest": latest}
        )
        touch["added"] += 1
        touch["latest"] = max(touch["latest"], latest)
    return list(touches.values())


async def get_message(connection: SQLiteConnection, message_id: UUID) -> Message | None:
    return MESSAGES.first(await connection.fetch(sql.GET_MESSAGE, (str(message_id),)))


async def get_messages_by_session(
    connection: SQLiteConnection, session_id: UUID, limit: int, offset: int
) -> list[Message]:
    parameters = (str(session_id), limit, offset)
    rows = await connection.fetch(sql.MESSAGES_IN_ORDER, parameters)
    return MESSAGES.from_rows(rows, {"session_id": session_id})


async def get_recent_messages(
    connection: SQLiteConnection, session_id: UUID, limit: int
) -> list[Message]:
    # Newest first off the (session_id, seq) index, reversed here: no sort step at all.
    rows = await connection.fetch(sql.NEWEST_MESSAGES, (str(session_id), limit))
    return MESSAGES.from_rows(reversed(rows), {"session_id": session_id})


async def update_message(connection: SQLiteConnection, message: Message) -> Message:
    message.updated_at = utc_now()
    async with connection.writing(message, atomic=False) as db:
        rows = list(await db.execute_fetchall(sql.UPDATE_MESSAGE, MESSAGES.to_row(message)))
        if not rows:
            stored = await db.execute_fetchall(sql.MESSAGE_SESSION, (str(message.id),))
            _explain_unchanged(message, [row[0] for row in stored])
    return MESSAGES.from_row(rows[0])


def _explain_unchanged(message: Message, stored_session: list[str]) -> None:
    if not stored_session:
        raise NotFoundError("message", message.id)
    if stored_session[0] != str(message.session_id):
        raise RepositoryValidationError(
            f"message {message.id} belongs to session {stored_session[0]}; "
            f"its session_id cannot change to {message.session_id}"
        )
    raise parent_not_found(message.parent_message_id or "?", message.session_id)


async def delete_message(connection: SQLiteConnection, message_id: UUID) -> bool:
    async with connection.writing() as db:
        rows = list(await db.execute_fetchall(sql.DELETE_MESSAGE, (str(message_id),)))
        if rows:  # replies keep existing: parent_message_id is ON DELETE SET NULL
            await db.execute(sql.UNCOUNT_MESSAGES, (1, rows[0][0]))
    return bool(rows)


async def pop_message(connection: SQLiteConnection, session_id: UUID) -> Message | None:
    async with connection.writing() as db:
        rows = list(await db.execute_fetchall(sql.POP_MESSAGE, (str(session_id),)))
        if rows:
            await db.execute(sql.UNCOUNT_MESSAGES, (1, str(session_id)))
    return MESSAGES.first(rows)


async def clear_messages(connection: SQLiteConnection, session_id: UUID) -> int:
    async with connection.writing() as db:
        cleared = (await db.execute(sql.CLEAR_MESSAGES, (str(session_id),))).rowcount
        await db.execute(sql.UNCOUNT_ALL, (str(session_id),))
    return cleared


async def message_page(
    connection: SQLiteConnection, session_id: UUID, after: int, limit: int
) -> tuple[list[Message], int]:
    rows = await connection.fetch(sql.MESSAGES_AFTER, (str(session_id), after, limit))
    last = rows[-1][0] if rows else after
    return [MESSAGES.from_row(row[1:]) for row in rows], last
