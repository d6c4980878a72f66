"""``BaseRepository``: the checks every backend shares, written once.

Each public method of the contract (:class:`~.contract.Repository`) is implemented here as a
template: it checks that the repository is open, validates its arguments again (models
built with ``model_construct`` or mutated past validation, ids, paging bounds, duplicate
ids within a batch), then awaits the backend's private ``_<method>`` and translates any
driver exception through the backend's single ``_translate_error`` hook. A backend
implements only the private methods and never sees unchecked input. Errors (see
:mod:`.errors`)::

    RepositoryError
    ├── RepositoryConnectionError
    ├── NotFoundError
    ├── DuplicateError
    ├── ConflictError
    └── RepositoryValidationError
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import ClassVar, Self
from uuid import UUID

from ai_agent.config.feature_flags import is_enabled
from ai_agent.domain.models import (
    Agent,
    ExternalService,
    MCPServer,
    Message,
    Session,
    Tool,
)
from ai_agent.infrastructure.database import abandoned
from ai_agent.infrastructure.database.arguments import ArgumentChecks, describe_validation_error
from ai_agent.infrastructure.database.calls import CallRunner
from ai_agent.infrastructure.database.contract import DEFAULT_ITER_BATCH, DEFAULT_LIST_LIMIT
from ai_agent.infrastructure.database.errors import (
    ConflictError,
    DuplicateError,
    OperationDisabledError,
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.maintenance import MaintenanceOperations
from ai_agent.infrastructure.database.states import StateOperations
from ai_agent.infrastructure.database.telemetry import (
    Measured,
    Telemetry,
    events,
    instrumented,
    measured,
)

__all__ = ["BaseRepository", "describe_validation_error"]


@instrumented
class BaseRepository(
    MaintenanceOperations, StateOperations, ArgumentChecks, CallRunner, Measured, ABC
):
    """Lifecycle, argument checks (:mod:`.arguments`), and running and retrying calls with
    one error translation (:mod:`.calls`), shared by every backend; every operation is
    measured and traced as ``telemetry`` says (:mod:`.telemetry`)."""

    backend_name: ClassVar[str] = "repository"

    def __init__(self) -> None:
        self._connected = False
        self._lifecycle_lock: asyncio.Lock | None = None
        # While connected: warns and releases if the repository is dropped undisconnected.
        self._abandoned: abandoned.Watch | None = None
        # Metrics on prometheus_client's default registry; the factory sets its own.
        self.telemetry = Telemetry()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def display_url(self) -> str:
        """Where this repository stores data, with any password redacted."""
        return f"{self.backend_name}://"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    async def connect(self) -> None:
        async with self._lock():
            if self._connected:
                return
            started = time.perf_counter()
            try:
                await self._connect()
            except Exception as exc:
                error = exc if isinstance(exc, RepositoryError) else self._connection_failure(exc)
                # info, not warning: the caller gets the error itself; an application that
                # never configured logging must not see it twice on stderr.
                events.info(
                    "repository.connect_failed", **self._where(), error=type(error).__name__
                )
                if error is exc:
                    raise
                raise error from exc
            self._connected = True
            self._abandoned = abandoned.watch(self, self._release_abandoned())
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            events.info("repository.connected", **self._where(), duration_ms=elapsed)

    async def disconnect(self) -> None:
        async with self._lock():
            if not self._connected:
                return
            self._connected = False
            if self._abandoned is not None:
                self._abandoned.detach()
                self._abandoned = None
            await self._disconnect()
            events.info("repository.disconnected", **self._where())

    def _release_abandoned(self) -> abandoned.Release | None:
        """How to release what ``_connect()`` opened should this repository be dropped
        while connected (see :mod:`.abandoned`); ``None`` when nothing needs releasing."""
        return None

    def _where(self) -> dict[str, str]:
        """The fields of a lifecycle event: the backend, and where (password masked)."""
        return {"backend": self.backend_name, "url": self.display_url}

    async def health_check(self) -> bool:
        if not self._connected:
            return False
        try:
            return await self._ping()
        except Exception:  # a health check reports, it never raises
            return False

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    def _lock(self) -> asyncio.Lock:
        if self._lifecycle_lock is None:
            self._lifecycle_lock = asyncio.Lock()
        return self._lifecycle_lock

    def _connection_failure(self, exc: Exception) -> RepositoryError:
        translated = self._translate_error(exc)
        if isinstance(translated, RepositoryConnectionError):
            return translated
        return RepositoryConnectionError(
            f"cannot connect to {self.backend_name} at {self.display_url}: {type(exc).__name__}"
        )

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
        if not is_enabled("bulk_operations"):
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

    # -- agents ------------------------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> Agent:
        valid = self._entity(agent, Agent)
        return await self._create(self._create_agent, valid, self._get_agent)

    async def get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._run(self._get_agent, self._key(agent_id, "agent"))

    async def list_agents(self, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0) -> list[Agent]:
        return await self._run(self._list_agents, *self._page(limit, offset))

    async def update_agent(self, agent: Agent) -> Agent:
        return await self._run(self._update_agent, self._entity(agent, Agent))

    async def delete_agent(self, agent_id: UUID) -> bool:
        return await self._run_delete(self._delete_agent, self._key(agent_id, "agent"))

    # -- tools -------------------------------------------------------------------------------

    async def create_tool(self, tool: Tool) -> Tool:
        valid = self._entity(tool, Tool)
        return await self._create(self._create_tool, valid, self._get_tool)

    async def get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._run(self._get_tool, self._key(tool_id, "tool"))

    async def list_tools(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Tool]:
        page = self._page(limit, offset)
        return await self._run(self._list_tools, self._flag(enabled_only, "enabled_only"), *page)

    async def update_tool(self, tool: Tool) -> Tool:
        return await self._run(self._update_tool, self._entity(tool, Tool))

    async def delete_tool(self, tool_id: UUID) -> bool:
        return await self._run_delete(self._delete_tool, self._key(tool_id, "tool"))

    # -- MCP servers -------------------------------------------------------------------------

    async def create_mcp_server(self, server: MCPServer) -> MCPServer:
        valid = self._entity(server, MCPServer)
        return await self._create(self._create_mcp_server, valid, self._get_mcp_server)

    async def get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._run(self._get_mcp_server, self._key(server_id, "MCP server"))

    async def list_mcp_servers(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[MCPServer]:
        page = self._page(limit, offset)
        enabled = self._flag(enabled_only, "enabled_only")
        return await self._run(self._list_mcp_servers, enabled, *page)

    async def update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._run(self._update_mcp_server, self._entity(server, MCPServer))

    async def delete_mcp_server(self, server_id: UUID) -> bool:
        return await self._run_delete(self._delete_mcp_server, self._key(server_id, "MCP server"))

    # -- external services -------------------------------------------------------------------

    async def create_external_service(self, service: ExternalService) -> ExternalService:
        valid = self._entity(service, ExternalService)
        return await self._create(self._create_external_service, valid, self._get_external_service)

    async def get_external_service(self, service_id: UUID) -> ExternalService | None:
        key = self._key(service_id, "external service")
        return await self._run(self._get_external_service, key)

    async def list_external_services(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[ExternalService]:
        page = self._page(limit, offset)
        enabled = self._flag(enabled_only, "enabled_only")
        return await self._run(self._list_external_services, enabled, *page)

    async def update_external_service(self, service: ExternalService) -> ExternalService:
        valid = self._entity(service, ExternalService)
        return await self._run(self._update_external_service, valid)

    async def delete_external_service(self, service_id: UUID) -> bool:
        key = self._key(service_id, "external service")
        return await self._run_delete(self._delete_external_service, key)

    # -- what a backend implements -----------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    @abstractmethod
    async def _ping(self) -> bool: ...

    # _translate_error(exc) -> RepositoryError | None: see CallRunner (``None``: a bug).

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

    @abstractmethod
    async def _create_agent(self, agent: Agent) -> Agent: ...
    @abstractmethod
    async def _get_agent(self, agent_id: UUID) -> Agent | None: ...
    @abstractmethod
    async def _list_agents(self, limit: int, offset: int) -> list[Agent]: ...
    @abstractmethod
    async def _update_agent(self, agent: Agent) -> Agent: ...
    @abstractmethod
    async def _delete_agent(self, agent_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_tool(self, tool: Tool) -> Tool: ...
    @abstractmethod
    async def _get_tool(self, tool_id: UUID) -> Tool | None: ...
    @abstractmethod
    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]: ...
    @abstractmethod
    async def _update_tool(self, tool: Tool) -> Tool: ...
    @abstractmethod
    async def _delete_tool(self, tool_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_mcp_server(self, server: MCPServer) -> MCPServer: ...
    @abstractmethod
    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None: ...
    @abstractmethod
    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]: ...
    @abstractmethod
    async def _update_mcp_server(self, server: MCPServer) -> MCPServer: ...
    @abstractmethod
    async def _delete_mcp_server(self, server_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_external_service(self, service: ExternalService) -> ExternalService: ...
    @abstractmethod
    async def _get_external_service(self, service_id: UUID) -> ExternalService | None: ...
    @abstractmethod
    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]: ...
    @abstractmethod
    async def _update_external_service(self, service: ExternalService) -> ExternalService: ...
    @abstractmethod
    async def _delete_external_service(self, service_id: UUID) -> bool: ...
