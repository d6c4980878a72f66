"""Rows <-> models for SQLite, in one place.

Storage types follow revision 0001: ids are canonical lowercase UUID text (so text order is
UUID order), timestamps are INTEGER microseconds since the Unix epoch in UTC (exact to the
microsecond, and they sort numerically), JSON is compact UTF-8 TEXT, enums are their values
and booleans are 0/1. Columns carry the model's field names, so each table is described by
its model alone; which fields need converting is read from the model's annotations once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, cast
from uuid import UUID

from ai_agent.domain.models import DomainModel, Message, Session
from ai_agent.infrastructure.database.catalog import CATALOGS, CatalogKind, E
from ai_agent.infrastructure.database.copies import field_kinds, uuid_from_text
from ai_agent.infrastructure.database.json_text import decode_json
from ai_agent.infrastructure.database.rows import Convert, RowDecoder, enum_member

__all__ = [
    "MESSAGES",
    "SESSIONS",
    "Row",
    "Table",
    "catalog_table",
    "entity_name",
    "from_micros",
    "to_json",
    "to_micros",
]

Row = Sequence[Any]  # the columns of a table's SELECT list, in order (a tuple)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_setattr = object.__setattr__


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch; exact (integer arithmetic on timedelta)."""
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(0, 0, value)  # positional: keywords cost a lookup per call


def to_json(value: object) -> str:
    # allow_nan=False is a second line of defence: the models already reject NaN/infinity.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_column(value: dict[str, Any] | list[Any]) -> str:
    if not value:  # most metadata and tool calls are empty: no encoder call for those
        return "{}" if isinstance(value, dict) else "[]"
    return to_json(value)


def _enum_value(value: Enum) -> Any:
    return value.value


@dataclass(frozen=True)
class Table(Generic[E]):
    """One table: its name, its model, and how its rows become models and back."""

    name: str
    model: type[E]
    entity: str  # how messages name one row: "MCP server 6f1c... not found"
    columns: tuple[str, ...] = field(init=False)
    # The columns whose stored value differs from the field's, and the conversion each way.
    _encoders: tuple[tuple[str, Convert], ...] = field(init=False)
    _rows: RowDecoder[E] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kinds = field_kinds(self.model)
        encoders = [(name, _encoder(kind)) for name, kind in kinds.items()]
        _setattr(self, "columns", tuple(self.model.model_fields))
        _setattr(self, "_encoders", tuple((n, c) for n, c in encoders if c is not None))
        decoders = {name: _decoder(kind) for name, kind in kinds.items()}
        _setattr(self, "_rows", RowDecoder(self.model, decoders))

    def to_row(self, item: E) -> dict[str, object]:
        """Named parameters for ``item``, one per column."""
        fields = item.__dict__
        row = {column: fields[column] for column in self.columns}
        for column, encode in self._encoders:
            value = row[column]
            if value is not None:
                row[column] = encode(value)
        return row

    def from_row(self, row: Row) -> E:
        """Build the model from a row selected with the table's columns, in their order.

        Rows hold only what a validated model wrote (the repository validates every write,
        and the schema's constraints keep it), so the values get their types back and the
        model is built without validating again (:func:`.construct`).
        """
        return self._rows.decode(row)

    def from_rows(self, rows: Iterable[Row], known: Mapping[str, Any] | None = None) -> list[E]:
        """The models of ``rows``; ``known`` gives columns whose value the caller holds.

        A page of one session's messages shares its ``session_id``: given as known, it is
        not decoded once per row (ids are immutable, so every model may hold the same one).
        """
        return self._rows.decode_all(rows, known)

    def first(self, rows: Iterable[Row]) -> E | None:
        """The model of the first row, or ``None`` when there is none."""
        return next((self.from_row(row) for row in rows), None)


def _encoder(kind: type) -> Convert | None:
    if kind is UUID:
        return UUID.__str__
    if kind is datetime:
        return to_micros
    if kind is dict or kind is list:
        return _json_column
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _enum_value
    return None  # str, int and bool: sqlite3 stores them as they are


def _decoder(kind: type) -> Convert | None:
    if kind is UUID:
        return uuid_from_text
    if kind is datetime:
        return from_micros
    if kind is dict or kind is list:
        return decode_json
    if isinstance(kind, type) and issubclass(kind, Enum):
        return enum_member(kind)
    if kind is bool:
        return bool
    return None


SESSIONS = Table("sessions", Session, "session")
MESSAGES = Table("messages", Message, "message")
# A catalog's table is named as its kind's collection, and its rows as its kind's entries.
_CATALOG_TABLES: dict[str, Table[Any]] = {
    kind.name: Table(kind.name, kind.model, kind.entity) for kind in CATALOGS
}


def catalog_table(kind: CatalogKind[E]) -> Table[E]:
    return cast(Table[E], _CATALOG_TABLES[kind.name])


_TABLES: list[Table[Any]] = [SESSIONS, MESSAGES, *_CATALOG_TABLES.values()]
_BY_MODEL: dict[type[DomainModel], Table[Any]] = {table.model: table for table in _TABLES}
_BY_NAME: dict[str, Table[Any]] = {table.name: table for table in _BY_MODEL.values()}


def entity_name(subject: DomainModel | None = None, table: str | None = None) -> str:
    """The human name of an entity, from a model instance or a table name."""
    if subject is not None and type(subject) in _BY_MODEL:
        return _BY_MODEL[type(subject)].entity
    if table is not None and table in _BY_NAME:
        return _BY_NAME[table].entity
    return table or "row"
