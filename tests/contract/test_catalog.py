"""Agents, tools, MCP servers and external services: one scenario each, run for every kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from ai_agent.infrastructure.database import (
    DuplicateError,
    NotFoundError,
    Repository,
    RepositoryValidationError,
)

from .checks import assert_recent, assert_same_entity, ids, now, unchanged
from .factories import (
    RICH_JSON,
    at,
    make_agent,
    make_external_service,
    make_mcp_server,
    make_tool,
)


@dataclass(frozen=True)
class Kind:
    """How to reach one entity kind through the repository."""

    name: str  # as in the method names: create_<name>, list_<name>s
    make: Callable[..., Any]
    json_field: str
    text_field: str = "description"
    unique_names: bool = True
    has_enabled: bool = True

    async def create(self, repository: Repository, entity: Any) -> Any:
        return await getattr(repository, f"create_{self.name}")(entity)

    async def get(self, repository: Repository, entity_id: UUID) -> Any:
        return await getattr(repository, f"get_{self.name}")(entity_id)

    async def update(self, repository: Repository, entity: Any) -> Any:
        return await getattr(repository, f"update_{self.name}")(entity)

    async def delete(self, repository: Repository, entity_id: UUID) -> bool:
        deleted: bool = await getattr(repository, f"delete_{self.name}")(entity_id)
        return deleted

    async def list(self, repository: Repository, *, enabled_only: bool = False, **page: int) -> Any:
        method = getattr(repository, f"list_{self.name}s")
        if self.has_enabled:
            return await method(enabled_only=enabled_only, **page)
        return await method(**page)


KINDS = [
    Kind("agent", make_agent, "llm_config", has_enabled=False),
    Kind("tool", make_tool, "tool_schema"),
    Kind("mcp_server", make_mcp_server, "authentication"),
    Kind(
        "external_service",
        make_external_service,
        "retry_config",
        text_field="endpoint",
        unique_names=False,
    ),
]
ENABLED_KINDS = [kind for kind in KINDS if kind.has_enabled]
UNIQUE_KINDS = [kind for kind in KINDS if kind.unique_names]


def by_kind(kinds: list[Kind]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("kind", kinds, ids=[kind.name for kind in kinds])


@by_kind(KINDS)
async def test_round_trip_keeps_every_field(repository: Repository, kind: Kind) -> None:
    entity = kind.make(
        **{kind.json_field: RICH_JSON},
        created_at=at(1).replace(microsecond=1),
        updated_at=at(2).replace(microsecond=999999),
    )

    created = await kind.create(repository, entity)
    fetched = await kind.get(repository, entity.id)

    assert_same_entity(created, entity)
    assert_same_entity(fetched, entity)
    [listed] = await kind.list(repository)
    assert_same_entity(listed, entity)


@by_kind(ENABLED_KINDS)
async def test_disabled_entities_round_trip(repository: Repository, kind: Kind) -> None:
    entity = kind.make(enabled=False)

    await kind.create(repository, entity)

    assert_same_entity(await kind.get(repository, entity.id), entity)


@by_kind(KINDS)
async def test_create_returns_a_new_object_and_shares_nothing(
    repository: Repository, kind: Kind
) -> None:
    entity = kind.make(**{kind.json_field: {"outer": {"inner": [1]}}})
    before = entity.model_dump()

    created = await kind.create(repository, entity)
    getattr(entity, kind.json_field)["outer"]["inner"].append(2)
    getattr(created, kind.json_field)["outer"]["added"] = True
    fetched = await kind.get(repository, entity.id)
    getattr(fetched, kind.json_field)["outer"].clear()

    assert created is not entity
    assert before[kind.json_field] == {"outer": {"inner": [1]}}
    again = await kind.get(repository, entity.id)
    assert getattr(again, kind.json_field) == {"outer": {"inner": [1]}}


@by_kind(KINDS)
async def test_update_sets_updated_at_and_keeps_created_at(
    repository: Repository, kind: Kind
) -> None:
    entity = await kind.create(repository, kind.make())
    change = entity.model_copy(
        update={
            kind.text_field: "changed",
            kind.json_field: {"v": 2},
            "created_at": at(-300),
            "updated_at": at(-300),
        }
    )
    argument = change.model_dump()

    started = now()
    updated = await kind.update(repository, change)
    finished = now()

    assert updated is not change
    assert change.model_dump() == argument
    assert getattr(updated, kind.text_field) == "changed"
    assert getattr(updated, kind.json_field) == {"v": 2}
    assert updated.created_at == entity.created_at
    assert_recent(updated.updated_at, started, finished)
    assert await kind.get(repository, entity.id) == updated


@by_kind(KINDS)
async def test_duplicate_id(repository: Repository, kind: Kind) -> None:
    entity = await kind.create(repository, kind.make())

    async with unchanged(repository):
        with pytest.raises(DuplicateError) as raised:
            await kind.create(repository, kind.make(id=entity.id))
    assert str(entity.id) in str(raised.value)


@by_kind(KINDS)
async def test_missing_ids(repository: Repository, kind: Kind) -> None:
    await kind.create(repository, kind.make())
    missing = kind.make()

    assert await kind.get(repository, missing.id) is None
    assert await kind.delete(repository, missing.id) is False
    async with unchanged(repository):
        with pytest.raises(NotFoundError) as raised:
            await kind.update(repository, missing)
    assert str(missing.id) in str(raised.value)


@by_kind(KINDS)
async def test_delete_reports_whether_it_deleted(repository: Repository, kind: Kind) -> None:
    entity = await kind.create(repository, kind.make())
    kept = await kind.create(repository, kind.make())

    assert await kind.delete(repository, entity.id) is True
    assert await kind.get(repository, entity.id) is None
    assert await kind.delete(repository, entity.id) is False
    assert ids(await kind.list(repository)) == [kept.id]
    if kind.has_enabled:
        assert ids(await kind.list(repository, enabled_only=True)) == [kept.id]


@by_kind(UNIQUE_KINDS)
async def test_name_taken_on_create(repository: Repository, kind: Kind) -> None:
    await kind.create(repository, kind.make(name="shared"))

    async with unchanged(repository):
        with pytest.raises(DuplicateError) as raised:
            await kind.create(repository, kind.make(name="shared"))
    assert "shared" in str(raised.value)


@by_kind(UNIQUE_KINDS)
async def test_name_taken_on_rename(repository: Repository, kind: Kind) -> None:
    await kind.create(repository, kind.make(name="taken"))
    other = await kind.create(repository, kind.make(name="free"))

    async with unchanged(repository):
        with pytest.raises(DuplicateError):
            await kind.update(repository, other.model_copy(update={"name": "taken"}))


@by_kind(UNIQUE_KINDS)
async def test_names_are_case_and_normalisation_sensitive(
    repository: Repository, kind: Kind
) -> None:
    names = ["tool", "Tool", "TOOL", "caf\u00e9", "cafe\u0301", "tool "]
    for name in names:
        await kind.create(repository, kind.make(name=name))

    assert sorted(entity.name for entity in await kind.list(repository)) == sorted(names)


@by_kind(UNIQUE_KINDS)
async def test_rename_and_delete_free_the_name(repository: Repository, kind: Kind) -> None:
    renamed = await kind.create(repository, kind.make(name="first"))
    deleted = await kind.create(repository, kind.make(name="second"))

    await kind.update(repository, renamed.model_copy(update={"name": "renamed"}))
    await kind.delete(repository, deleted.id)
    reused_first = await kind.create(repository, kind.make(name="first"))
    reused_second = await kind.create(repository, kind.make(name="second"))

    listed = await kind.list(repository)
    assert [e.name for e in listed] == ["first", "renamed", "second"]
    assert ids(listed) == [reused_first.id, renamed.id, reused_second.id]


@by_kind(UNIQUE_KINDS)
async def test_update_keeping_its_own_name_is_not_a_duplicate(
    repository: Repository, kind: Kind
) -> None:
    entity = await kind.create(repository, kind.make(name="mine"))

    updated = await kind.update(repository, entity.model_copy(update={"description": "new"}))

    assert (updated.name, updated.description) == ("mine", "new")


async def test_external_service_names_need_not_be_unique(repository: Repository) -> None:
    first = await repository.create_external_service(make_external_service(name="openai"))
    second = await repository.create_external_service(make_external_service(name="openai"))

    listed = await repository.list_external_services()

    assert sorted(ids(listed), key=str) == sorted([first.id, second.id], key=str)


@by_kind(KINDS)
async def test_listed_by_name_in_code_point_order(repository: Repository, kind: Kind) -> None:
    # Code-point (UTF-8 byte) order: not case-folded, not locale collation, and a character
    # beyond the BMP sorts after U+FF5E (UTF-16 code-unit order would put it first).
    names = ["b", "Z", "a", "\u00e9", "A", "aa", "a b", "a-b", "\uff5e", "\U0001f600", "0", "_"]
    for name in names:
        await kind.create(repository, kind.make(name=name))

    listed = await kind.list(repository)

    assert [entity.name for entity in listed] == sorted(names)


async def test_equal_names_are_ordered_by_id(repository: Repository) -> None:
    services = [
        make_external_service(name=name, id=uuid4())
        for name in ["same", "same", "other", "same", "same"]
    ]
    for service in services:
        await repository.create_external_service(service)

    listed = await repository.list_external_services(enabled_only=False)

    expected = sorted(services, key=lambda s: (s.name, str(s.id)))
    assert ids(listed) == ids(expected)


@by_kind(KINDS)
async def test_pages_cover_the_listing_exactly(repository: Repository, kind: Kind) -> None:
    for i in range(7):
        await kind.create(repository, kind.make(name=f"name-{i}"))
    everything = await kind.list(repository)

    pages = [await kind.list(repository, limit=3, offset=offset) for offset in (0, 3, 6, 9)]

    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert [entity for page in pages for entity in page] == everything
    assert [entity.name for entity in everything] == [f"name-{i}" for i in range(7)]


@by_kind(ENABLED_KINDS)
async def test_enabled_only_filters_before_paging(repository: Repository, kind: Kind) -> None:
    for i in range(9):
        await kind.create(repository, kind.make(name=f"n{i}", enabled=i % 3 == 2))

    first = await kind.list(repository, enabled_only=True, limit=2)
    second = await kind.list(repository, enabled_only=True, limit=2, offset=2)
    everything = await kind.list(repository, enabled_only=False, limit=2, offset=4)

    assert [e.name for e in first] == ["n2", "n5"]
    assert [e.name for e in second] == ["n8"]
    assert [e.name for e in everything] == ["n4", "n5"]


@by_kind(ENABLED_KINDS)
async def test_enabled_only_is_the_default(repository: Repository, kind: Kind) -> None:
    enabled = await kind.create(repository, kind.make(name="on"))
    await kind.create(repository, kind.make(name="off", enabled=False))

    listed = await getattr(repository, f"list_{kind.name}s")()

    assert ids(listed) == [enabled.id]


@by_kind(ENABLED_KINDS)
async def test_toggling_enabled_moves_an_entity_in_and_out(
    repository: Repository, kind: Kind
) -> None:
    entity = await kind.create(repository, kind.make(enabled=False))

    await kind.update(repository, entity.model_copy(update={"enabled": True}))
    assert ids(await kind.list(repository, enabled_only=True)) == [entity.id]

    await kind.update(repository, entity.model_copy(update={"enabled": False, "name": "zz"}))
    assert await kind.list(repository, enabled_only=True) == []
    assert [e.name for e in await kind.list(repository)] == ["zz"]


@by_kind(ENABLED_KINDS)
@pytest.mark.parametrize("flag", ["yes", 1, 0, None])
async def test_enabled_only_must_be_a_bool(repository: Repository, kind: Kind, flag: Any) -> None:
    with pytest.raises(RepositoryValidationError):
        await kind.list(repository, enabled_only=flag)


# -- tools and their MCP servers ----------------------------------------------------------------


async def test_tool_with_a_server_round_trips(repository: Repository) -> None:
    server = await repository.create_mcp_server(make_mcp_server())
    tool = make_tool(mcp_server_id=server.id)

    await repository.create_tool(tool)

    assert_same_entity(await repository.get_tool(tool.id), tool)


async def test_tool_needs_an_existing_server(repository: Repository) -> None:
    server = await repository.create_mcp_server(make_mcp_server())
    tool = await repository.create_tool(make_tool(mcp_server_id=server.id))
    missing = uuid4()

    async with unchanged(repository):
        with pytest.raises(NotFoundError) as raised:
            await repository.create_tool(make_tool(mcp_server_id=missing))
        with pytest.raises(NotFoundError):
            await repository.update_tool(tool.model_copy(update={"mcp_server_id": missing}))
    assert str(missing) in str(raised.value)


async def test_deleting_a_server_keeps_its_tools_and_clears_their_server(
    repository: Repository,
) -> None:
    doomed = await repository.create_mcp_server(make_mcp_server())
    kept = await repository.create_mcp_server(make_mcp_server())
    orphaned = [await repository.create_tool(make_tool(mcp_server_id=doomed.id)) for _ in range(2)]
    unaffected = await repository.create_tool(make_tool(mcp_server_id=kept.id))
    moved = await repository.create_tool(make_tool(mcp_server_id=doomed.id))
    moved = await repository.update_tool(moved.model_copy(update={"mcp_server_id": kept.id}))

    assert await repository.delete_mcp_server(doomed.id) is True

    for tool in orphaned:
        # Like a foreign key's ON DELETE SET NULL: nothing else about the tool changes.
        assert await repository.get_tool(tool.id) == tool.model_copy(update={"mcp_server_id": None})
    assert await repository.get_tool(unaffected.id) == unaffected
    assert await repository.get_tool(moved.id) == moved
    assert await repository.get_mcp_server(doomed.id) is None
    assert len(await repository.list_tools()) == 4


async def test_a_server_id_can_be_reused_without_old_tools_coming_back(
    repository: Repository,
) -> None:
    server = await repository.create_mcp_server(make_mcp_server())
    tool = await repository.create_tool(make_tool(mcp_server_id=server.id))
    await repository.delete_mcp_server(server.id)

    await repository.create_mcp_server(make_mcp_server(id=server.id))
    await repository.delete_mcp_server(server.id)

    fetched = await repository.get_tool(tool.id)
    assert fetched is not None and fetched.mcp_server_id is None
