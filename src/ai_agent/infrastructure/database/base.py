"""``BaseRepository``: the checks every backend shares, written once.

Each public operation of the contract (:class:`~.contract.Repository`) is a template here:
it checks that the repository is open, validates its arguments again, then awaits the
backend's private ``_<operation>`` (:mod:`.hooks`) through :mod:`.calls`, which translates
driver errors at one boundary. Connecting and disconnecting live in :mod:`.lifecycle`; the
error tree is drawn in :mod:`.errors`.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.arguments import ArgumentChecks, describe_validation_error
from ai_agent.infrastructure.database.calls import CallRunner
from ai_agent.infrastructure.database.catalog import CatalogOperations
from ai_agent.infrastructure.database.contract import DEFAULT_ITER_BATCH, DEFAULT_LIST_LIMIT
from ai_agent.infrastructure.database.errors import OperationDisabledError
from ai_agent.infrastructure.database.hooks import ConversationHooks
from ai_agent.infrastructure.database.lifecycle import Lifecycle
from ai_agent.infrastructure.database.maintenance import MaintenanceOperations
from ai_agent.infrastructure.database.states import StateOperations
from ai_agent.infrastructure.database.telemetry import Measured, Telemetry, instrumented, measured

__all__ = ["BaseRepository", "describe_validation_error"]


@instrumented
class BaseRepository(
    Lifecycle,
    ConversationHooks,
    CatalogOperations,
    MaintenanceOperations,
    StateOperations,
    ArgumentChecks,
    CallRunner,
    Measured,
    ABC,
):
    """Lifecycle (:mod:`.lifecycle`), argument checks (:mod:`.arguments`), and running and
    retrying calls with one error translation (:mod:`.calls`), shared by every backend;
    every operation is measured and traced as ``telemetry`` says (:mod:`.telemetry`)."""

    backend_name = "repository"

    def __init__(self) -> None:
        self._connected = False
        self._lifecycle_lock = None
        self._abandoned = None
        # Metrics on prometheus_client's default registry; the factory sets its own.
        self.telemetry = Telemetry()

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(self, session: Session) -> Session:
        valid = self._entity(session, Session)
        return await self._create(self._create_session, valid, self._get_session)

    async def get_session(self, session_id: UUID) -> Session | None:
        return await self._run(self._get_session, self._key(session_id, "session"))

    async def list_sessions(
        self, user_id: str | None = None, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Session]:
        page = self._page(limit, offset)
        return await self._run(self._list_sessions, self._user_id(user_id), *page)

    async def update_session(self, session: Session) -> Session:
        return await self._run(self._update_session, self._entity(session, Session))

    async def delete_session(self, session_id: UUID) -> bool:
        return await self._run_delete(self._delete_session, self._key(session_id, "session"))

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message) -> Message:
        valid = self._entity(message, Message)
        return await self._create(self._create_message, valid, self._get_message)

    async def create_messages(self, messages: Sequence[Message]) -> list[Message]:
        if not self.features("bulk_operations"):
            raise OperationDisabledError(
                "create_messages is disabled: the bulk_operations feature flag is off"
                " (FEATURE_ENABLE_BULK_OPERATIONS); create the messages one at a time"
            )
        checked = self._entities(messages)
        if not checked:
            return []

        async def identical_batch() -> list[Message] | None:
            return await self._identical_batch(self._get_message, checked)

        return await self._run(self._create_messages, checked, recover=identical_batch)

    async def get_message(self, message_id: UUID) -> Message | None:
        return await self._run(self._get_message, self._key(message_id, "message"))

    async def get_messages_by_session(
        self, session_id: UUID, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Message]:
        page = self._page(limit, offset)
        key = self._key(session_id, "session")
        return await self._run(self._get_messages_by_session, key, *page)

    async def get_recent_messages(self, session_id: UUID, limit: int = 50) -> list[Message]:
        count, _ = self._page(limit)
        key = self._key(session_id, "session")
        return await self._run(self._get_recent_messages, key, count)

    async def update_message(self, message: Message) -> Message:
        return await self._run(self._update_message, self._entity(message, Message))

    async def delete_message(self, message_id: UUID) -> bool:
        return await self._run_delete(self._delete_message, self._key(message_id, "message"))

    # -- conversation helpers ----------------------------------------------------------------

    async def get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        return await self._run(self._get_or_create_session, self._entity(session, Session))

    async def pop_message(self, session_id: UUID) -> Message | None:
        # One attempt only: a retry after a lost reply would pop a second message.
        return await self._attempt(self._pop_message, (self._key(session_id, "session"),))

    async def clear_messages(self, session_id: UUID) -> int:
        return await self._run(self._clear_messages, self._key(session_id, "session"))

    def iter_messages(
        self, session_id: UUID, batch_size: int = DEFAULT_ITER_BATCH
    ) -> AsyncIterator[Message]:
        key = self._key(session_id, "session")
        size, _ = self._page(batch_size, name="batch_size")
        return self._iterate_messages(key, size)

    async def _iterate_messages(self, session_id: UUID, size: int) -> AsyncIterator[Message]:
        after = 0
        while True:
            page, after = await self._iter_page(session_id, after, size)
            for message in page:
                yield message
            if len(page) < size:
                return

    @measured("iter_messages")
    async def _iter_page(
        self, session_id: UUID, after: int, size: int
    ) -> tuple[list[Message], int]:
        """One page of ``iter_messages``: measured as one ``iter_messages`` operation."""
        self._ensure_open()
        return await self._run(self._message_page, session_id, after, size)
