"""Agents, tools, MCP servers and external services: the catalog, one slot per prefix.

Catalog entities are configuration (few, small, never expiring), so all of them live in the
``{prefix}`` slot: every catalog operation is one script, atomic on a cluster too, which
keeps unique names exact and a tool's ``mcp_server_id`` consistent with its MCP server.
"""

from __future__ import annotations

from typing import Final, Generic
from uuid import UUID

from ai_agent.domain.models import utc_now
from ai_agent.infrastructure.database.redis import _codec
from ai_agent.infrastructure.database.redis._codec import CatalogEntity
from ai_agent.infrastructure.database.redis._connection import Store, outcome, text
from ai_agent.infrastructure.database.redis._keys import CatalogKey

__all__ = ["Catalog"]

_NOUNS: Final[dict[CatalogKey, str]] = {
    "agent": "agent",
    "tool": "tool",
    "mcp_server": "MCP server",
    "external_service": "external service",
}


class Catalog(Generic[CatalogEntity]):
    """The operations on one kind of catalog entity."""

    def __init__(self, store: Store, kind: CatalogKey, model: type[CatalogEntity]) -> None:
        self.store = store
        self.kind = kind
        self.model: type[CatalogEntity] = model
        self.noun = _NOUNS[kind]
        self.unique_names = kind != "external_service"
        self._keys = store.keys.catalog_keys(kind)

    async def create(self, entity: CatalogEntity) -> CatalogEntity:
        await self._write("create", entity)
        return entity  # the repository's own copy: BaseRepository detached it

    async def update(self, entity: CatalogEntity) -> CatalogEntity:
        entity.updated_at = utc_now()
        entity.created_at = _codec.from_micros(await self._write("update", entity))
        return entity

    async def get(self, entity_id: UUID) -> CatalogEntity | None:
        records = self._keys[0]
        frame = text(await self.store.call(lambda client: client.hget(records, str(entity_id))))
        return None if frame is None else _codec.decode_catalog(self.model, frame)

    async def list_page(self, enabled_only: bool, limit: int, offset: int) -> list[CatalogEntity]:
        keys = self.store.keys
        index = keys.enabled(self.kind) if enabled_only else keys.by_name(self.kind)
        script = self.store.scripts.catalog_list
        frames = await self.store.script(script, [self._keys[0], index], [offset, limit])
        return [_codec.decode_catalog(self.model, frame) for frame in frames if frame is not None]

    async def delete(self, entity_id: UUID) -> bool:
        script = self.store.scripts.catalog_delete
        reply = await self.store.script(script, self._keys, [str(entity_id)])
        return bool(reply[0] != "missing" and outcome(reply, self.noun) is not None)

    async def _write(self, op: str, entity: CatalogEntity) -> str:
        """Run ``catalog_write``; return the stored ``created`` (kept on update)."""
        link = getattr(entity, "mcp_server_id", None)
        args = [
            op,
            str(entity.id),
            _codec.micros(entity.created_at),
            "" if link is None else str(link),
            entity.name,
            _codec.catalog_body(entity),
            1 if getattr(entity, "enabled", False) else 0,  # agents have no enabled index
            1 if self.unique_names else 0,
        ]
        reply = await self.store.script(self.store.scripts.catalog_write, self._keys, args)
        (created,) = outcome(reply, self.noun)
        return str(created)
