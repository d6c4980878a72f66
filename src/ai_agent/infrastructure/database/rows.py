"""Rows -> models through one generated function per table, for the SQL backends.

A row is a sequence of column values in the model's field order (an ``sqlite3`` tuple, an
``asyncpg`` record; columns after those are ignored). Each backend says which columns need
converting and how; :class:`RowDecoder` builds, once per table, a function that unpacks a
row and builds the model in one expression, as ``dataclasses`` generates ``__init__``: a row
then costs one call per converted column and no loop or lookup per column. For messages::

    def decode(row):
        c0 = row[0]; ...; c8 = row[8]
        return construct(model, {'id': c0, 'role': d4(c4), ..., 'content': c5})

Columns the caller already holds (the session of a page of its messages) are *known*: they
come from parameters of the same name instead of the row, so they are not decoded per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ai_agent.infrastructure.database.copies import construct

__all__ = ["Convert", "Row", "RowDecoder", "enum_member"]

M = TypeVar("M", bound=BaseModel)
Convert = Callable[[Any], Any]
Row = Any  # an sqlite3 tuple or an asyncpg Record: indexed by column position


def enum_member(kind: type[Enum]) -> Convert:
    """Stored value -> member of ``kind``: a dict lookup, where ``kind(value)`` runs Python."""
    return {member.value: member for member in kind}.__getitem__


class RowDecoder(Generic[M]):
    """Builds ``model`` from rows; ``converters`` maps a column to its conversion, if any.

    Values are taken as trusted (what a validated model wrote, kept by the schema's
    constraints), so models are built without validating again (:func:`.construct`).
    ``None`` is never converted: it stands for SQL ``NULL`` in every column.
    """

    def __init__(self, model: type[M], converters: Mapping[str, Convert | None]) -> None:
        self.model = model
        self.columns = tuple(model.model_fields)
        self._converters = {column: converters.get(column) for column in self.columns}
        self._decoders: dict[tuple[str, ...], Callable[..., M]] = {}
        self.decode: Callable[[Row], M] = self.decoder(())

    def decoder(self, known: tuple[str, ...]) -> Callable[..., M]:
        """The function ``decode(row, *values of known)``, generated on first use."""
        decode = self._decoders.get(known)
        if decode is None:
            decode = self._decoders[known] = self._generate(known)
        return decode

    def decode_all(self, rows: Iterable[Row], known: Mapping[str, Any] | None) -> list[M]:
        if not known:
            decode = self.decode
            return [decode(row) for row in rows]
        decode_with = self.decoder(tuple(known))
        values = tuple(known.values())
        return [decode_with(row, *values) for row in rows]

    def _generate(self, known: tuple[str, ...]) -> Callable[..., M]:
        scope: dict[str, Any] = {"construct": construct, "model": self.model}
        reads, items = [], []
        for index, (column, convert) in enumerate(self._converters.items()):
            value = f"c{index}"
            if column in known:
                items.append(f"{column!r}: {column}")
                continue
            reads.append(f"{value} = row[{index}]")
            if convert is None:
                items.append(f"{column!r}: {value}")
            else:
                scope[f"d{index}"] = convert
                items.append(f"{column!r}: None if {value} is None else d{index}({value})")
        source = (
            f"def decode(row{''.join(f', {column}' for column in known)}):\n"
            f"    {'; '.join(reads)}\n"
            f"    return construct(model, {{{', '.join(items)}}})\n"
        )
        exec(source, scope)  # text built from the model's own field names, nothing else
        decode: Callable[..., M] = scope["decode"]
        return decode
