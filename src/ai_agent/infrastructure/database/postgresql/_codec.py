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
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_origin
from uuid import UUID

from pydantic import AwareDatetime

from ai_agent.domain.models import (
    Agent,
    AgentStatus,
    DomainModel,
    ExternalService,
    ExternalServiceType,
    MCPServer,
    Message,
    MessageRole,
    Session,
    Tool,
)
from ai_agent.infrastructure.database.copies import construct, uuid_from_int

if TYPE_CHECKING:
    from asyncpg import Record

__all__ = [
    "AGENTS",
    "EXTERNAL_SERVICES",
    "MCP_SERVERS",
    "MESSAGES",
    "SESSIONS",
    "TOOLS",
    "Table",
    "decode_uuid",
    "encode_json",
    "encode_uuid",
]

M = TypeVar("M", bound=DomainModel)

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
class Table(Generic[M]):
    """One table: its model, the human name of its entity, and how columns map to fields."""

    name: str
    entity: str
    model: type[M]
    enums: Mapping[str, type[StrEnum]] = field(default_factory=dict)
    columns: tuple[str, ...] = field(init=False)
    json_columns: tuple[str, ...] = field(init=False)
    datetime_columns: tuple[str, ...] = field(init=False)
    # value -> member per enum column: a dict lookup, where Enum(value) runs Python code
    _members: tuple[tuple[str, Mapping[str, StrEnum]], ...] = field(init=False)

    def __post_init__(self) -> None:
        members = tuple((name, {m.value: m for m in enum}) for name, enum in self.enums.items())
        object.__setattr__(self, "_members", members)
        fields = self.model.model_fields
        kinds = {
            name: get_origin(info.annotation) or info.annotation for name, info in fields.items()
        }
        object.__setattr__(self, "columns", tuple(fields))
        json = tuple(name for name, kind in kinds.items() if kind in (dict, list))
        object.__setattr__(self, "json_columns", json)
        stamps = tuple(name for name, kind in kinds.items() if kind in (datetime, AwareDatetime))
        object.__setattr__(self, "datetime_columns", stamps)

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)

    def values(self, entity: M, columns: Iterable[str] | None = None) -> list[Any]:
        """Statement parameters: the entity's fields in ``columns`` order (default: all)."""
        return [getattr(entity, name) for name in (self.columns if columns is None else columns)]

    def decode(self, row: Record | Mapping[str, Any], known: Mapping[str, Any] | None = None) -> M:
        """Build the model from a row selected with :attr:`column_list` (more columns too).

        Rows hold only what a validated model wrote (and the schema's constraints keep), so
        the model is constructed without validating again (:func:`.construct`). Enums are
        stored as plain text and converted back. Ids come back as exactly ``uuid.UUID``
        (:func:`decode_uuid`, the connection's codec). Timestamps come back in
        UTC, except that asyncpg maps ``datetime.min`` and ``datetime.max`` to ``-infinity``
        and ``infinity`` and returns those naive: they get their UTC back here.
        """
        values = {name: row[name] for name in self.columns}
        if known:
            values.update(known)
        return self._construct(values)

    def decode_all(self, rows: list[Record], known: Mapping[str, Any] | None = None) -> list[M]:
        """:meth:`decode` for each of the rows of one statement, in one loop.

        Reads return up to hundreds of rows, so the loop does the least per row: rows whose
        select list starts with :attr:`column_list` (columns after it, such as ``seq``, are
        left out) are zipped with the column names in C, and everything the loop needs is a
        local. ``known`` holds the values of columns the statement sent as NULL because the
        caller knows them for every row (the session of a page of its messages): an id not
        sent is one not decoded.
        """
        columns = self.columns
        if not rows or tuple(rows[0].keys())[: len(columns)] != columns:
            return [self.decode(row, known) for row in rows]
        model, stamps, enums = self.model, self.datetime_columns, self._members
        models = []
        for row in rows:
            values = dict(zip(columns, row))  # noqa: B905 - the trailing columns are dropped
            if known:
                values.update(known)
            for name, members in enums:
                values[name] = members[values[name]]
            for name in stamps:
                if values[name].tzinfo is None:
                    values[name] = values[name].replace(tzinfo=UTC)
            models.append(construct(model, values))
        return models

    def _construct(self, values: dict[str, Any]) -> M:
        for name, members in self._members:
            values[name] = members[values[name]]
        for name in self.datetime_columns:
            if values[name].tzinfo is None:
                values[name] = values[name].replace(tzinfo=UTC)
        return construct(self.model, values)


SESSIONS: Table[Session] = Table("sessions", "session", Session)
MESSAGES: Table[Message] = Table("messages", "message", Message, {"role": MessageRole})
AGENTS: Table[Agent] = Table("agents", "agent", Agent, {"status": AgentStatus})
TOOLS: Table[Tool] = Table("tools", "tool", Tool)
MCP_SERVERS: Table[MCPServer] = Table("mcp_servers", "MCP server", MCPServer)
EXTERNAL_SERVICES: Table[ExternalService] = Table(
    "external_services",
    "external service",
    ExternalService,
    {"service_type": ExternalServiceType},
)
