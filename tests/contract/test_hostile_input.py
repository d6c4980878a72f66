"""Hostile input: it round-trips exactly or fails with an error from the tree, storing nothing.

Values reach the repository three ways: through a validating constructor (pydantic's
``ValidationError`` there), through ``model_construct`` and through ``object.__setattr__``
(which skip validation, so the repository must catch them: ``RepositoryValidationError``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, ValidationError

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database import (
    NotFoundError,
    Repository,
    RepositoryError,
    RepositoryValidationError,
)

from .checks import assert_same_entity, assert_same_json, ids, unchanged
from .factories import (
    make_agent,
    make_external_service,
    make_mcp_server,
    make_message,
    make_session,
    make_tool,
    nested_json,
)

HOSTILE_STRINGS = [
    "'; DROP TABLE sessions; --",
    "' OR '1'='1",
    '"; DELETE FROM messages; --',
    "*",
    "?",
    "[a-z]",
    "[^a]*",
    "{x}",
    "{user}:*",
    "a{b}c",
    "%s",
    "%(name)s",
    "%",
    "_",
    "\\",
    "\\*",
    "$1",
    ":name",
    "\n",
    "line\r\nbreak",
    "\t",
    " ",
    "  padded  ",
    "NULL",
    "null",
    "None",
    "\u202eright-to-left",
    "\ufeffbom",
    "\x01\x1f\x7f",
    "caf\u00e9",
    "cafe\u0301",
    "🙂👩‍💻",
]
STRING_IDS = [f"{i}:{s!r}"[:30] for i, s in enumerate(HOSTILE_STRINGS)]


def hostile(test: Callable[..., Any]) -> Any:
    return pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=STRING_IDS)(test)


# -- exact round trips ---------------------------------------------------------------------------


@hostile
async def test_hostile_user_ids_and_titles_round_trip(repository: Repository, text: str) -> None:
    mine = make_session(user_id=text, title=text, metadata={text: text, "list": [text]})
    await repository.create_session(make_session(user_id="alice"))
    await repository.create_session(make_session(user_id=text + "x"))
    await repository.create_session(mine)

    fetched = await repository.get_session(mine.id)

    assert fetched is not None
    assert_same_entity(fetched, mine)
    assert ids(await repository.list_sessions(user_id=text)) == [mine.id]


@hostile
async def test_hostile_message_content_round_trips(repository: Repository, text: str) -> None:
    session = await repository.create_session(make_session())
    message = make_message(session, content=text, metadata={text: [text]})

    await repository.create_message(message)

    assert_same_entity((await repository.get_messages_by_session(session.id))[0], message)


@hostile
async def test_hostile_names_round_trip_and_stay_distinct(
    repository: Repository, text: str
) -> None:
    entities: list[tuple[Any, Any, Any]] = [
        (repository.create_agent, make_agent(name=text), repository.list_agents),
        (repository.create_tool, make_tool(name=text), repository.list_tools),
        (repository.create_mcp_server, make_mcp_server(name=text), repository.list_mcp_servers),
        (
            repository.create_external_service,
            make_external_service(name=text),
            repository.list_external_services,
        ),
    ]
    for create, entity, listing in entities:
        await create(entity.model_copy(update={"id": uuid4(), "name": "plain"}))
        await create(entity)
        listed = await listing()
        assert sorted(e.name for e in listed) == sorted([text, "plain"])
        assert_same_entity(next(e for e in listed if e.id == entity.id), entity)


async def test_one_megabyte_of_content_round_trips(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    content = ("ab\u00e9\U0001f642" * (2**18))[: 2**20]
    message = make_message(session, content=content, metadata={"blob": content[:100_000]})

    await repository.create_message(message)

    fetched = await repository.get_message(message.id)
    assert fetched is not None
    assert len(fetched.content) == 2**20
    assert fetched.content == content
    assert fetched.metadata == {"blob": content[:100_000]}


async def test_json_nested_to_the_limit_round_trips(repository: Repository) -> None:
    session = make_session(metadata=nested_json(100))

    await repository.create_session(session)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert_same_json(fetched.metadata, nested_json(100))


async def test_floats_of_any_magnitude_round_trip(repository: Repository) -> None:
    floats = [1e16, 1e20, -1e300, 1.7976931348623157e308, 5e-324, 2.5e-10, 123456789.125]
    session = make_session(metadata={"floats": floats})

    await repository.create_session(session)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert_same_json(fetched.metadata, {"floats": floats})


async def test_json_subclasses_come_back_as_plain_json(repository: Repository) -> None:
    class Level(IntEnum):
        HIGH = 3

    metadata = {"ordered": OrderedDict(b=1, a=2), "level": Level.HIGH, "flag": True}
    session = make_session(metadata=metadata)

    await repository.create_session(session)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert_same_json(fetched.metadata, {"ordered": {"b": 1, "a": 2}, "level": 3, "flag": True})


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
    ids=str,
)
async def test_extreme_datetimes_round_trip(repository: Repository, moment: datetime) -> None:
    session = make_session(created_at=moment, updated_at=moment, last_activity=moment)
    await repository.create_session(session)
    message = make_message(session, created_at=moment, updated_at=moment)
    await repository.create_message(message)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert (fetched.created_at, fetched.updated_at, fetched.last_activity) == (moment,) * 3
    assert_same_entity(await repository.get_message(message.id), message)


@pytest.mark.parametrize(
    "value", [{"title": "x\udfffy"}, {"metadata": {"k": "\ud800"}}, {"metadata": {"\udfff": 1}}]
)
async def test_a_lone_surrogate_is_refused(repository: Repository, value: dict[str, Any]) -> None:
    # UTF-8 cannot encode a lone surrogate, so no backend could store it exactly.
    with pytest.raises(ValidationError, match="lone surrogate"):
        make_session(**value)
    smuggled = Session.model_construct(**{**make_session().__dict__, **value})
    async with unchanged(repository):
        with pytest.raises(RepositoryValidationError, match="lone surrogate"):
            await repository.create_session(smuggled)


# -- refused at construction, and again when smuggled past validation ---------------------------

NUL_CASES: list[tuple[Callable[..., BaseModel], str, Any]] = [
    (make_session, "title", "a\x00b"),
    (make_session, "user_id", "\x00"),
    (make_session, "metadata", {"key\x00": 1}),
    (make_session, "metadata", {"key": "value\x00"}),
    (make_session, "metadata", {"list": [{"deep": ["\x00"]}]}),
    (make_agent, "name", "agent\x00"),
    (make_agent, "system_prompt", "\x00"),
    (make_agent, "tools", ["ok", "bad\x00"]),
    (make_tool, "description", "\x00tool"),
    (make_tool, "tool_schema", {"\x00": {}}),
    (make_mcp_server, "endpoint", "http://x/\x00"),
    (make_mcp_server, "authentication", {"token": "\x00"}),
    (make_external_service, "retry_config", {"a": ["\x00"]}),
]

NON_JSON: list[Any] = [
    {1, 2},
    (1, 2),
    math.nan,
    math.inf,
    -math.inf,
    b"bytes",
    bytearray(b"x"),
    Decimal("1.5"),
    uuid4(),
    datetime(2024, 1, 1, tzinfo=UTC),
    object(),
    make_session(),
]
NON_JSON_IDS = [type(v).__name__ + (f"({v})" if isinstance(v, float) else "") for v in NON_JSON]


async def _refused(repository: Repository, entity: BaseModel, *session_ids: UUID) -> None:
    """Both create and update of a smuggled entity fail with nothing stored."""
    create = getattr(repository, f"create_{_kind(entity)}")
    update = getattr(repository, f"update_{_kind(entity)}")
    async with unchanged(repository, *session_ids):
        with pytest.raises(RepositoryValidationError):
            await create(entity)
        with pytest.raises(RepositoryValidationError):
            await update(entity)


def _kind(entity: BaseModel) -> str:
    return {
        "Session": "session",
        "Message": "message",
        "Agent": "agent",
        "Tool": "tool",
        "MCPServer": "mcp_server",
        "ExternalService": "external_service",
    }[type(entity).__name__]


async def _stored(repository: Repository, make: Callable[..., BaseModel]) -> BaseModel:
    """A stored, valid entity of ``make``'s kind, to be smuggled into an update."""
    entity = make()
    stored: BaseModel = await getattr(repository, f"create_{_kind(entity)}")(entity)
    return stored


@pytest.mark.parametrize(("make", "field", "value"), NUL_CASES)
async def test_nul_is_refused_everywhere(
    repository: Repository, make: Callable[..., BaseModel], field: str, value: Any
) -> None:
    with pytest.raises(ValidationError):
        make(**{field: value})

    constructed = make().model_construct(**{**make().__dict__, field: value})
    await _refused(repository, constructed)

    assigned = await _stored(repository, make)
    object.__setattr__(assigned, field, value)
    await _refused(repository, assigned)


async def test_nul_in_a_message_is_refused(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    stored = await repository.create_message(make_message(session))
    with pytest.raises(ValidationError):
        make_message(session, content="\x00")

    for field, value in [("content", "a\x00"), ("tool_calls", [{"k": "\x00"}])]:
        smuggled = stored.model_copy()
        object.__setattr__(smuggled, field, value)
        await _refused(repository, smuggled, session.id)
        batch = [make_message(session), smuggled.model_copy(update={"id": uuid4()})]
        async with unchanged(repository, session.id):
            with pytest.raises(RepositoryValidationError):
                await repository.create_messages(batch)


@pytest.mark.parametrize("value", NON_JSON, ids=NON_JSON_IDS)
async def test_non_json_values_are_refused(repository: Repository, value: Any) -> None:
    with pytest.raises(ValidationError):
        make_session(metadata={"value": value})
    with pytest.raises(ValidationError):
        make_tool(tool_schema={"nested": [{"value": value}]})

    for make, field in [(make_session, "metadata"), (make_tool, "tool_schema")]:
        stored = await _stored(repository, make)
        object.__setattr__(stored, field, {"nested": [{"value": value}]})
        await _refused(repository, stored)


@pytest.mark.parametrize("key", [1, None, 1.5, (1, 2), True], ids=repr)
async def test_non_string_keys_are_refused(repository: Repository, key: Any) -> None:
    with pytest.raises(ValidationError):
        make_session(metadata={"outer": {key: 1}})

    stored = await _stored(repository, make_session)
    object.__setattr__(stored, "metadata", {"outer": {key: 1}})
    await _refused(repository, stored)


async def test_json_nested_past_the_limit_is_refused(repository: Repository) -> None:
    with pytest.raises(ValidationError):
        make_session(metadata=nested_json(101))

    smuggled = await _stored(repository, make_agent)
    object.__setattr__(smuggled, "llm_config", nested_json(101))
    await _refused(repository, smuggled)
    await _refused(
        repository,
        Session.model_construct(**{**make_session().__dict__, "metadata": nested_json(500)}),
    )


@pytest.mark.parametrize("field", ["created_at", "updated_at", "last_activity"])
async def test_naive_datetimes_are_refused(repository: Repository, field: str) -> None:
    naive = datetime(2024, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError):
        make_session(**{field: naive})

    await _refused(repository, Session.model_construct(**{**make_session().__dict__, field: naive}))
    stored = await _stored(repository, make_session)
    object.__setattr__(stored, field, naive)
    await _refused(repository, stored)


async def test_naive_datetimes_in_messages_are_refused(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    stored = await repository.create_message(make_message(session))
    object.__setattr__(stored, "created_at", datetime(2024, 1, 1))  # noqa: DTZ001

    await _refused(repository, stored, session.id)


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (make_session, "message_count", -1),
        (make_session, "user_id", "u" * 256),
        (make_session, "id", "not-a-uuid"),
        (make_agent, "name", ""),
        (make_agent, "name", "n" * 256),
        (make_agent, "status", "sleeping"),
        (make_tool, "enabled", "maybe"),
        (make_mcp_server, "endpoint", ""),
        (make_external_service, "service_type", "carrier_pigeon"),
    ],
)
async def test_out_of_range_fields_are_refused(
    repository: Repository, make: Callable[..., BaseModel], field: str, value: Any
) -> None:
    with pytest.raises(ValidationError):
        make(**{field: value})

    stored = await _stored(repository, make)
    object.__setattr__(stored, field, value)
    await _refused(repository, stored)


# -- wrong types and unknown ids ------------------------------------------------------------------


async def test_wrong_entity_types_are_refused(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = make_message(session)
    calls: list[Any] = [
        repository.create_session(message),  # type: ignore[arg-type]
        repository.update_session(make_agent()),  # type: ignore[arg-type]
        repository.create_session(session.model_dump()),  # type: ignore[arg-type]
        repository.create_session(None),  # type: ignore[arg-type]
        repository.create_message(session),  # type: ignore[arg-type]
        repository.create_messages([message, session]),  # type: ignore[list-item]
        repository.create_messages(message),  # type: ignore[arg-type]
        repository.create_messages("not a list"),  # type: ignore[arg-type]
        repository.create_tool(make_agent()),  # type: ignore[arg-type]
        repository.create_mcp_server(make_external_service()),  # type: ignore[arg-type]
        repository.update_external_service(make_mcp_server()),  # type: ignore[arg-type]
    ]
    async with unchanged(repository):
        for call in calls:
            with pytest.raises(RepositoryValidationError) as raised:
                await call
            assert "expected" in str(raised.value)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", 123, None, 1.5, b"\x00" * 16], ids=repr)
async def test_ids_that_are_not_uuids_are_refused(repository: Repository, bad_id: Any) -> None:
    session = await repository.create_session(make_session())
    calls: list[Any] = [
        repository.get_session,
        repository.delete_session,
        repository.get_message,
        repository.delete_message,
        repository.get_messages_by_session,
        repository.get_recent_messages,
        repository.get_agent,
        repository.delete_agent,
        repository.get_tool,
        repository.delete_tool,
        repository.get_mcp_server,
        repository.delete_mcp_server,
        repository.get_external_service,
        repository.delete_external_service,
    ]
    async with unchanged(repository, session.id):
        for call in calls:
            with pytest.raises(RepositoryValidationError) as raised:
                await call(bad_id)
            assert "UUID" in str(raised.value)


async def test_uuid_strings_are_accepted_as_ids(repository: Repository) -> None:
    session = await repository.create_session(make_session())

    fetched = await repository.get_session(str(session.id).upper())  # type: ignore[arg-type]

    assert fetched is not None and fetched.id == session.id


@pytest.mark.parametrize("user_id", [5, b"user", "\x00", "u" * 256, ["a"]], ids=repr)
async def test_bad_user_filters_are_refused(repository: Repository, user_id: Any) -> None:
    with pytest.raises(RepositoryValidationError):
        await repository.list_sessions(user_id=user_id)


async def test_random_unknown_ids(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    unknown = [uuid4() for _ in range(5)] + [UUID(int=0), UUID(int=2**128 - 1)]

    async with unchanged(repository, *unknown):
        for missing in unknown:
            for kind in ("session", "message", "agent", "tool", "mcp_server", "external_service"):
                assert await getattr(repository, f"get_{kind}")(missing) is None
                assert await getattr(repository, f"delete_{kind}")(missing) is False
            assert await repository.get_messages_by_session(missing) == []
            assert await repository.get_recent_messages(missing) == []
            assert await repository.list_sessions(user_id=str(missing)) == []
            for entity in (
                make_session(id=missing),
                make_message(session, id=missing),
                make_agent(id=missing),
                make_tool(id=missing),
                make_mcp_server(id=missing),
                make_external_service(id=missing),
            ):
                with pytest.raises(NotFoundError):
                    await getattr(repository, f"update_{_kind(entity)}")(entity)


async def test_every_failure_is_a_repository_error(repository: Repository) -> None:
    # Whatever the backend's driver raises inside, callers only ever see the tree.
    smuggled = Message.model_construct(**{**make_message(uuid4()).__dict__, "role": "robot"})
    for call in (
        repository.create_message(smuggled),
        repository.create_message(make_message(uuid4())),
        repository.list_agents(limit=-5),
    ):
        with pytest.raises(RepositoryError):
            await call
