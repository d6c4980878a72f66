"""Agents, tools, MCP servers and external services: one :class:`CatalogTable` each.

The row functions below run a table's plain statements (:class:`._queries.TableStatements`);
sessions and messages use them too for what they share with the catalog.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar
from uuid import UUID

from ai_agent.domain.models import DomainModel, utc_now
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.postgresql._codec import Table
from ai_agent.infrastructure.database.postgresql._connection import ConnectionRouter
from ai_agent.infrastructure.database.postgresql._queries import Statement, TableStatements

__all__ = ["CatalogTable", "delete_row", "get_row", "insert_row", "list_rows", "replace_row"]

M = TypeVar("M", bound=DomainModel)


async def insert_row(db: ConnectionRouter, table: Table[M], statement: Statement, entity: M) -> M:
    await db.execute(statement.sql, *table.values(entity, statement.params))
    return entity  # the repository's own copy: BaseRepository detached it


async def get_row(
    db: ConnectionRouter, table: Table[M], statement: Statement, key: UUID
) -> M | None:
    row = await db.fetchrow(statement.sql, key)
    return None if row is None else table.decode(row)


async def list_rows(
    db: ConnectionRouter,
    table: Table[M],
    statement: Statement,
    *args: Any,
    known: dict[str, Any] | None = None,
) -> list[M]:
    """The models of every row; ``known`` fills the columns the statement sends as NULL."""
    return table.decode_all(await db.fetch(statement.sql, *args), known)


async def replace_row(db: ConnectionRouter, table: Table[M], statement: Statement, entity: M) -> M:
    entity.updated_at = utc_now()
    row = await db.fetchrow(statement.sql, *table.values(entity, statement.params))
    if row is None:
        raise NotFoundError(table.entity, entity.id)
    return table.decode(row)


async def delete_row(db: ConnectionRouter, statement: Statement, key: UUID) -> bool:
    return bool(await db.fetchval(statement.sql, key))


class CatalogTable(Generic[M]):
    """Create, get, list, update and delete the entities of one catalog table."""

    def __init__(self, db: ConnectionRouter, table: Table[M], sql: TableStatements) -> None:
        self._db = db
        self._table = table
        self._sql = sql

    async def create(self, entity: M) -> M:
        return await insert_row(self._db, self._table, self._sql.insert, entity)

    async def get(self, key: UUID) -> M | None:
        return await get_row(self._db, self._table, self._sql.get, key)

    async def page(self, limit: int, offset: int, *, enabled_only: bool = False) -> list[M]:
        """By name (then id); only the enabled ones when asked and the table has the flag."""
        statement = self._sql.list_all
        if enabled_only and self._sql.list_enabled is not None:
            statement = self._sql.list_enabled
        return await list_rows(self._db, self._table, statement, limit, offset)

    async def update(self, entity: M) -> M:
        return await replace_row(self._db, self._table, self._sql.update, entity)

    async def delete(self, key: UUID) -> bool:
        """Deleting an MCP server keeps its tools: the foreign key sets theirs to NULL."""
        return await delete_row(self._db, self._sql.delete, key)
