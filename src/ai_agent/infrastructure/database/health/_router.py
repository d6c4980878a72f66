"""``FailoverRepository``: the ``Repository`` that ``get_healthy_repository()`` returns.

Each call goes to the primary while the breaker is closed (a ``RepositoryConnectionError``
from it counts toward the breaker, and when that opens the breaker the same call is served
as an outage call), else through the outage rules of the package docstring. Arguments are
validated once, by the repository that serves the call; a call refused during an outage
(a listing, a create with a unique name) is validated by the same ``BaseRepository`` checks
before it is refused, so bad input fails the same way in every state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from ai_agent.domain.models import Agent, ExternalService, MCPServer, Message, Session, Tool
from ai_agent.infrastructure.database.contract import (
    DEFAULT_ITER_BATCH,
    DEFAULT_LIST_LIMIT,
    Repository,
)
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.health._replay import (
    encode_entity,
    encode_id,
    encode_messages,
)
from ai_agent.infrastructure.database.health._routing import Op, exists
from ai_agent.infrastructure.database.health._states import StateRouter
from ai_agent.infrastructure.database.telemetry import instrumented

__all__ = ["FailoverRepository"]

_LISTING = "a listing from the fallback would be incomplete"
_UNIQUE = "names can only be checked for uniqueness in the primary"


@instrumented
class FailoverRepository(StateRouter):
    """Routes every call to the primary or, during an outage, to the fallback (journaled).

    Its calls are measured with ``backend="failover"`` (``telemetry``, set by the monitor);
    the primary and the fallback record their own.
    """

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(self, session: Session) -> Session:
        return await self._write(
            lambda r: r.create_session(session),
            "create_session",
            encode_entity,
            undo=lambda r, stored: r.delete_session(stored.id),
        )

    async def get_session(self, session_id: UUID) -> Session | None:
        return await self._get(lambda r: r.get_session(session_id), "session", session_id)

    async def list_sessions(
        self, user_id: str | None = None, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Session]:
        return await self._refused(
            lambda r: r.list_sessions(user_id, limit, offset),
            lambda c: (c._user_id(user_id), c._page(limit, offset)),
            _LISTING,
        )

    async def update_session(self, session: Session) -> Session:
        return await self._write(
            lambda r: r.update_session(session),
            "update_session",
            encode_entity,
            genuine=lambda r: exists(r.get_session(session.id)),
        )

    async def delete_session(self, session_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_session(session_id)  # noqa: E731
        return await self._delete(op, "delete_session", "session", session_id)

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message) -> Message:
        return await self._write(
            lambda r: r.create_message(message),
            "create_message",
            encode_entity,
            # A NotFoundError about a session the fallback holds (its parent message) is true.
            genuine=lambda r: exists(r.get_session(message.session_id)),
            undo=lambda r, stored: r.delete_message(stored.id),
        )

    async def create_messages(self, messages: Sequence[Message]) -> list[Message]:
        async def all_sessions_held(repository: Repository) -> bool:
            sessions = {message.session_id for message in messages}
            return all([await exists(repository.get_session(key)) for key in sessions])

        async def undo(repository: Repository, stored: list[Message]) -> None:
            for message in stored:
                await repository.delete_message(message.id)

        return await self._write(
            lambda r: r.create_messages(messages),
            "create_messages",
            encode_messages,
            genuine=all_sessions_held,
            undo=undo,
        )

    async def get_message(self, message_id: UUID) -> Message | None:
        return await self._get(lambda r: r.get_message(message_id), "message", message_id)

    async def get_messages_by_session(
        self, session_id: UUID, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Message]:
        op: Op[list[Message]] = lambda r: r.get_messages_by_session(session_id, limit, offset)  # noqa: E731
        return await self._session_messages(op, session_id)

    async def get_recent_messages(self, session_id: UUID, limit: int = 50) -> list[Message]:
        op: Op[list[Message]] = lambda r: r.get_recent_messages(session_id, limit)  # noqa: E731
        return await self._session_messages(op, session_id)

    async def update_message(self, message: Message) -> Message:
        return await self._write(
            lambda r: r.update_message(message),
            "update_message",
            encode_entity,
            genuine=lambda r: exists(r.get_message(message.id)),
        )

    async def delete_message(self, message_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_message(message_id)  # noqa: E731
        return await self._delete(op, "delete_message", "message", message_id)

    # -- conversation helpers ----------------------------------------------------------------

    async def get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        op: Op[tuple[Session, bool]] = lambda r: r.get_or_create_session(session)  # noqa: E731

        async def outage() -> tuple[Session, bool]:
            # Only the primary can tell that the session does not exist: the fallback holds
            # what was written during the outage, so it can only find one.
            await self._clean()
            found = await self._fallback(lambda r: r.get_session(session.id))
            if found is not None:
                return found, False
            if self._failover.serves_primary():
                return await self._primary(op)
            await self._refuse(
                lambda c: c._entity(session, Session),
                f"whether session {session.id} exists can only be checked in the primary",
            )

        return await self._call(op, outage)

    async def pop_message(self, session_id: UUID) -> Message | None:
        async def popping(repository: Repository) -> Message | None:
            popped = await repository.pop_message(session_id)
            await self._held_by_fallback(repository, session_id)
            return popped

        return await self._write(
            popping,
            "delete_message",
            lambda popped: None if popped is None else encode_id(popped.id),
            genuine=lambda r: exists(r.get_session(session_id)),
        )

    async def clear_messages(self, session_id: UUID) -> int:
        async def clearing(repository: Repository) -> int:
            cleared = await repository.clear_messages(session_id)
            await self._held_by_fallback(repository, session_id)
            return cleared

        return await self._write(
            clearing,
            "clear_messages",
            lambda _: encode_id(session_id),
            genuine=lambda r: exists(r.get_session(session_id)),
        )

    def iter_messages(
        self, session_id: UUID, batch_size: int = DEFAULT_ITER_BATCH
    ) -> AsyncIterator[Message]:
        self._check(
            lambda c: (c._key(session_id, "session"), c._page(batch_size, name="batch_size"))
        )
        return self._iterate(session_id, batch_size)

    async def _iterate(self, session_id: UUID, batch_size: int) -> AsyncIterator[Message]:
        # Pages by offset through the routed listing, so each page follows the outage rules
        # of get_messages_by_session (the backends' own iterators page by position).
        offset = 0
        while True:
            page = await self.get_messages_by_session(session_id, batch_size, offset)
            for message in page:
                yield message
            if len(page) < batch_size:
                return
            offset += len(page)

    async def _held_by_fallback(self, repository: Repository, session_id: UUID) -> None:
        """In the fallback, a session it does not hold may exist in the primary: not found."""
        if repository is self._failover.fallback and not await exists(
            repository.get_session(session_id)
        ):
            raise NotFoundError("session", session_id)

    # -- agents ------------------------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> Agent:
        return await self._refused(
            lambda r: r.create_agent(agent), lambda c: c._entity(agent, Agent), f"agent {_UNIQUE}"
        )

    async def get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._get(lambda r: r.get_agent(agent_id), "agent", agent_id)

    async def list_agents(self, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0) -> list[Agent]:
        return await self._refused(
            lambda r: r.list_agents(limit, offset), lambda c: c._page(limit, offset), _LISTING
        )

    async def update_agent(self, agent: Agent) -> Agent:
        return await self._write(
            lambda r: r.update_agent(agent),
            "update_agent",
            encode_entity,
            genuine=lambda r: exists(r.get_agent(agent.id)),
        )

    async def delete_agent(self, agent_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_agent(agent_id)  # noqa: E731
        return await self._delete(op, "delete_agent", "agent", agent_id)

    # -- tools -------------------------------------------------------------------------------

    async def create_tool(self, tool: Tool) -> Tool:
        return await self._refused(
            lambda r: r.create_tool(tool),
            lambda c: c._entity(tool, Tool),
            f"tool {_UNIQUE}, and its MCP server may exist only there",
        )

    async def get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._get(lambda r: r.get_tool(tool_id), "tool", tool_id)

    async def list_tools(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Tool]:
        return await self._refused(
            lambda r: r.list_tools(enabled_only, limit, offset),
            lambda c: (c._flag(enabled_only, "enabled_only"), c._page(limit, offset)),
            _LISTING,
        )

    async def update_tool(self, tool: Tool) -> Tool:
        return await self._write(
            lambda r: r.update_tool(tool),
            "update_tool",
            encode_entity,
            genuine=lambda r: exists(r.get_tool(tool.id)),
        )

    async def delete_tool(self, tool_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_tool(tool_id)  # noqa: E731
        return await self._delete(op, "delete_tool", "tool", tool_id)

    # -- MCP servers -------------------------------------------------------------------------

    async def create_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._refused(
            lambda r: r.create_mcp_server(server),
            lambda c: c._entity(server, MCPServer),
            f"MCP server {_UNIQUE}",
        )

    async def get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._get(lambda r: r.get_mcp_server(server_id), "MCP server", server_id)

    async def list_mcp_servers(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[MCPServer]:
        return await self._refused(
            lambda r: r.list_mcp_servers(enabled_only, limit, offset),
            lambda c: (c._flag(enabled_only, "enabled_only"), c._page(limit, offset)),
            _LISTING,
        )

    async def update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._write(
            lambda r: r.update_mcp_server(server),
            "update_mcp_server",
            encode_entity,
            genuine=lambda r: exists(r.get_mcp_server(server.id)),
        )

    async def delete_mcp_server(self, server_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_mcp_server(server_id)  # noqa: E731
        return await self._delete(op, "delete_mcp_server", "MCP server", server_id)

    # -- external services -------------------------------------------------------------------

    async def create_external_service(self, service: ExternalService) -> ExternalService:
        return await self._write(
            lambda r: r.create_external_service(service),
            "create_external_service",
            encode_entity,
            undo=lambda r, stored: r.delete_external_service(stored.id),
        )

    async def get_external_service(self, service_id: UUID) -> ExternalService | None:
        op: Op[ExternalService | None] = lambda r: r.get_external_service(service_id)  # noqa: E731
        return await self._get(op, "external service", service_id)

    async def list_external_services(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[ExternalService]:
        return await self._refused(
            lambda r: r.list_external_services(enabled_only, limit, offset),
            lambda c: (c._flag(enabled_only, "enabled_only"), c._page(limit, offset)),
            _LISTING,
        )

    async def update_external_service(self, service: ExternalService) -> ExternalService:
        return await self._write(
            lambda r: r.update_external_service(service),
            "update_external_service",
            encode_entity,
            genuine=lambda r: exists(r.get_external_service(service.id)),
        )

    async def delete_external_service(self, service_id: UUID) -> bool:
        op: Op[bool] = lambda r: r.delete_external_service(service_id)  # noqa: E731
        return await self._delete(op, "delete_external_service", "external service", service_id)
