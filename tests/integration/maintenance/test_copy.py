"""``transfer.copy_repository`` and ``compare_repositories`` between backends: everything
arrives as it was (ids, timestamps, counts, parents, order), a second run copies nothing, an
interrupted copy resumes, and what only the target holds is never touched."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import pytest

from ai_agent.domain.models import Agent, ExternalService, ExternalServiceType, MCPServer, Tool
from ai_agent.infrastructure.database import Repository
from ai_agent.infrastructure.database.transfer import (
    KINDS,
    compare_repositories,
    copy_repository,
    summarize,
)
from contract.conftest import BACKENDS
from contract.factories import at, make_message, make_session, unique

Opener = Callable[[], AbstractAsyncContextManager[Repository]]

# Source -> target pairs that matter (issue 22), plus a same-backend copy.
PAIRS = [
    pytest.param((source, target), id=f"{source}-{target}", marks=[marks[source], marks[target]])
    for marks in [{name: getattr(pytest.mark, name) for name in BACKENDS}]
    for source, target in [
        ("sqlite", "postgresql"),
        ("postgresql", "redis"),
        ("redis", "sqlite"),
        ("memory", "sqlite"),
        ("memory", "memory"),
    ]
]


def _opener(request: pytest.FixtureRequest, name: str, tmp: pytest.TempPathFactory) -> Opener:
    builder = BACKENDS[name]
    fixtures = {
        parameter: tmp.mktemp(name)
        if parameter == "tmp_path"
        else request.getfixturevalue(parameter)
        for parameter in inspect.signature(builder).parameters
    }
    return lambda: builder(**fixtures)


def _fixture(
    request: pytest.FixtureRequest, tmp: pytest.TempPathFactory, name: str, parameter: str
) -> Any:
    # Each side gets a directory of its own: two SQLite stores must not share a file.
    return tmp.mktemp(name) if parameter == "tmp_path" else request.getfixturevalue(parameter)


@pytest.fixture(params=PAIRS)
async def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Repository, Repository]]:
    source_name, target_name = request.param
    async with AsyncExitStack() as stack:
        source = await stack.enter_async_context(_opener(request, source_name, tmp_path_factory)())
        target = await stack.enter_async_context(_opener(request, target_name, tmp_path_factory)())
        yield source, target


async def _fill(repository: Repository) -> dict[str, int]:
    server = await repository.create_mcp_server(
        MCPServer(name=unique("srv"), endpoint="http://mcp", authentication={"token": "t"})
    )
    await repository.create_tool(Tool(name=unique("tool"), mcp_server_id=server.id))
    await repository.create_tool(Tool(name=unique("off"), enabled=False))
    await repository.create_agent(Agent(name=unique("agent"), tools=["a", "b"]))
    await repository.create_external_service(
        ExternalService(
            name="llm", service_type=ExternalServiceType.LLM_PROVIDER, endpoint="https://x"
        )
    )
    total = 0
    for index in range(6):
        session = await repository.create_session(
            make_session(user_id=f"user-{index % 2}", last_activity=at(1000 + index))
        )
        first = await repository.create_message(make_message(session, created_at=at(index)))
        batch = [
            make_message(session, created_at=at(index + i), parent_message_id=first.id)
            for i in range(index * 7)
        ]
        if batch:
            await repository.create_messages(batch)
        total += 1 + len(batch)
    return {"sessions": 6, "messages": total}


async def test_copy_carries_everything_exactly(pair: tuple[Repository, Repository]) -> None:
    source, target = pair
    expected = await _fill(source)

    report = await copy_repository(source, target, batch_size=4)

    assert report.conflicts == []
    assert report.copied["sessions"] == expected["sessions"]
    assert report.copied["messages"] == expected["messages"]
    assert report.copied["tools"] == 2
    assert await compare_repositories(source, target) == []
    sessions = await source.list_sessions()
    assert await target.list_sessions() == sessions  # counts, activity, order, every field
    for session in sessions:
        assert await target.get_messages_by_session(session.id, 1000) == (
            await source.get_messages_by_session(session.id, 1000)
        )


async def test_a_second_copy_writes_nothing(pair: tuple[Repository, Repository]) -> None:
    source, target = pair
    await _fill(source)
    await copy_repository(source, target)

    again = await copy_repository(source, target)

    assert sum(again.copied.values()) == 0
    assert again.conflicts == []
    held = await summarize(source)
    assert sum(again.skipped.values()) == sum(held[kind].count for kind in KINDS)
    assert await compare_repositories(source, target) == []


async def test_an_interrupted_copy_resumes(pair: tuple[Repository, Repository]) -> None:
    source, target = pair
    await _fill(source)
    handled = 0

    class Interrupted(Exception):
        pass

    def stop_midway(kind: str, count: int) -> None:
        nonlocal handled
        handled += count
        if kind == "messages" and handled > 20:
            raise Interrupted

    with pytest.raises(Interrupted):
        await copy_repository(source, target, batch_size=5, progress=stop_midway)
    assert await compare_repositories(source, target) != []

    await copy_repository(source, target, batch_size=5)

    assert await compare_repositories(source, target) == []


async def test_what_only_the_target_holds_is_kept_and_conflicts_are_named(
    pair: tuple[Repository, Repository],
) -> None:
    source, target = pair
    await _fill(source)
    own = await target.create_session(make_session(title="only in the target"))
    clash = (await source.list_sessions(limit=1))[0]
    await target.create_session(clash.model_copy(update={"title": "another version"}))

    report = await copy_repository(source, target)

    assert report.conflicts == [f"the target holds another version of session {clash.id}"]
    assert await target.get_session(own.id) is not None
    differences = await compare_repositories(source, target)
    assert any(line.startswith("sessions:") for line in differences)
