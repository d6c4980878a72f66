"""``InMemoryRepository``: the contract hooks, wired to the stores of the family modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from ai_agent.domain.models import DomainModel, Message, Session
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.catalog import CatalogKind
from ai_agent.infrastructure.database.memory._catalog import Catalogs
from ai_agent.infrastructure.database.memory._maintenance import (
    count_inactive_sessions,
    long_sessions,
    prune_sessions,
    trim_messages,
)
from ai_agent.infrastructure.database.memory._messages import MessageStore
from ai_agent.infrastructure.database.memory._sessions import SessionStore
from ai_agent.infrastructure.database.memory._states import (
    ScopedStates,
    append_message_with_state,
    create_session_with_state,
)
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["InMemoryRepository"]

M = TypeVar("M", bound=DomainModel)


class InMemoryRepository(BaseRepository):
    """Keeps everything in this process; safe for concurrent tasks on one event loop.

    No operation awaits between its first read and its last write, so each is atomic with
    respect to other tasks on the loop. It is not thread-safe: use it from one event loop.
    ``disconnect()`` keeps the data, and a later ``connect()`` sees it again.
    """

    backend_name = "memory"

    def __init__(self) -> None:
        super().__init__()
        self._sessions = SessionStore()
        self._messages = MessageStore(self._sessions)
        self._states = ScopedStates()
        self._catalogs = Catalogs()

    async def _connect(self) -> None:
        return None

    async def _disconnect(self) -> None:
        return None  # the data outlives the connection, like a server's would

    async def _ping(self) -> bool:
        return True

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        return self._sessions.create(session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return self._sessions.get(session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        return self._sessions.page(user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return self._sessions.update(session)

    async def _delete_session(self, session_id: UUID) -> bool:
        self._messages.drop_thread(session_id)
        return self._sessions.remove(session_id)

    # -- messages ----------------------------------------------------------------------------

    async def _create_message(self, message: Message) -> Message:
        return self._messages.create(message)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        return self._messages.create_many(messages)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return self._messages.get(message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        return self._messages.by_session(session_id, limit, offset)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        return self._messages.recent(session_id, limit)

    async def _update_message(self, message: Message) -> Message:
        return self._messages.update(message)

    async def _delete_message(self, message_id: UUID) -> bool:
        return self._messages.delete(message_id)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        return self._messages.pop(session_id)

    async def _clear_messages(self, session_id: UUID) -> int:
        return self._messages.clear(session_id)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        return self._messages.page_after(session_id, after, limit)

    # -- scoped state ------------------------------------------------------------------------

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        return self._states.get(scopes)

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        return create_session_with_state(self._sessions, self._states, session, state)

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        return append_message_with_state(self._messages, self._states, append)

    # -- retention ---------------------------------------------------------------------------

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        return prune_sessions(self._sessions, self._messages, cutoff, limit)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        return count_inactive_sessions(self._sessions, cutoff)

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        return trim_messages(self._messages, session_id, keep, limit)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        return long_sessions(self._sessions, more_than, after, limit)

    # -- catalog -------------------------------------------------------------------------------

    async def _create_entry(self, kind: CatalogKind[M], entry: M) -> M:
        return self._catalogs.create(kind, entry)

    async def _get_entry(self, kind: CatalogKind[M], entry_id: UUID) -> M | None:
        return cast("M | None", self._catalogs.of(kind).get(entry_id))

    async def _list_entries(
        self, kind: CatalogKind[M], enabled_only: bool, limit: int, offset: int
    ) -> list[M]:
        return cast("list[M]", self._catalogs.of(kind).page(enabled_only, limit, offset))

    async def _update_entry(self, kind: CatalogKind[M], entry: M) -> M:
        return self._catalogs.update(kind, entry)

    async def _delete_entry(self, kind: CatalogKind[M], entry_id: UUID) -> bool:
        return self._catalogs.delete(kind, entry_id)
