"""Rows <-> models for SQLite, in one place.

Storage types follow revision 0001: ids are canonical lowercase UUID text (so text order is
UUID order), timestamps are INTEGER microseconds since the Unix epoch in UTC (exact to the
microsecond, and they sort numerically), JSON is compact UTF-8 TEXT, enums are their values
and booleans are 0/1. Columns carry the model's field names, so each table is described by
its model alone; which fields need converting is read from the model's annotations once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

from ai_agent.domain.models import (
    Agent,
    DomainModel,
    ExternalService,
    MCPServer,
    Message,
    Session,
    Tool,
)
from ai_agent.infrastructure.database.copies import construct, field_kinds

__all__ = [
    "AGENTS",
    "EXTERNAL_SERVICES",
    "MCP_SERVERS",
    "MESSAGES",
    "SESSIONS",
    "TOOLS",
    "Row",
    "Table",
    "entity_name",
    "from_micros",
    "to_json",
    "to_micros",
]

E = TypeVar("E", bound=DomainModel)
Row = sqlite3.Row | Mapping[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch; exact (integer arithmetic on timedelta)."""
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def to_json(value: object) -> str:
    # allow_nan=False is a second line of defence: the models already reject NaN/infinity.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _to_column(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return to_micros(value)
    if isinstance(value, dict | list):
        return to_json(value)
    if isinstance(value, Enum):
        return value.value
    return value


@dataclass(frozen=True)
class Table(Generic[E]):
    """One table: its name, its model, and how its rows become models and back."""

    name: str
    model: type[E]
    entity: str  # how messages name one row: "MCP server 6f1c... not found"
    columns: tuple[str, ...] = field(init=False)
    # Per column, what turns the stored value back into the field's type (None: as is).
    _decoders: tuple[tuple[str, Callable[[Any], Any] | None], ...] = field(init=False)

    def __post_init__(self) -> None:
        decoders = [(name, _decoder(kind)) for name, kind in field_kinds(self.model).items()]
        object.__setattr__(self, "columns", tuple(self.model.model_fields))
        object.__setattr__(self, "_decoders", tuple(decoders))

    def to_row(self, item: E) -> dict[str, object]:
        """Named parameters for ``item``, one per column."""
        return {column: _to_column(getattr(item, column)) for column in self.columns}

    def from_row(self, row: Row) -> E:
        """Build the model from a row selected with the table's columns.

        Rows hold only what a validated model wrote (the repository validates every write,
        and the schema's constraints keep it), so the values get their types back and the
        model is built without validating again (:func:`.construct`).
        """
        values: dict[str, Any] = {}
        for column, decode in self._decoders:
            value = row[column]
            values[column] = value if decode is None or value is None else decode(value)
        return construct(self.model, values)

    def from_rows(self, rows: Iterable[Row]) -> list[E]:
        return [self.from_row(row) for row in rows]

    def first(self, rows: Iterable[Row]) -> E | None:
        """The model of the first row, or ``None`` when there is none."""
        return next((self.from_row(row) for row in rows), None)


def _decoder(kind: type) -> Callable[[Any], Any] | None:
    if kind is UUID or kind is bool or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind
    if kind is datetime:
        return from_micros
    if kind is dict or kind is list:
        return json.loads
    return None


SESSIONS = Table("sessions", Session, "session")
MESSAGES = Table("messages", Message, "message")
AGENTS = Table("agents", Agent, "agent")
TOOLS = Table("tools", Tool, "tool")
MCP_SERVERS = Table("mcp_servers", MCPServer, "MCP server")
EXTERNAL_SERVICES = Table("external_services", ExternalService, "external service")

_BY_MODEL: dict[type[DomainModel], Table[Any]] = {
    table.model: table
    for table in (SESSIONS, MESSAGES, AGENTS, TOOLS, MCP_SERVERS, EXTERNAL_SERVICES)
}
_BY_NAME: dict[str, Table[Any]] = {table.name: table for table in _BY_MODEL.values()}


def entity_name(subject: DomainModel | None = None, table: str | None = None) -> str:
    """The human name of an entity, from a model instance or a table name."""
    if subject is not None and type(subject) in _BY_MODEL:
        return _BY_MODEL[type(subject)].entity
    if table is not None and table in _BY_NAME:
        return _BY_NAME[table].entity
    return table or "row"
