"""The four catalogs (agents, tools, MCP servers, external services): one set of operations.

The catalogs differ only in their model, their name in errors and whether they list by
``enabled``; so a backend implements five hooks that take a :class:`CatalogKind`, and the
twenty public operations are each one line over them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar
from uuid import UUID

from ai_agent.domain.models import Agent, DomainModel, ExternalService, MCPServer, Tool
from ai_agent.infrastructure.database.arguments import ArgumentChecks
from ai_agent.infrastructure.database.calls import CallRunner
from ai_agent.infrastructure.database.contract import DEFAULT_LIST_LIMIT

__all__ = [
    "AGENTS",
    "CATALOGS",
    "EXTERNAL_SERVICES",
    "MCP_SERVERS",
    "TOOLS",
    "CatalogKind",
    "CatalogOperations",
    "E",
]

#: The model of a catalog's entries: the type variable of ``CatalogKind`` and the hooks.
E = TypeVar("E", bound=DomainModel)


@dataclass(frozen=True, eq=False)
class CatalogKind(Generic[E]):
    """One catalog: ``name`` is its collection (table, key prefix), ``entity`` its name in
    errors, ``model`` its class."""

    name: str
    entity: str
    model: type[E]

    def __repr__(self) -> str:
        return f"CatalogKind({self.name!r})"


AGENTS = CatalogKind("agents", "agent", Agent)
TOOLS = CatalogKind("tools", "tool", Tool)
MCP_SERVERS = CatalogKind("mcp_servers", "MCP server", MCPServer)
EXTERNAL_SERVICES = CatalogKind("external_services", "external service", ExternalService)
CATALOGS: tuple[CatalogKind[Any], ...] = (AGENTS, TOOLS, MCP_SERVERS, EXTERNAL_SERVICES)


class CatalogOperations(ArgumentChecks, CallRunner, ABC):
    """The public catalog operations, over the five hooks a backend implements."""

    # -- what a backend implements -------------------------------------------------------------

    @abstractmethod
    async def _create_entry(self, kind: CatalogKind[E], entry: E) -> E:
        """Store a new ``entry`` (its id and, where unique, its name are new)."""

    @abstractmethod
    async def _get_entry(self, kind: CatalogKind[E], entry_id: UUID) -> E | None: ...

    @abstractmethod
    async def _list_entries(
        self, kind: CatalogKind[E], enabled_only: bool, limit: int, offset: int
    ) -> list[E]:
        """A page in ``(name, id)`` order; only enabled entries when ``enabled_only``."""

    @abstractmethod
    async def _update_entry(self, kind: CatalogKind[E], entry: E) -> E: ...

    @abstractmethod
    async def _delete_entry(self, kind: CatalogKind[E], entry_id: UUID) -> bool: ...

    # -- the checks and runs every catalog shares ----------------------------------------------

    async def _create_in(self, kind: CatalogKind[E], entry: E) -> E:
        valid = self._entity(entry, kind.model)
        return await self._create(
            partial(self._create_entry, kind), valid, partial(self._get_entry, kind)
        )

    async def _get_in(self, kind: CatalogKind[E], entry_id: UUID) -> E | None:
        return await self._run(self._get_entry, kind, self._key(entry_id, kind.entity))

    async def _list_in(
        self, kind: CatalogKind[E], enabled_only: bool, limit: int, offset: int
    ) -> list[E]:
        page = self._page(limit, offset)
        enabled = self._flag(enabled_only, "enabled_only")
        return await self._run(self._list_entries, kind, enabled, *page)

    async def _update_in(self, kind: CatalogKind[E], entry: E) -> E:
        return await self._run(self._update_entry, kind, self._entity(entry, kind.model))

    async def _delete_in(self, kind: CatalogKind[E], entry_id: UUID) -> bool:
        key = self._key(entry_id, kind.entity)
        return await self._run_delete(partial(self._delete_entry, kind), key)

    # -- agents ----------------------------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> Agent:
        return await self._create_in(AGENTS, agent)

    async def get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._get_in(AGENTS, agent_id)

    async def list_agents(self, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0) -> list[Agent]:
        return await self._list_in(AGENTS, False, limit, offset)

    async def update_agent(self, agent: Agent) -> Agent:
        return await self._update_in(AGENTS, agent)

    async def delete_agent(self, agent_id: UUID) -> bool:
        return await self._delete_in(AGENTS, agent_id)

    # -- tools -----------------------------------------------------------------------------------

    async def create_tool(self, tool: Tool) -> Tool:
        return await self._create_in(TOOLS, tool)

    async def get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._get_in(TOOLS, tool_id)

    async def list_tools(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Tool]:
        return await self._list_in(TOOLS, enabled_only, limit, offset)

    async def update_tool(self, tool: Tool) -> Tool:
        return await self._update_in(TOOLS, tool)

    async def delete_tool(self, tool_id: UUID) -> bool:
        return await self._delete_in(TOOLS, tool_id)

    # -- MCP servers -----------------------------------------------------------------------------

    async def create_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._create_in(MCP_SERVERS, server)

    async def get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._get_in(MCP_SERVERS, server_id)

    async def list_mcp_servers(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[MCPServer]:
        return await self._list_in(MCP_SERVERS, enabled_only, limit, offset)

    async def update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._update_in(MCP_SERVERS, server)

    async def delete_mcp_server(self, server_id: UUID) -> bool:
        return await self._delete_in(MCP_SERVERS, server_id)

    # -- external services -----------------------------------------------------------------------

    async def create_external_service(self, service: ExternalService) -> ExternalService:
        return await self._create_in(EXTERNAL_SERVICES, service)

    async def get_external_service(self, service_id: UUID) -> ExternalService | None:
        return await self._get_in(EXTERNAL_SERVICES, service_id)

    async def list_external_services(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[ExternalService]:
        return await self._list_in(EXTERNAL_SERVICES, enabled_only, limit, offset)

    async def update_external_service(self, service: ExternalService) -> ExternalService:
        return await self._update_in(EXTERNAL_SERVICES, service)

    async def delete_external_service(self, service_id: UUID) -> bool:
        return await self._delete_in(EXTERNAL_SERVICES, service_id)
