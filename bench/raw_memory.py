"""Raw in-memory store: plain dicts and lists, what one would write by hand.

Messages are kept as plain dicts (a shallow copy of the model's fields, JSON fields copied one
level deep) in a per-session list, so appending is O(1) and the newest n is a slice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, Session
from bench.stores import Store

__all__ = ["RawMemoryStore", "open_raw_memory"]


def _message_record(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "session_id": message.session_id,
        "role": str(message.role),
        "content": message.content,
        "metadata": dict(message.metadata),
        "tool_calls": [dict(call) for call in message.tool_calls],
        "parent_message_id": message.parent_message_id,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


class RawMemoryStore:
    """Sessions in a dict, each session's messages in a list, a per-user dict of sessions."""

    def __init__(self) -> None:
        self.sessions: dict[UUID, dict[str, Any]] = {}
        self.messages: dict[UUID, list[dict[str, Any]]] = {}
        self.message_ids: set[UUID] = set()
        self.by_user: dict[str | None, dict[UUID, dict[str, Any]]] = {}

    async def create_session(self, session: Session) -> None:
        if session.id in self.sessions:
            raise KeyError(f"session {session.id} exists")
        record = {
            "id": session.id,
            "user_id": session.user_id,
            "title": session.title,
            "metadata": dict(session.metadata),
            "message_count": 0,
            "last_activity": session.last_activity,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
        }
        self.sessions[session.id] = record
        self.messages[session.id] = []
        self.by_user.setdefault(session.user_id, {})[session.id] = record

    async def append(self, message: Message) -> None:
        session = self.sessions[message.session_id]  # KeyError: no such session
        if message.id in self.message_ids:
            raise KeyError(f"message {message.id} exists")
        self.messages[message.session_id].append(_message_record(message))
        self.message_ids.add(message.id)
        session["message_count"] += 1
        session["last_activity"] = max(session["last_activity"], message.created_at)

    async def append_many(self, messages: Sequence[Message]) -> None:
        ids = {message.id for message in messages}
        if len(ids) != len(messages) or ids & self.message_ids:
            raise KeyError("duplicate message id in batch")
        if any(message.session_id not in self.sessions for message in messages):
            raise KeyError("batch names a missing session")
        for message in messages:
            await self.append(message)

    async def recent(self, session_id: UUID, limit: int) -> list[dict[str, Any]]:
        return self.messages.get(session_id, [])[-limit:]

    async def list_sessions(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        records = self.by_user.get(user_id, {}).values()
        ordered = sorted(records, key=lambda r: (r["last_activity"], r["id"]), reverse=True)
        return ordered[:limit]

    def ids(self, items: Sequence[Any]) -> list[str]:
        return [str(record["id"]) for record in items]

    async def delete_session(self, session_id: UUID) -> bool:
        session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        for record in self.messages.pop(session_id):
            self.message_ids.discard(record["id"])
        del self.by_user[session["user_id"]][session_id]
        return True

    async def message_count(self, session_id: UUID) -> int | None:
        session = self.sessions.get(session_id)
        return None if session is None else int(session["message_count"])


@asynccontextmanager
async def open_raw_memory() -> AsyncIterator[Store]:
    yield RawMemoryStore()
