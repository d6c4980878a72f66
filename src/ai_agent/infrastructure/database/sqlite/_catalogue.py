"""Agents, tools, MCP servers and external services on SQLite.

The four catalogues differ only in their table, so each operation is written once over a
:class:`~._rows.Table`. Listings walk an index in ``(name, id)`` order: the unique name index
(where names are unique), or the partial ``WHERE enabled`` index for ``enabled_only``. SQLite's
default BINARY collation compares UTF-8 bytes, which is code-point order.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar
from uuid import UUID

from ai_agent.domain.models import (
    Agent,
    DomainModel,
    ExternalService,
    MCPServer,
    Tool,
    utc_now,
)
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.sqlite._core import SQLiteCore
from ai_agent.infrastructure.database.sqlite._rows import (
    AGENTS,
    EXTERNAL_SERVICES,
    MCP_SERVERS,
    TOOLS,
    Table,
)

__all__ = ["CatalogueStore"]

E = TypeVar("E", bound=DomainModel)

# id and created_at never change on update; updated_at is the repository's now.
_FIXED_ON_UPDATE = ("id", "created_at")


@cache
def _statements(table: Table[E]) -> dict[str, str]:
    """The SQL of one catalogue table, built once from its columns."""
    columns = table.select_list
    assignments = ", ".join(
        f"{column} = :{column}" for column in table.columns if column not in _FIXED_ON_UPDATE
    )
    order = "ORDER BY name, id LIMIT ? OFFSET ?"
    return {
        "get": f"SELECT {columns} FROM {table.name} WHERE id = ?",
        "list": f"SELECT {columns} FROM {table.name} {order}",
        "list_enabled": f"SELECT {columns} FROM {table.name} WHERE enabled {order}",
        "update": f"UPDATE {table.name} SET {assignments} WHERE id = :id RETURNING {columns}",
        "delete": f"DELETE FROM {table.name} WHERE id = ? RETURNING id",
    }


class CatalogueStore(SQLiteCore):
    """The agent, tool, MCP server and external service operations of ``SQLiteRepository``."""

    # -- the operations, once ----------------------------------------------------------------

    async def _insert(self, table: Table[E], item: E) -> E:
        async with self._writing(item, atomic=False) as connection:
            await connection.execute(table.insert_sql, table.to_row(item))
        return item  # the repository's own copy: BaseRepository detached it

    async def _fetch(self, table: Table[E], item_id: UUID) -> E | None:
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(_statements(table)["get"], (str(item_id),))
        return next((table.from_row(row) for row in rows), None)

    async def _page_of(
        self, table: Table[E], limit: int, offset: int, *, enabled_only: bool = False
    ) -> list[E]:
        sql = _statements(table)["list_enabled" if enabled_only else "list"]
        async with self._reading() as connection:
            rows = await connection.execute_fetchall(sql, (limit, offset))
        return [table.from_row(row) for row in rows]

    async def _replace(self, table: Table[E], item: E) -> E:
        item.updated_at = utc_now()
        async with self._writing(item, atomic=False) as connection:
            sql = _statements(table)["update"]
            rows = await connection.execute_fetchall(sql, table.to_row(item))
        stored = next((table.from_row(row) for row in rows), None)
        if stored is None:
            raise NotFoundError(table.entity, item.id)
        return stored

    async def _remove(self, table: Table[E], item_id: UUID) -> bool:
        async with self._writing(atomic=False) as connection:
            sql = _statements(table)["delete"]
            rows = await connection.execute_fetchall(sql, (str(item_id),))
        return bool(list(rows))

    # -- agents ------------------------------------------------------------------------------

    async def _create_agent(self, agent: Agent) -> Agent:
        return await self._insert(AGENTS, agent)

    async def _get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._fetch(AGENTS, agent_id)

    async def _list_agents(self, limit: int, offset: int) -> list[Agent]:
        return await self._page_of(AGENTS, limit, offset)

    async def _update_agent(self, agent: Agent) -> Agent:
        return await self._replace(AGENTS, agent)

    async def _delete_agent(self, agent_id: UUID) -> bool:
        return await self._remove(AGENTS, agent_id)

    # -- tools -------------------------------------------------------------------------------

    async def _create_tool(self, tool: Tool) -> Tool:
        return await self._insert(TOOLS, tool)

    async def _get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._fetch(TOOLS, tool_id)

    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]:
        return await self._page_of(TOOLS, limit, offset, enabled_only=enabled_only)

    async def _update_tool(self, tool: Tool) -> Tool:
        return await self._replace(TOOLS, tool)

    async def _delete_tool(self, tool_id: UUID) -> bool:
        return await self._remove(TOOLS, tool_id)

    # -- MCP servers -------------------------------------------------------------------------

    async def _create_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._insert(MCP_SERVERS, server)

    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._fetch(MCP_SERVERS, server_id)

    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]:
        return await self._page_of(MCP_SERVERS, limit, offset, enabled_only=enabled_only)

    async def _update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._replace(MCP_SERVERS, server)

    async def _delete_mcp_server(self, server_id: UUID) -> bool:
        # Its tools stay: tools.mcp_server_id is ON DELETE SET NULL.
        return await self._remove(MCP_SERVERS, server_id)

    # -- external services -------------------------------------------------------------------

    async def _create_external_service(self, service: ExternalService) -> ExternalService:
        return await self._insert(EXTERNAL_SERVICES, service)

    async def _get_external_service(self, service_id: UUID) -> ExternalService | None:
        return await self._fetch(EXTERNAL_SERVICES, service_id)

    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]:
        return await self._page_of(EXTERNAL_SERVICES, limit, offset, enabled_only=enabled_only)

    async def _update_external_service(self, service: ExternalService) -> ExternalService:
        return await self._replace(EXTERNAL_SERVICES, service)

    async def _delete_external_service(self, service_id: UUID) -> bool:
        return await self._remove(EXTERNAL_SERVICES, service_id)
