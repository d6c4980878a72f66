"""``InMemoryRepository``: the contract over plain dictionaries and sorted key lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Agent, ExternalService, MCPServer, Message, Session, Tool
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.copies import copy_json
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.memory._catalog import Catalog
from ai_agent.infrastructure.database.memory._conversations import Conversations
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["InMemoryRepository"]


class InMemoryRepository(BaseRepository):
    """Keeps everything in this process; safe for concurrent tasks on one event loop.

    No operation awaits between its first read and its last write, so each is atomic with
    respect to other tasks on the loop. It is not thread-safe: use it from one event loop.
    ``disconnect()`` keeps the data, and a later ``connect()`` sees it again.
    """

    backend_name = "memory"

    def __init__(self) -> None:
        super().__init__()
        self._conversations = Conversations()
        self._agents: Catalog[Agent] = Catalog("agent", unique_names=True)
        self._tools: Catalog[Tool] = Catalog("tool", unique_names=True)
        self._mcp_servers: Catalog[MCPServer] = Catalog("MCP server", unique_names=True)
        self._external_services: Catalog[ExternalService] = Catalog(
            "external service", unique_names=False
        )
        self._tools_by_server: dict[UUID, set[UUID]] = {}
        self._states: dict[str, dict[str, Any]] = {}  # scope -> key -> JSON value

    async def _connect(self) -> None:
        return None

    async def _disconnect(self) -> None:
        return None  # the data outlives the connection, like a server's would

    async def _ping(self) -> bool:
        return True

    # -- sessions and messages ---------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        return self._conversations.create_session(session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return self._conversations.get_session(session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        return self._conversations.list_sessions(user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return self._conversations.update_session(session)

    async def _delete_session(self, session_id: UUID) -> bool:
        return self._conversations.delete_session(session_id)

    async def _create_message(self, message: Message) -> Message:
        return self._conversations.create_message(message)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        return self._conversations.create_messages(messages)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return self._conversations.get_message(message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        return self._conversations.get_messages(session_id, limit, offset)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        return self._conversations.get_recent_messages(session_id, limit)

    async def _update_message(self, message: Message) -> Message:
        return self._conversations.update_message(message)

    async def _delete_message(self, message_id: UUID) -> bool:
        return self._conversations.delete_message(message_id)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        return self._conversations.pop_message(session_id)

    async def _clear_messages(self, session_id: UUID) -> int:
        return self._conversations.clear_messages(session_id)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        return self._conversations.message_page(session_id, after, limit)

    # -- scoped state -----------------------------------------------------------------------

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        stored = self._states
        return {scope: copy_json(stored[scope]) for scope in scopes if scope in stored}

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        created = self._conversations.create_session(session)
        self._merge_states(state)
        return created

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        message, state, session_state, if_last_activity = append
        conversations = self._conversations
        stored = conversations.append_with_state(message, session_state, if_last_activity)
        if stored is not None:
            self._merge_states(state)
        return stored

    def _merge_states(self, state: StateDeltas) -> None:
        for scope, delta in state.items():  # the deltas are the repository's own copies
            self._states.setdefault(scope, {}).update(delta)

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        return self._conversations.prune_sessions(cutoff, limit)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        return self._conversations.count_inactive_sessions(cutoff)

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        return self._conversations.trim_messages(session_id, keep, limit)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        return self._conversations.long_sessions(more_than, after, limit)

    # -- agents ------------------------------------------------------------------------------

    async def _create_agent(self, agent: Agent) -> Agent:
        return self._agents.create(agent)

    async def _get_agent(self, agent_id: UUID) -> Agent | None:
        return self._agents.get(agent_id)

    async def _list_agents(self, limit: int, offset: int) -> list[Agent]:
        return self._agents.page(False, limit, offset)

    async def _update_agent(self, agent: Agent) -> Agent:
        return self._agents.update(agent)

    async def _delete_agent(self, agent_id: UUID) -> bool:
        return self._agents.remove(agent_id) is not None

    # -- tools -------------------------------------------------------------------------------

    async def _create_tool(self, tool: Tool) -> Tool:
        self._tools.check_new(tool)
        self._check_server(tool)
        self._link_server(tool)
        return self._tools.store(tool)

    async def _get_tool(self, tool_id: UUID) -> Tool | None:
        return self._tools.get(tool_id)

    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]:
        return self._tools.page(enabled_only, limit, offset)

    async def _update_tool(self, tool: Tool) -> Tool:
        previous = self._tools.check_existing(tool)
        self._check_server(tool)
        self._unlink_server(previous)
        self._link_server(tool)
        return self._tools.store(tool)

    async def _delete_tool(self, tool_id: UUID) -> bool:
        tool = self._tools.remove(tool_id)
        if tool is None:
            return False
        self._unlink_server(tool)
        return True

    def _check_server(self, tool: Tool) -> None:
        if tool.mcp_server_id is not None and tool.mcp_server_id not in self._mcp_servers.items:
            raise NotFoundError("MCP server", tool.mcp_server_id, f"(tool {tool.name!r})")

    def _link_server(self, tool: Tool) -> None:
        if tool.mcp_server_id is not None:
            self._tools_by_server.setdefault(tool.mcp_server_id, set()).add(tool.id)

    def _unlink_server(self, tool: Tool) -> None:
        if tool.mcp_server_id is None:
            return
        tools = self._tools_by_server[tool.mcp_server_id]
        tools.discard(tool.id)
        if not tools:
            del self._tools_by_server[tool.mcp_server_id]

    # -- MCP servers -------------------------------------------------------------------------

    async def _create_mcp_server(self, server: MCPServer) -> MCPServer:
        return self._mcp_servers.create(server)

    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return self._mcp_servers.get(server_id)

    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]:
        return self._mcp_servers.page(enabled_only, limit, offset)

    async def _update_mcp_server(self, server: MCPServer) -> MCPServer:
        return self._mcp_servers.update(server)

    async def _delete_mcp_server(self, server_id: UUID) -> bool:
        if self._mcp_servers.remove(server_id) is None:
            return False
        for tool_id in self._tools_by_server.pop(server_id, ()):
            # Like SQL's ON DELETE SET NULL: the tool stays, its updated_at untouched.
            self._tools.items[tool_id].__dict__["mcp_server_id"] = None
        return True

    # -- external services -------------------------------------------------------------------

    async def _create_external_service(self, service: ExternalService) -> ExternalService:
        return self._external_services.create(service)

    async def _get_external_service(self, service_id: UUID) -> ExternalService | None:
        return self._external_services.get(service_id)

    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]:
        return self._external_services.page(enabled_only, limit, offset)

    async def _update_external_service(self, service: ExternalService) -> ExternalService:
        return self._external_services.update(service)

    async def _delete_external_service(self, service_id: UUID) -> bool:
        return self._external_services.remove(service_id) is not None
