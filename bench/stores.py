"""The one interface every workload talks to, and its adapter over the project's Repository.

A workload is written once against :class:`Store`; each backend offers two of them: the
project's repository (:class:`RepositoryStore`) and hand-written raw driver code for the same
server (``raw_*.py``). Every store receives the same pre-built pydantic models, so building
inputs is never timed. Reads return what the store naturally hands its caller (models, rows,
records); :meth:`Store.ids` turns that into canonical id strings off the clock, so results
compare directly and the comparison itself is never timed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.contract import Repository

__all__ = ["Opener", "RepositoryStore", "Store", "connected"]


class Store(Protocol):
    """What the workloads need from a store (a repository or raw driver code)."""

    async def create_session(self, session: Session) -> None:
        """Store a new session (message count 0)."""

    async def append(self, message: Message) -> None:
        """Store one message, bump its session's count and last activity, atomically."""

    async def append_many(self, messages: Sequence[Message]) -> None:
        """Store a batch of messages in order, all or nothing."""

    async def recent(self, session_id: UUID, limit: int) -> Sequence[Any]:
        """The session's newest ``limit`` messages, oldest first."""

    async def list_sessions(self, user_id: str, limit: int) -> Sequence[Any]:
        """The user's most recently active sessions (activity desc, then id desc)."""

    def ids(self, items: Sequence[Any]) -> list[str]:
        """The ids of what ``recent`` or ``list_sessions`` returned, as canonical strings."""

    async def delete_session(self, session_id: UUID) -> bool:
        """Delete the session and its messages; whether it existed."""

    async def message_count(self, session_id: UUID) -> int | None:
        """The session's stored message count, ``None`` when there is no such session."""


# Opens a fresh, empty store for one workload and closes it afterwards.
Opener = Callable[[], AbstractAsyncContextManager[Store]]


class RepositoryStore:
    """:class:`Store` over any project ``Repository`` (it must be connected)."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository

    async def create_session(self, session: Session) -> None:
        await self.repository.create_session(session)

    async def append(self, message: Message) -> None:
        await self.repository.create_message(message)

    async def append_many(self, messages: Sequence[Message]) -> None:
        await self.repository.create_messages(messages)

    async def recent(self, session_id: UUID, limit: int) -> list[Message]:
        return await self.repository.get_recent_messages(session_id, limit)

    async def list_sessions(self, user_id: str, limit: int) -> list[Session]:
        return await self.repository.list_sessions(user_id=user_id, limit=limit)

    def ids(self, items: Sequence[Any]) -> list[str]:
        return [str(item.id) for item in items]

    async def delete_session(self, session_id: UUID) -> bool:
        return await self.repository.delete_session(session_id)

    async def message_count(self, session_id: UUID) -> int | None:
        session = await self.repository.get_session(session_id)
        return None if session is None else session.message_count


@asynccontextmanager
async def connected(repository: Repository) -> AsyncIterator[Store]:
    """Connect ``repository`` for one workload and disconnect it afterwards."""
    await repository.connect()
    try:
        yield RepositoryStore(repository)
    finally:
        await repository.disconnect()
