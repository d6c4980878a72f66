"""Named entities (agents, tools, MCP servers, external services) and the tool -> server links."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from ai_agent.domain.models import Agent, DomainModel, ExternalService, MCPServer, Tool, utc_now
from ai_agent.infrastructure.database.catalog import (
    AGENTS,
    EXTERNAL_SERVICES,
    MCP_SERVERS,
    TOOLS,
    CatalogKind,
)
from ai_agent.infrastructure.database.copies import clone
from ai_agent.infrastructure.database.errors import DuplicateError, NotFoundError
from ai_agent.infrastructure.database.memory._sessions import SortedKeys

__all__ = ["Catalog", "Catalogs", "ToolLinks"]

E = TypeVar("E", Agent, Tool, MCPServer, ExternalService)
M = TypeVar("M", bound=DomainModel)


def _order_key(item: Agent | Tool | MCPServer | ExternalService) -> tuple[str, UUID]:
    # Python compares str by code point, which is also UTF-8 byte order (what SQL "C" gives).
    return (item.name, item.id)


class Catalog(Generic[E]):
    """Entities listed by (name, id), with an extra ordering of the enabled ones.

    ``check_*`` methods only read; ``store`` and ``remove`` only write, so a caller can run
    every check of an operation before changing anything.
    """

    def __init__(self, entity: str, *, unique_names: bool) -> None:
        self.entity = entity
        self.items: dict[UUID, E] = {}
        self._unique_names = unique_names
        self._by_name: dict[str, UUID] = {}
        self._all: SortedKeys[tuple[str, UUID]] = SortedKeys()
        self._enabled: SortedKeys[tuple[str, UUID]] = SortedKeys()

    def get(self, item_id: UUID) -> E | None:
        item = self.items.get(item_id)
        return None if item is None else clone(item)

    def page(self, enabled_only: bool, limit: int, offset: int) -> list[E]:
        index = self._enabled if enabled_only else self._all
        return [clone(self.items[key[1]]) for key in index.ascending(limit, offset)]

    def check_new(self, item: E) -> None:
        if item.id in self.items:
            raise DuplicateError(self.entity, "id", item.id)
        self._check_name(item)

    def check_existing(self, item: E) -> E:
        """Return the stored version of ``item``, which is about to replace it."""
        stored = self.items.get(item.id)
        if stored is None:
            raise NotFoundError(self.entity, item.id)
        self._check_name(item)
        return stored

    def _check_name(self, item: E) -> None:
        if self._unique_names and self._by_name.get(item.name, item.id) != item.id:
            raise DuplicateError(self.entity, "name", item.name)

    def create(self, item: E) -> E:
        self.check_new(item)
        return self.store(item)

    def update(self, item: E) -> E:
        self.check_existing(item)
        return self.store(item)

    def store(self, item: E) -> E:
        """Store an already checked ``item`` (new, or replacing the stored one with its id).

        ``item`` is the repository's own copy (``BaseRepository`` detached it from the
        caller's), so it is kept as is and a clone goes back.
        """
        stored = item
        previous = self.items.get(item.id)
        if previous is not None:
            self._unindex(previous)
            stored.__dict__["created_at"] = previous.created_at
            stored.__dict__["updated_at"] = utc_now()
        self.items[item.id] = stored
        self._index(stored)
        return clone(stored)

    def delete(self, item_id: UUID) -> bool:
        return self.remove(item_id) is not None

    def remove(self, item_id: UUID) -> E | None:
        item = self.items.pop(item_id, None)
        if item is not None:
            self._unindex(item)
        return item

    def _index(self, item: E) -> None:
        key = _order_key(item)
        self._all.add(key)
        if getattr(item, "enabled", True):
            self._enabled.add(key)
        if self._unique_names:
            self._by_name[item.name] = item.id

    def _unindex(self, item: E) -> None:
        key = _order_key(item)
        self._all.discard(key)
        self._enabled.discard(key)
        if self._unique_names:
            del self._by_name[item.name]


class ToolLinks:
    """Tools that point at MCP servers: the server must exist, and deleting it unlinks them."""

    def __init__(self, tools: Catalog[Tool], servers: Catalog[MCPServer]) -> None:
        self.tools = tools
        self.servers = servers
        self.by_server: dict[UUID, set[UUID]] = {}

    def create_tool(self, tool: Tool) -> Tool:
        self.tools.check_new(tool)
        self._check_server(tool)
        self._link(tool)
        return self.tools.store(tool)

    def update_tool(self, tool: Tool) -> Tool:
        previous = self.tools.check_existing(tool)
        self._check_server(tool)
        self._unlink(previous)
        self._link(tool)
        return self.tools.store(tool)

    def delete_tool(self, tool_id: UUID) -> bool:
        tool = self.tools.remove(tool_id)
        if tool is None:
            return False
        self._unlink(tool)
        return True

    def delete_server(self, server_id: UUID) -> bool:
        if self.servers.remove(server_id) is None:
            return False
        for tool_id in self.by_server.pop(server_id, ()):
            # Like SQL's ON DELETE SET NULL: the tool stays, its updated_at untouched.
            self.tools.items[tool_id].__dict__["mcp_server_id"] = None
        return True

    def _check_server(self, tool: Tool) -> None:
        if tool.mcp_server_id is not None and tool.mcp_server_id not in self.servers.items:
            raise NotFoundError("MCP server", tool.mcp_server_id, f"(tool {tool.name!r})")

    def _link(self, tool: Tool) -> None:
        if tool.mcp_server_id is not None:
            self.by_server.setdefault(tool.mcp_server_id, set()).add(tool.id)

    def _unlink(self, tool: Tool) -> None:
        if tool.mcp_server_id is None:
            return
        tools = self.by_server[tool.mcp_server_id]
        tools.discard(tool.id)
        if not tools:
            del self.by_server[tool.mcp_server_id]


class Catalogs:
    """The four catalogs by kind; writes to tools and MCP servers go through their links."""

    def __init__(self) -> None:
        self.by_kind: dict[str, Catalog[Any]] = {
            kind.name: Catalog(kind.entity, unique_names=kind is not EXTERNAL_SERVICES)
            for kind in (AGENTS, TOOLS, MCP_SERVERS, EXTERNAL_SERVICES)
        }
        self.tool_links = ToolLinks(self.by_kind[TOOLS.name], self.by_kind[MCP_SERVERS.name])

    def of(self, kind: CatalogKind[M]) -> Catalog[Any]:
        return self.by_kind[kind.name]

    def create(self, kind: CatalogKind[M], entry: M) -> M:
        if kind is TOOLS:
            return cast(M, self.tool_links.create_tool(cast(Tool, entry)))
        return cast(M, self.of(kind).create(entry))

    def update(self, kind: CatalogKind[M], entry: M) -> M:
        if kind is TOOLS:
            return cast(M, self.tool_links.update_tool(cast(Tool, entry)))
        return cast(M, self.of(kind).update(entry))

    def delete(self, kind: CatalogKind[M], entry_id: UUID) -> bool:
        if kind is TOOLS:
            return self.tool_links.delete_tool(entry_id)
        if kind is MCP_SERVERS:
            return self.tool_links.delete_server(entry_id)
        return self.of(kind).delete(entry_id)
