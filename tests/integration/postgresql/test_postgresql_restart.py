"""Outages on a private server: calls during one fail as connection errors, and once the
server is back the next call works, without reconnecting the repository."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from _servers import PostgresServer
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import RepositoryConnectionError, migrations
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]


@pytest.fixture
async def server(postgres_server_factory: Callable[..., PostgresServer]) -> PostgresServer:
    server = await asyncio.to_thread(postgres_server_factory)
    await migrations.upgrade(server.url)
    return server


@pytest.fixture
async def repository(
    server: PostgresServer, make_repository: Callable[..., PostgreSQLRepository]
) -> AsyncIterator[PostgreSQLRepository]:
    async with make_repository(server.url, min_pool_size=2, connect_timeout=5.0) as repository:
        yield repository


async def _in_thread(call: Callable[..., Any], *args: Any) -> None:
    # The app keeps running while the server goes down and comes back (as in production):
    # the event loop sees the pooled connections close.
    await asyncio.to_thread(call, *args)


async def _append(repository: PostgreSQLRepository, session: Session) -> Message:
    return await repository.create_message(
        Message(session_id=session.id, role=MessageRole.USER, content="after")
    )


async def _message_count(repository: PostgreSQLRepository, session: Session) -> int | None:
    stored = await repository.get_session(session.id)
    return None if stored is None else stored.message_count


def _crash_and_start(server: PostgresServer) -> None:
    server.kill()  # SIGKILL: no shutdown, crash recovery on start
    server.start()


@pytest.mark.parametrize(
    "outage", [PostgresServer.restart, _crash_and_start], ids=["restart", "crash"]
)
async def test_an_outage_keeps_committed_writes_and_is_survived_without_reconnecting(
    server: PostgresServer,
    repository: PostgreSQLRepository,
    outage: Callable[[PostgresServer], None],
) -> None:
    session = await repository.create_session(Session(user_id="u"))
    await _append(repository, session)
    await _in_thread(outage, server)

    await _append(repository, session)  # the very next call works: the pool recovers
    assert await _message_count(repository, session) == 2


async def test_calls_during_an_outage_fail_as_connection_errors_then_work(
    server: PostgresServer, repository: PostgreSQLRepository
) -> None:
    session = await repository.create_session(Session(user_id="u"))
    await _in_thread(server.stop)

    with pytest.raises(RepositoryConnectionError) as error:
        await repository.get_session(session.id)
    assert server.password not in str(error.value)
    with pytest.raises(RepositoryConnectionError):
        await _append(repository, session)
    assert not await repository.health_check()

    await _in_thread(server.start)
    assert await repository.health_check()
    await _append(repository, session)
    assert await _message_count(repository, session) == 1


async def test_a_transaction_cut_by_a_restart_fails_and_the_next_one_works(
    server: PostgresServer, repository: PostgreSQLRepository
) -> None:
    session = await repository.create_session(Session(user_id="u"))
    with pytest.raises(RepositoryConnectionError):
        async with repository.transaction():
            await _append(repository, session)
            await _in_thread(server.restart)
            await _append(repository, session)

    async with repository.transaction():
        await _append(repository, session)
    assert await _message_count(repository, session) == 1


async def test_disconnecting_while_the_server_is_down_does_not_raise(
    server: PostgresServer, repository: PostgreSQLRepository
) -> None:
    await repository.list_sessions()
    await _in_thread(server.stop)
    await repository.disconnect()
    assert not repository.is_connected
