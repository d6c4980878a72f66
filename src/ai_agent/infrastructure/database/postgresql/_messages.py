"""The message operations on PostgreSQL: each keeps ``sessions.message_count`` in step."""

from __future__ import annotations

from uuid import UUID

from ai_agent.domain.models import Message, utc_now
from ai_agent.infrastructure.database.errors import (
    NotFoundError,
    RepositoryError,
    RepositoryValidationError,
    parent_not_found,
)
from ai_agent.infrastructure.database.postgresql import _queries as q
from ai_agent.infrastructure.database.postgresql._catalog import delete_row, get_row, list_rows
from ai_agent.infrastructure.database.postgresql._codec import MESSAGES, encode_json
from ai_agent.infrastructure.database.postgresql._connection import ConnectionRouter
from ai_agent.infrastructure.database.postgresql._sessions import under_session_lock

__all__ = [
    "clear_messages",
    "create_message",
    "create_messages",
    "delete_message",
    "get_message",
    "message_page",
    "messages_by_session",
    "pop_message",
    "recent_messages",
    "update_message",
]

_BATCH_JSON = frozenset({"metadata", "tool_calls"})


async def create_message(db: ConnectionRouter, message: Message) -> Message:
    args = MESSAGES.values(message, q.CREATE_MESSAGE.params)
    if await db.execute(q.CREATE_MESSAGE.sql, *args) == q.INSERT_DONE:
        return message
    args = MESSAGES.values(message, q.MESSAGE_REFUSED.params)
    row = await db.fetchrow(q.MESSAGE_REFUSED.sql, *args)
    if row is not None and row["session_found"] and not row["parent_found"]:
        raise parent_not_found(message.parent_message_id or "?", message.session_id)
    # Both found here: the session or parent was created concurrently, after this check.
    raise NotFoundError("session", message.session_id)


async def create_messages(db: ConnectionRouter, messages: list[Message]) -> list[Message]:
    columns = [
        [encode_json(getattr(m, name)) for m in messages]
        if name in _BATCH_JSON
        else [getattr(m, name) for m in messages]
        for name in q.CREATE_MESSAGES.params
    ]
    row = await db.fetchrow(q.CREATE_MESSAGES.sql, *columns)
    assert row is not None  # the statement always returns one row
    if row["inserted"] == len(messages):
        return messages
    if row["ord"] is None:  # pragma: no cover - a concurrent delete fails the foreign key
        raise RepositoryError("the batch of messages was not stored; retry it")
    failed = messages[row["ord"] - 1]
    if not row["session_found"]:
        raise NotFoundError("session", failed.session_id)
    raise parent_not_found(failed.parent_message_id or "?", failed.session_id)


async def get_message(db: ConnectionRouter, message_id: UUID) -> Message | None:
    return await get_row(db, MESSAGES, q.GET_MESSAGE, message_id)


async def messages_by_session(
    db: ConnectionRouter, session_id: UUID, limit: int, offset: int
) -> list[Message]:
    known = {"session_id": session_id}  # the page sends NULL for it (_queries.py)
    page = q.MESSAGES_BY_SESSION
    return await list_rows(db, MESSAGES, page, session_id, limit, offset, known=known)


async def recent_messages(db: ConnectionRouter, session_id: UUID, limit: int) -> list[Message]:
    known = {"session_id": session_id}
    newest_first = await list_rows(db, MESSAGES, q.RECENT_MESSAGES, session_id, limit, known=known)
    newest_first.reverse()
    return newest_first


async def message_page(
    db: ConnectionRouter, session_id: UUID, after: int, limit: int
) -> tuple[list[Message], int]:
    rows = await db.fetch(q.MESSAGES_AFTER.sql, session_id, after, limit)
    last = rows[-1]["seq"] if rows else after
    return MESSAGES.decode_all(rows, {"session_id": session_id}), last


async def update_message(db: ConnectionRouter, message: Message) -> Message:
    message.updated_at = utc_now()
    args = MESSAGES.values(message, q.UPDATE_MESSAGE.params)
    row = await db.fetchrow(q.UPDATE_MESSAGE.sql, *args)
    assert row is not None  # the statement always returns one row
    if row["id"] is not None:
        return MESSAGES.decode(row)
    stored_session = row["stored_session_id"]
    if stored_session is not None and stored_session != message.session_id:
        raise RepositoryValidationError(
            f"message {message.id} belongs to session {stored_session}; "
            f"its session_id cannot change to {message.session_id}"
        )
    if stored_session is not None and not row["parent_found"]:
        raise parent_not_found(message.parent_message_id or "?", message.session_id)
    raise NotFoundError("message", message.id)


async def delete_message(db: ConnectionRouter, message_id: UUID) -> bool:
    return await delete_row(db, q.DELETE_MESSAGE, message_id)


async def pop_message(db: ConnectionRouter, session_id: UUID) -> Message | None:
    row = await under_session_lock(db, session_id, lambda c: c.fetchrow, q.POP_MESSAGE)
    return None if row is None else MESSAGES.decode(row)


async def clear_messages(db: ConnectionRouter, session_id: UUID) -> int:
    cleared = await under_session_lock(db, session_id, lambda c: c.fetchval, q.CLEAR_MESSAGES)
    return int(cleared or 0)
