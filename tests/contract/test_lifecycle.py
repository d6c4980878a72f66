"""connect / disconnect / health_check / ``async with``, and every method while disconnected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest

from ai_agent.infrastructure.database import Repository, RepositoryConnectionError

from .checks import snapshot
from .factories import (
    make_agent,
    make_external_service,
    make_mcp_server,
    make_message,
    make_session,
    make_tool,
)

Call = Callable[[Repository], Awaitable[Any]]

# Every operation with valid arguments, so only the connection state can make it fail.
CALLS: dict[str, Call] = {
    "create_session": lambda r: r.create_session(make_session()),
    "get_session": lambda r: r.get_session(uuid4()),
    "list_sessions": lambda r: r.list_sessions(),
    "list_sessions(user_id)": lambda r: r.list_sessions(user_id="user-1"),
    "update_session": lambda r: r.update_session(make_session()),
    "delete_session": lambda r: r.delete_session(uuid4()),
    "create_message": lambda r: r.create_message(make_message(uuid4())),
    "create_messages": lambda r: r.create_messages([make_message(uuid4())]),
    "create_messages([])": lambda r: r.create_messages([]),
    "get_message": lambda r: r.get_message(uuid4()),
    "get_messages_by_session": lambda r: r.get_messages_by_session(uuid4()),
    "get_recent_messages": lambda r: r.get_recent_messages(uuid4()),
    "update_message": lambda r: r.update_message(make_message(uuid4())),
    "delete_message": lambda r: r.delete_message(uuid4()),
    "create_agent": lambda r: r.create_agent(make_agent()),
    "get_agent": lambda r: r.get_agent(uuid4()),
    "list_agents": lambda r: r.list_agents(),
    "update_agent": lambda r: r.update_agent(make_agent()),
    "delete_agent": lambda r: r.delete_agent(uuid4()),
    "create_tool": lambda r: r.create_tool(make_tool()),
    "get_tool": lambda r: r.get_tool(uuid4()),
    "list_tools": lambda r: r.list_tools(),
    "update_tool": lambda r: r.update_tool(make_tool()),
    "delete_tool": lambda r: r.delete_tool(uuid4()),
    "create_mcp_server": lambda r: r.create_mcp_server(make_mcp_server()),
    "get_mcp_server": lambda r: r.get_mcp_server(uuid4()),
    "list_mcp_servers": lambda r: r.list_mcp_servers(),
    "update_mcp_server": lambda r: r.update_mcp_server(make_mcp_server()),
    "delete_mcp_server": lambda r: r.delete_mcp_server(uuid4()),
    "create_external_service": lambda r: r.create_external_service(make_external_service()),
    "get_external_service": lambda r: r.get_external_service(uuid4()),
    "list_external_services": lambda r: r.list_external_services(),
    "update_external_service": lambda r: r.update_external_service(make_external_service()),
    "delete_external_service": lambda r: r.delete_external_service(uuid4()),
}


async def test_the_fixture_is_connected_and_empty(repository: Repository) -> None:
    assert isinstance(repository, Repository)
    assert await repository.health_check() is True
    state = await snapshot(repository)
    assert all(not value for value in state.values())


@pytest.mark.parametrize("name", list(CALLS))
async def test_every_method_refuses_to_run_after_disconnect(
    repository: Repository, name: str
) -> None:
    session = await repository.create_session(make_session())
    before = await snapshot(repository, session.id)
    await repository.disconnect()

    with pytest.raises(RepositoryConnectionError) as raised:
        await CALLS[name](repository)

    assert "connect" in str(raised.value)
    await repository.connect()
    assert await snapshot(repository, session.id) == before


async def test_connect_is_idempotent(repository: Repository) -> None:
    session = await repository.create_session(make_session())

    await repository.connect()
    await repository.connect()

    assert await repository.get_session(session.id) == session
    assert await repository.health_check() is True


async def test_disconnect_is_idempotent_and_keeps_the_data(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = await repository.create_message(make_message(session))
    agent = await repository.create_agent(make_agent())

    await repository.disconnect()
    await repository.disconnect()
    await repository.connect()

    assert await repository.get_session(session.id) is not None
    assert await repository.get_message(message.id) == message
    assert await repository.get_agent(agent.id) == agent


async def test_reconnect_works_more_than_once(repository: Repository) -> None:
    for round_number in range(3):
        await repository.disconnect()
        assert await repository.health_check() is False
        await repository.connect()
        assert await repository.health_check() is True
        await repository.create_session(make_session(title=f"round {round_number}"))

    assert len(await repository.list_sessions()) == 3


async def test_health_check_never_raises(repository: Repository) -> None:
    assert await repository.health_check() is True
    await repository.disconnect()
    assert await repository.health_check() is False
    assert await repository.health_check() is False
    await repository.connect()
    assert await repository.health_check() is True


async def test_async_with_connects_and_disconnects(repository: Repository) -> None:
    await repository.disconnect()

    async with repository as entered:
        assert entered is repository
        assert await repository.health_check() is True
        session = await repository.create_session(make_session())

    assert await repository.health_check() is False
    with pytest.raises(RepositoryConnectionError):
        await repository.get_session(session.id)
    await repository.connect()
    assert await repository.get_session(session.id) is not None


async def test_async_with_disconnects_when_the_block_fails(repository: Repository) -> None:
    await repository.disconnect()

    with pytest.raises(LookupError):
        async with repository:
            raise LookupError("the caller's own error propagates")

    assert await repository.health_check() is False
    await repository.connect()


async def test_repr_names_the_backend_without_secrets(repository: Repository) -> None:
    text = repr(repository)

    assert type(repository).__name__ in text
    for secret_marker in ("password", "secret", "token"):
        assert secret_marker not in text.lower()
