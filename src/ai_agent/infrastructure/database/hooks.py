"""What a backend implements: the private ``_<operation>`` behind each public operation.

:class:`~.base.BaseRepository` checks the arguments and runs these through
:class:`~.calls.CallRunner`, so a backend never sees unchecked input and translates driver
errors only in ``_translate_error``. The behaviour each one owes is the public operation's,
documented once in :class:`~.contract.Repository`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.calls import CallRunner
from ai_agent.infrastructure.database.errors import ConflictError, DuplicateError

__all__ = ["ConversationHooks"]


class ConversationHooks(CallRunner, ABC):
    """Sessions, their messages, and the conversation helpers framework adapters use."""

    @abstractmethod
    async def _create_session(self, session: Session) -> Session: ...
    @abstractmethod
    async def _get_session(self, session_id: UUID) -> Session | None: ...
    @abstractmethod
    async def _list_sessions(
        self, user_id: str | None, limit: int, offset: int
    ) -> list[Session]: ...
    @abstractmethod
    async def _update_session(self, session: Session) -> Session: ...
    @abstractmethod
    async def _delete_session(self, session_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_message(self, message: Message) -> Message: ...
    @abstractmethod
    async def _create_messages(self, messages: list[Message]) -> list[Message]: ...
    @abstractmethod
    async def _get_message(self, message_id: UUID) -> Message | None: ...
    @abstractmethod
    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]: ...
    @abstractmethod
    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]: ...
    @abstractmethod
    async def _update_message(self, message: Message) -> Message: ...
    @abstractmethod
    async def _delete_message(self, message_id: UUID) -> bool: ...
    async def _get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        """Create, else read: correct wherever a failed create leaves no trace behind.

        (A backend whose failed statement spoils an open transaction overrides it.)
        """
        try:
            return await self._attempt(self._create_session, (session,)), True
        except DuplicateError:
            stored = await self._attempt(self._get_session, (session.id,))
        if stored is None:  # deleted between the two steps: a retry settles it
            raise ConflictError(f"session {session.id} was deleted while being read; retry")
        return stored, False

    @abstractmethod
    async def _pop_message(self, session_id: UUID) -> Message | None: ...
    @abstractmethod
    async def _clear_messages(self, session_id: UUID) -> int: ...
    @abstractmethod
    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        """Up to ``limit`` messages past position ``after`` (0: from the first) in insertion
        order, and the position of the last one returned (``after`` when none)."""
