"""``limit`` must be 1..1000 and ``offset`` >= 0 on every paged read, or nothing is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest

from ai_agent.infrastructure.database import Repository, RepositoryValidationError

from .factories import make_external_service, make_message, make_session

SESSION = uuid4()

# name -> call(repository, **page)
PAGED: dict[str, Callable[..., Awaitable[list[Any]]]] = {
    "list_sessions": lambda r, **page: r.list_sessions(**page),
    "list_sessions(user_id)": lambda r, **page: r.list_sessions("user-1", **page),
    "get_messages_by_session": lambda r, **page: r.get_messages_by_session(SESSION, **page),
    "list_agents": lambda r, **page: r.list_agents(**page),
    "list_tools": lambda r, **page: r.list_tools(**page),
    "list_mcp_servers": lambda r, **page: r.list_mcp_servers(**page),
    "list_external_services": lambda r, **page: r.list_external_services(**page),
}
LIMITED = {**PAGED, "get_recent_messages": lambda r, **page: r.get_recent_messages(SESSION, **page)}

BAD_LIMITS = [0, -1, 1001, 10**30, True, False, "10", 10.0, None]
BAD_OFFSETS = [-1, -(10**30), True, "0", 1.5, None]


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
@pytest.mark.parametrize("name", list(LIMITED))
async def test_limit_out_of_range(repository: Repository, name: str, limit: Any) -> None:
    with pytest.raises(RepositoryValidationError) as raised:
        await LIMITED[name](repository, limit=limit)
    assert "limit" in str(raised.value)


@pytest.mark.parametrize("offset", BAD_OFFSETS, ids=repr)
@pytest.mark.parametrize("name", list(PAGED))
async def test_offset_out_of_range(repository: Repository, name: str, offset: Any) -> None:
    with pytest.raises(RepositoryValidationError) as raised:
        await PAGED[name](repository, offset=offset)
    assert "offset" in str(raised.value)


@pytest.mark.parametrize("name", list(LIMITED))
async def test_bounds_themselves_are_accepted(repository: Repository, name: str) -> None:
    assert await LIMITED[name](repository, limit=1000) == []
    assert await LIMITED[name](repository, limit=1) == []


@pytest.mark.parametrize("name", list(PAGED))
async def test_large_offsets_are_empty_pages(repository: Repository, name: str) -> None:
    assert await PAGED[name](repository, offset=10**6) == []


async def test_limit_1000_returns_a_full_page(repository: Repository) -> None:
    session = await repository.create_session(make_session(id=SESSION))
    batch = [make_message(session) for _ in range(1001)]
    await repository.create_messages(batch)
    for _ in range(3):
        await repository.create_external_service(make_external_service(name="same"))

    assert len(await repository.get_messages_by_session(SESSION, limit=1000)) == 1000
    assert len(await repository.get_recent_messages(SESSION, limit=1000)) == 1000
    recent = await repository.get_recent_messages(SESSION, limit=1000)
    assert recent[0].id == batch[1].id and recent[-1].id == batch[-1].id
    tail = await repository.get_messages_by_session(SESSION, limit=1000, offset=1000)
    assert [m.id for m in tail] == [batch[-1].id]
    assert len(await repository.list_external_services(limit=2, offset=1)) == 2
