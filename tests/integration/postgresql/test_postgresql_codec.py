"""Rows <-> models on PostgreSQL: the column lists match the live schema, and JSON that
``jsonb`` would otherwise change (floats printed as integers, ints past Python's digit limit)
comes back exactly."""

from __future__ import annotations

import json
import pickle
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID, uuid4

import pytest

from ai_agent.domain.models import Session
from ai_agent.infrastructure.database.catalog import CATALOGS
from ai_agent.infrastructure.database.copies import field_kinds
from ai_agent.infrastructure.database.json_text import decode_json
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from ai_agent.infrastructure.database.postgresql._codec import (
    MESSAGES,
    SESSIONS,
    Table,
    catalog_table,
    decode_uuid,
    encode_json,
    encode_uuid,
)

pytestmark = pytest.mark.postgresql

TABLES: list[Table[Any]] = [SESSIONS, MESSAGES, *(catalog_table(kind) for kind in CATALOGS)]
# Columns the models do not carry.
STORE_ONLY = {"messages": {"seq"}}


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
async def test_every_model_field_is_a_column_and_back(
    repository: PostgreSQLRepository, table: Table[Any]
) -> None:
    assert repository.pool is not None
    async with repository.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table.name,
        )
    types = {row["column_name"]: row["data_type"] for row in rows}
    assert set(types) - STORE_ONLY.get(table.name, set()) == set(table.columns)
    kinds = field_kinds(table.model)
    json_fields = {name for name, kind in kinds.items() if kind in (dict, list)}
    assert {name for name, kind in types.items() if kind == "jsonb"} == json_fields
    timestamps = {name for name, kind in types.items() if kind.startswith("timestamp")}
    assert timestamps == {name for name, kind in kinds.items() if kind is datetime}


FLOATS = [1e16, 1e22, 1e300, -1.5e200, 1.7976931348623157e308, 1e-7, 5e-324, 0.1, 1.0, -0.0]


async def test_floats_come_back_as_the_same_floats(repository: PostgreSQLRepository) -> None:
    # jsonb stores numbers as numeric and prints 1e16 as 10000000000000000: an int on reading.
    metadata = {"floats": FLOATS, "nested": {"f": 1e100, "note": "has e+ in text"}}
    session = await repository.create_session(Session(metadata=metadata))

    stored = await repository.get_session(session.id)
    assert stored is not None
    assert stored.metadata == metadata
    assert [type(value) for value in stored.metadata["floats"]] == [float] * len(FLOATS)
    assert type(stored.metadata["nested"]["f"]) is float


async def test_ints_past_the_digit_limit_come_back_exactly(
    repository: PostgreSQLRepository,
) -> None:
    huge = -(10**5000) - 12345  # json.dumps and json.loads refuse it by default
    session = await repository.create_session(Session(metadata={"huge": huge, "flag": True}))

    stored = await repository.get_session(session.id)
    assert stored is not None and stored.metadata == {"huge": huge, "flag": True}
    assert stored.metadata["flag"] is True


@pytest.mark.parametrize(
    "value",
    [{"a": [1, 2.5, "x e+1", None, True]}, [1e16, {"k": 1e300}], {"big": 10**4400, "b": False}],
)
def test_encode_then_decode_is_the_identity(value: Any) -> None:
    assert _typed(decode_json(encode_json(value))) == _typed(value)


def _typed(value: Any) -> Any:
    """``value`` with every leaf paired with its type (1.0 == 1, but not as JSON)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value), value)


JSONB_TEXTS = [
    '{"b": 1, "a": [1.5, -0.0, 1e-7, 10000000000000000.0, null, true, false]}',
    '{"k": 1, "k": 2}',  # jsonb keeps the last duplicate
    '{"s": "h\\u00e9llo \\ud83d\\ude00 \\u0000 \\" \\\\ \\n \\t é"}',
    "[123456789012345678901234567890, -5e-324, 1.7976931348623157e308, 0.1]",
    '"just a string"',
    "{}",
    "[]",
]


@pytest.mark.parametrize("text", JSONB_TEXTS)
async def test_what_jsonb_prints_decodes_as_json_loads_reads_it(
    repository: PostgreSQLRepository, text: str
) -> None:
    # decode_json uses pydantic-core's parser: it must agree with json.loads on every value
    # jsonb can print (its own spacing, escapes, numbers), types included.
    assert repository.pool is not None
    async with repository.pool.acquire() as connection:
        printed = await connection.fetchval("SELECT $1::jsonb::text", text)
    assert _typed(decode_json(printed)) == _typed(json.loads(printed))


async def test_decode_all_builds_what_decode_builds(repository: PostgreSQLRepository) -> None:
    for index in range(3):
        await repository.create_session(Session(user_id="decode-all", metadata={"i": index}))
    assert repository.pool is not None
    async with repository.pool.acquire() as connection:
        exact = await connection.fetch(
            f"SELECT {SESSIONS.column_list} FROM sessions WHERE user_id = 'decode-all'"
        )
        wider = await connection.fetch(
            f"SELECT 1 AS extra, {SESSIONS.column_list} FROM sessions WHERE user_id = 'decode-all'"
        )
    expected = [SESSIONS.decode(row) for row in exact]
    assert len(expected) == 3
    assert SESSIONS.decode_all(exact) == expected
    assert SESSIONS.decode_all(wider) == expected  # not column_list alone: by name
    assert SESSIONS.decode_all([]) == []
    assert [SESSIONS.decode(dict(row)) for row in exact] == expected  # a mapping: by name


def test_decode_uuid_builds_a_plain_uuid() -> None:
    """Built without ``UUID.__init__``: still the same value, hash, text, and pickle."""
    original = uuid4()
    decoded = decode_uuid(original.bytes)
    assert type(decoded) is UUID and decoded.is_safe is SafeUUID.unknown
    assert decoded == original and hash(decoded) == hash(original)
    assert str(decoded) == str(original) and decoded.version == 4
    assert pickle.loads(pickle.dumps(decoded)) == original
    assert encode_uuid(decoded) == encode_uuid(str(original)) == original.bytes


async def test_ids_come_back_as_uuid_in_every_statement_shape(
    repository: PostgreSQLRepository,
) -> None:
    """Scalars, arrays, NULL and parameters given as text: the codec is the connection's."""
    assert repository.pool is not None
    ids = [uuid4(), uuid4()]
    async with repository.pool.acquire() as connection:
        row = await connection.fetchrow("SELECT $1::uuid, $2::uuid[], NULL::uuid", str(ids[0]), ids)
    assert row is not None
    one, many, none = row
    assert type(one) is UUID and one == ids[0] and none is None
    assert many == ids and all(type(item) is UUID for item in many)
