"""Agents, tools, MCP servers and external services on SQLite.

The four catalogs differ only in their table, so each operation is written once over the
:class:`~._codec.Table` of a :class:`~..catalog.CatalogKind`. Listings walk an index in
``(name, id)`` order: the unique name index (where names are unique), or the partial
``WHERE enabled`` index for ``enabled_only``. SQLite's default BINARY collation compares
UTF-8 bytes, which is code-point order.
"""

from __future__ import annotations

from uuid import UUID

from ai_agent.domain.models import utc_now
from ai_agent.infrastructure.database.catalog import CatalogKind, E
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.sqlite._codec import catalog_table
from ai_agent.infrastructure.database.sqlite._connection import SQLiteConnection
from ai_agent.infrastructure.database.sqlite._queries import catalog_statements

__all__ = ["create", "delete", "get", "list_page", "update"]


async def create(connection: SQLiteConnection, kind: CatalogKind[E], item: E) -> E:
    table = catalog_table(kind)
    await connection.write(catalog_statements(table).insert, table.to_row(item), item)
    return item  # the repository's own copy: BaseRepository detached it


async def get(connection: SQLiteConnection, kind: CatalogKind[E], item_id: UUID) -> E | None:
    table = catalog_table(kind)
    return table.first(await connection.fetch(catalog_statements(table).get, (str(item_id),)))


async def list_page(
    connection: SQLiteConnection, kind: CatalogKind[E], enabled_only: bool, limit: int, offset: int
) -> list[E]:
    table = catalog_table(kind)
    statements = catalog_statements(table)
    statement = statements.list_enabled if enabled_only else statements.list
    return table.from_rows(await connection.fetch(statement, (limit, offset)))


async def update(connection: SQLiteConnection, kind: CatalogKind[E], item: E) -> E:
    table = catalog_table(kind)
    item.updated_at = utc_now()
    rows = await connection.write(catalog_statements(table).update, table.to_row(item), item)
    stored = table.first(rows)
    if stored is None:
        raise NotFoundError(table.entity, item.id)
    return stored


async def delete(connection: SQLiteConnection, kind: CatalogKind[E], item_id: UUID) -> bool:
    table = catalog_table(kind)
    return bool(await connection.write(catalog_statements(table).delete, (str(item_id),)))
