"""Every entity read back from any backend holds exactly its declared types (issue 15).

Equality is not enough: a driver's ``uuid.UUID`` subclass (asyncpg's) compares and hashes
like the standard class, yet ``orjson`` refuses it and ``type(x) is UUID`` tells the backends
apart. So the checker below walks each model's field annotations and asserts the exact type
of every value: ``UUID`` for ids, ``datetime`` in UTC, plain ``dict``/``list``/``str``/``int``/
``float``/``bool`` inside JSON, the enum's own members. The three JSON serialisations a user
may reach for must then agree.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID, uuid4

import orjson
import pytest
from pydantic import AwareDatetime, BaseModel

from ai_agent.domain.models import DomainModel, Session
from ai_agent.infrastructure.database import Repository

from .checks import assert_same_json
from .factories import (
    make_agent,
    make_external_service,
    make_mcp_server,
    make_message,
    make_session,
    make_tool,
)

_JSON_LEAVES = (str, int, float, bool, NoneType)


def type_problems(model: BaseModel) -> list[str]:
    """Every field (and every item inside it) whose type is not exactly the declared one."""
    problems: list[str] = []
    for name, info in type(model).model_fields.items():
        _check(getattr(model, name), info.annotation, f"{type(model).__name__}.{name}", problems)
    return problems


def _check(value: Any, annotation: Any, where: str, problems: list[str]) -> None:
    origin = get_origin(annotation)
    if origin is Annotated:
        _check(value, get_args(annotation)[0], where, problems)
    elif origin is Union or origin is UnionType:
        options = [arg for arg in get_args(annotation) if arg is not NoneType]
        if value is None:
            if len(options) == len(get_args(annotation)):
                problems.append(f"{where} is None")
            return
        assert len(options) == 1, f"{where}: the checker knows no union of {options}"
        _check(value, options[0], where, problems)
    elif origin is dict or origin is list:
        _check_container(value, annotation, where, problems)
    elif annotation is Any:
        _check_json(value, where, problems)
    elif annotation is datetime or annotation is AwareDatetime:
        if type(value) is not datetime or value.tzinfo is not UTC:
            problems.append(f"{where} is {value!r}, not a datetime in UTC")
    else:
        # UUID, str, int, bool and the enums: anything else is a field type this checker
        # does not know yet, and it says so rather than pass it.
        assert isinstance(annotation, type), f"{where}: unknown annotation {annotation!r}"
        if type(value) is not annotation:
            problems.append(f"{where} is a {_qualified(type(value))}, not {annotation.__name__}")


def _check_container(value: Any, annotation: Any, where: str, problems: list[str]) -> None:
    kind, args = get_origin(annotation), get_args(annotation)
    if type(value) is not kind:
        problems.append(f"{where} is a {_qualified(type(value))}, not a plain {kind.__name__}")
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                problems.append(f"{where} has the key {key!r} of type {type(key).__name__}")
            _check(item, args[1], f"{where}[{key!r}]", problems)
    else:
        for index, item in enumerate(value):
            _check(item, args[0], f"{where}[{index}]", problems)


def _check_json(value: Any, where: str, problems: list[str]) -> None:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                problems.append(f"{where} has the key {key!r} of type {type(key).__name__}")
            _check_json(item, f"{where}[{key!r}]", problems)
    elif kind is list:
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]", problems)
    elif kind not in _JSON_LEAVES:
        problems.append(f"{where} is a {_qualified(kind)}, not a plain JSON value")


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def assert_exact(model: BaseModel | None, step: str) -> None:
    assert model is not None, f"{step} read nothing"
    problems = type_problems(model)
    assert not problems, f"after {step}: " + "; ".join(problems)
    assert_serialises_alike(model, step)


def assert_serialises_alike(model: BaseModel, step: str) -> None:
    """``model_dump_json``, ``json.dumps(model_dump(mode="json"))`` and orjson agree.

    Compared parsed, with JSON types kept apart (``1`` is not ``1.0``): the texts may differ
    in spacing, escaping and float spelling without meaning anything else. orjson writes a
    UTC offset as ``+00:00`` by default and pydantic as ``Z``: the same RFC 3339 instant, so
    orjson is asked for pydantic's spelling (``OPT_UTC_Z``) instead of normalising strings.
    The factories hold no int past 64 bits, which orjson refuses whatever the backend.
    """
    by_pydantic = json.loads(model.model_dump_json())
    by_json = json.loads(json.dumps(model.model_dump(mode="json")))
    by_orjson = json.loads(orjson.dumps(model.model_dump(), option=orjson.OPT_UTC_Z))
    assert_same_json(by_json, by_pydantic, f"{step}: json.dumps")
    assert_same_json(by_orjson, by_pydantic, f"{step}: orjson")


Reads = list[tuple[str, DomainModel | None]]


def _every(step: str, models: list[Any], count: int) -> Reads:
    assert len(models) == count, f"{step} returned {len(models)} of {count}"
    return [(f"{step}[{index}]", model) for index, model in enumerate(models)]


async def _session_reads(r: Repository) -> Reads:
    created = await r.create_session(make_session())
    reads: Reads = [("create_session", created), ("get_session", await r.get_session(created.id))]
    reads += _every("list_sessions", await r.list_sessions(), 1)
    reads += _every("list_sessions(user_id)", await r.list_sessions("user-1"), 1)
    created.title = "renamed"
    reads.append(("update_session", await r.update_session(created)))
    reads.append(("get_session after update", await r.get_session(created.id)))
    other, made = await r.get_or_create_session(make_session())
    assert made
    again, made = await r.get_or_create_session(other)
    assert not made
    return [*reads, ("get_or_create_session", other), ("get_or_create_session again", again)]


async def _message_reads(r: Repository) -> Reads:
    session = await r.create_session(make_session())
    parent = await r.create_message(make_message(session))
    child = await r.create_message(make_message(session, parent_message_id=parent.id))
    batch = await r.create_messages([make_message(session, parent_message_id=child.id)])
    reads: Reads = [("create_message", parent), ("create_message(parent)", child)]
    reads += _every("create_messages", batch, 1)
    reads.append(("get_message", await r.get_message(child.id)))
    reads += _every("get_messages_by_session", await r.get_messages_by_session(session.id), 3)
    reads += _every("get_recent_messages", await r.get_recent_messages(session.id, 2), 2)
    reads += _every("iter_messages", [m async for m in r.iter_messages(session.id)], 3)
    reads.append(("get_session after messages", await r.get_session(session.id)))
    child.content = "edited"
    reads.append(("update_message", await r.update_message(child)))
    reads.append(("get_message after update", await r.get_message(child.id)))
    return [*reads, ("pop_message", await r.pop_message(session.id))]


async def _agent_reads(r: Repository) -> Reads:
    created = await r.create_agent(make_agent())
    reads: Reads = [("create_agent", created), ("get_agent", await r.get_agent(created.id))]
    reads += _every("list_agents", await r.list_agents(), 1)
    created.tools = ["other"]
    reads.append(("update_agent", await r.update_agent(created)))
    return [*reads, ("get_agent after update", await r.get_agent(created.id))]


async def _tool_reads(r: Repository) -> Reads:
    server = await r.create_mcp_server(make_mcp_server())
    created = await r.create_tool(make_tool(mcp_server_id=server.id))
    reads: Reads = [("create_tool", created), ("get_tool", await r.get_tool(created.id))]
    reads += _every("list_tools", await r.list_tools(), 1)
    reads += _every("list_tools(all)", await r.list_tools(enabled_only=False), 1)
    created.enabled = False
    reads.append(("update_tool", await r.update_tool(created)))
    reads.append(("get_tool after update", await r.get_tool(created.id)))
    assert await r.delete_mcp_server(server.id)
    return [*reads, ("get_tool, server deleted", await r.get_tool(created.id))]


async def _mcp_server_reads(r: Repository) -> Reads:
    created = await r.create_mcp_server(make_mcp_server())
    reads: Reads = [("create_mcp_server", created)]
    reads.append(("get_mcp_server", await r.get_mcp_server(created.id)))
    reads += _every("list_mcp_servers", await r.list_mcp_servers(), 1)
    created.capabilities = ["prompts"]
    reads.append(("update_mcp_server", await r.update_mcp_server(created)))
    return [*reads, ("get_mcp_server after update", await r.get_mcp_server(created.id))]


async def _external_service_reads(r: Repository) -> Reads:
    created = await r.create_external_service(make_external_service())
    reads: Reads = [("create_external_service", created)]
    reads.append(("get_external_service", await r.get_external_service(created.id)))
    reads += _every("list_external_services", await r.list_external_services(), 1)
    created.retry_config = {"max_attempts": 5}
    reads.append(("update_external_service", await r.update_external_service(created)))
    later = await r.get_external_service(created.id)
    return [*reads, ("get_external_service after update", later)]


READS: dict[str, Callable[[Repository], Awaitable[Reads]]] = {
    "session": _session_reads,
    "message": _message_reads,
    "agent": _agent_reads,
    "tool": _tool_reads,
    "mcp_server": _mcp_server_reads,
    "external_service": _external_service_reads,
}


@pytest.mark.parametrize("entity", list(READS))
async def test_every_read_has_exact_types(repository: Repository, entity: str) -> None:
    for step, model in await READS[entity](repository):
        assert_exact(model, step)


class _DriverUUID(UUID):
    """What a driver may hand out (asyncpg's ``pgproto.UUID`` is one): equal, not exact."""


class _Stamp(datetime):
    pass


async def test_subclassed_input_comes_back_exact(repository: Repository) -> None:
    """Ids and timestamps of a subclass (read from a driver, say) are stored as the standard
    types: what ``create_*`` returns and every later read hold exactly ``UUID``/``datetime``."""
    stamp = _Stamp(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    session = make_session(id=_DriverUUID(int=uuid4().int), created_at=stamp, last_activity=stamp)
    assert type(session.id) is _DriverUUID and type(session.created_at) is _Stamp  # kept
    created = await repository.create_session(session)
    message = make_message(_DriverUUID(int=session.id.int), id=_DriverUUID(int=uuid4().int))
    written = await repository.create_message(message)
    server = await repository.create_mcp_server(make_mcp_server(created_at=stamp))
    tool = make_tool(mcp_server_id=_DriverUUID(int=server.id.int), updated_at=stamp)
    reads: Reads = [("create_session", created), ("create_message", written)]
    reads += [("create_mcp_server", server), ("create_tool", await repository.create_tool(tool))]
    reads.append(("get_message", await repository.get_message(message.id)))
    reads.append(("get_tool", await repository.get_tool(tool.id)))
    reads.append(("get_session", await repository.get_session(session.id)))
    for step, model in reads:
        assert_exact(model, step)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("id", _DriverUUID(int=1), "_DriverUUID, not UUID"),
        ("user_id", type("Text", (str,), {})("u"), "Text, not str"),
        ("message_count", True, "bool, not int"),
        ("created_at", datetime(2024, 1, 1), "not a datetime in UTC"),  # noqa: DTZ001
        ("metadata", {"a": [1, (2,)]}, "metadata['a'][1] is a builtins.tuple"),
        ("metadata", {1: "x"}, "has the key 1"),
    ],
)
def test_the_checker_sees_what_equality_hides(field: str, value: Any, problem: str) -> None:
    values = make_session().__dict__ | {field: value}
    problems = type_problems(Session.model_construct(**values))
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_checker_knows_every_field_type() -> None:
    for make in (make_agent, make_external_service, make_mcp_server, make_tool, make_session):
        assert type_problems(make()) == []
    role = make_message(uuid4()).role
    assert isinstance(role, Enum) and type_problems(make_message(uuid4())) == []
