"""Rows <-> models, JSON <-> ``jsonb`` and ids <-> ``uuid`` for the PostgreSQL backend.

Column names equal model field names (revision 0001), so a table is described by its model:
the columns are the model's fields, in field order, and statement parameters follow that
order. Rows come back through :meth:`Table.decode`, the one place a row becomes a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, cast
from uuid import UUID

from asyncpg import Record

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.catalog import CATALOGS, CatalogKind, E
from ai_agent.infrastructure.database.copies import field_kinds, uuid_from_int
from ai_agent.infrastructure.database.rows import Convert, RowDecoder, enum_member

__all__ = [
    "MESSAGES",
    "SESSIONS",
    "Table",
    "catalog_table",
    "decode_uuid",
    "encode_json",
    "encode_uuid",
]

_SCIENTIFIC = "e+"


# One encoder for every call: json.dumps with options builds a JSONEncoder per call.
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def encode_json(value: Any) -> str:
    """Serialise a (validated) JSON value for a ``jsonb`` parameter.

    ``jsonb`` stores numbers as ``numeric``, which prints ``1e+16`` back as
    ``10000000000000000``: the float would come back as an int (and ``1e300`` as a different
    number). Floats that ``repr`` in scientific notation with a positive exponent are
    therefore written positionally with a fraction (``10000000000000000.0``), which ``jsonb``
    keeps and ``json.loads`` reads back as the same float. Ints too long for ``json.dumps``
    (past ``sys.get_int_max_str_digits()``) are written exactly through ``Decimal``.
    Everything else is ``json.dumps``.
    """
    try:
        text = _dumps(value)
    except ValueError:  # an int past Python's int <-> text digit limit (4300 by default)
        return _encode_positional(value)
    if _SCIENTIFIC not in text:  # fast path: no large float (or a string holding "e+")
        return text
    return _encode_positional(value)


def _encode_positional(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{Decimal(value):f}"  # exact, and free of the digit limit
    if isinstance(value, float):
        digits = f"{Decimal(repr(value)):f}"
        return digits if "." in digits else f"{digits}.0"
    if isinstance(value, dict):
        items = (f"{_dumps(key)}:{_encode_positional(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode_positional(item) for item in value) + "]"
    return _dumps(value)


_from_bytes = int.from_bytes


def decode_uuid(data: bytes) -> UUID:
    """A ``uuid`` column's 16 bytes as exactly :class:`uuid.UUID`.

    asyncpg's own codec returns ``asyncpg.pgproto.pgproto.UUID``, a subclass that equals and
    hashes like the standard class but that orjson refuses and ``type(x) is UUID`` tells
    apart. Registered as the binary codec of ``uuid`` (:func:`.init_connection`), it runs
    once per value inside asyncpg, every statement and row shape included. It fills the two
    slots as unpickling does (``UUID.__setstate__``), skipping ``UUID.__init__``'s parsing:
    cheaper than ``UUID(bytes=...)``, a text codec, or converting the rows afterwards.
    """
    return uuid_from_int(_from_bytes(data))


def encode_uuid(value: UUID | str) -> bytes:
    """A ``uuid`` parameter's 16 bytes; a ``str`` is parsed, as asyncpg's own codec does."""
    return value.bytes if isinstance(value, UUID) else UUID(value).bytes


@dataclass(frozen=True)
class Table(Generic[E]):
    """One table: its model, the human name of its entity, and how columns map to fields."""

    name: str
    model: type[E]
    entity: str
    columns: tuple[str, ...] = field(init=False)
    _rows: RowDecoder[E] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.model.model_fields))
        # Ids and JSON come decoded by the connection's codecs; enums are stored as text.
        converters: dict[str, Convert | None] = {}
        for name, kind in field_kinds(self.model).items():
            if kind is datetime:
                converters[name] = _in_utc
            elif isinstance(kind, type) and issubclass(kind, Enum):
                converters[name] = enum_member(kind)
        object.__setattr__(self, "_rows", RowDecoder(self.model, converters))

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)

    def values(self, entity: E, columns: Iterable[str] | None = None) -> list[Any]:
        """Statement parameters: the entity's fields in ``columns`` order (default: all)."""
        return [getattr(entity, name) for name in (self.columns if columns is None else columns)]

    def decode(self, row: Record | Mapping[str, Any]) -> E:
        """Build the model from a row selected with :attr:`column_list` (more columns too).

        Rows hold only what a validated model wrote (and the schema's constraints keep), so
        the model is constructed without validating again (:mod:`.rows`). Ids come back as
        exactly ``uuid.UUID`` (:func:`decode_uuid`, the connection's codec), JSON through
        :func:`.decode_json` (also the connection's codec), enums from their text.
        """
        return self._rows.decode(self._in_order(row))

    def decode_all(self, rows: list[Record], known: Mapping[str, Any] | None = None) -> list[E]:
        """:meth:`decode` for each of the rows of one statement.

        ``known`` holds the values of columns the statement sent as NULL because the caller
        knows them for every row (the session of a page of its messages): an id not sent is
        one not decoded.
        """
        if rows and tuple(rows[0].keys())[: len(self.columns)] != self.columns:
            rows = [self._in_order(row) for row in rows]
        return self._rows.decode_all(rows, known)

    def _in_order(self, row: Record | Mapping[str, Any]) -> Any:
        """``row`` as a sequence in column order: records selected so already are."""
        if isinstance(row, Record) and tuple(row.keys())[: len(self.columns)] == self.columns:
            return row
        return tuple(row[name] for name in self.columns)


def _in_utc(value: datetime) -> datetime:
    """asyncpg maps ``datetime.min`` and ``datetime.max`` to ``-infinity`` and ``infinity``
    and returns those naive: they get their UTC back here (every other value has it)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


SESSIONS: Table[Session] = Table("sessions", Session, "session")
MESSAGES: Table[Message] = Table("messages", Message, "message")
# A catalog's table is named as its kind's collection, and its rows as its kind's entries.
_CATALOG_TABLES: dict[str, Table[Any]] = {
    kind.name: Table(kind.name, kind.model, kind.entity) for kind in CATALOGS
}


def catalog_table(kind: CatalogKind[E]) -> Table[E]:
    return cast(Table[E], _CATALOG_TABLES[kind.name])
