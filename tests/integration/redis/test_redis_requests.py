"""What requests cost: no KEYS or SCAN anywhere, and few round trips per call.

Round trips are counted by a real connection class that counts what it sends (one
``send_packed_command`` is one request: a command, a pipeline or a script call).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import Connection

from _servers import RedisFactory, RedisServer
from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import Agent, Session, Tool
from ai_agent.infrastructure.database import RedisRepository
from integration.redis._helpers import message


class CountingConnection(Connection):
    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
def server(redis_server_factory: RedisFactory) -> RedisServer:
    return redis_server_factory()


@pytest.fixture
async def repository(server: RedisServer) -> AsyncIterator[RedisRepository]:
    pool = BlockingConnectionPool(
        connection_class=CountingConnection,
        host="127.0.0.1",
        port=server.port,
        decode_responses=True,
    )
    client = Redis.from_pool(pool)
    settings = RedisSettings.from_url(server.url, key_prefix=f"t{uuid4().hex}")
    try:
        async with RedisRepository(settings, client=client) as repository:
            yield repository
    finally:
        await client.aclose()


class RoundTrips:
    def __enter__(self) -> RoundTrips:
        self.start = CountingConnection.sent
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.count = CountingConnection.sent - self.start


def command_stats(server: RedisServer) -> set[str]:
    info = server.command("INFO", "commandstats")
    assert isinstance(info, str)
    lines = [line for line in info.splitlines() if ":" in line]
    return {line.split(":")[0].removeprefix("cmdstat_") for line in lines}


async def test_no_request_uses_keys_or_scan(
    server: RedisServer, repository: RedisRepository
) -> None:
    server.command("CONFIG", "RESETSTAT")
    sessions = [await repository.create_session(Session(user_id=f"u{i % 3}")) for i in range(20)]
    for session in sessions[:5]:
        await repository.create_messages([message(session, "hello"), message(session, "hello")])
        first, *_ = await repository.get_messages_by_session(session.id)
        await repository.update_message(first)
        await repository.get_recent_messages(session.id, 1)
        await repository.get_message(first.id)
        await repository.delete_message(first.id)
    await repository.list_sessions()
    await repository.list_sessions("u1", limit=2, offset=3)
    await repository.delete_session(sessions[0].id)
    await repository.create_tool(Tool(name="t"))
    await repository.list_tools()
    await repository.list_agents()

    used = command_stats(server)
    assert "evalsha" in used
    assert not used & {"keys", "scan", "hscan", "zscan", "sscan"}, used


async def test_writes_are_one_round_trip(repository: RedisRepository) -> None:
    session = await repository.create_session(Session(user_id="u"))
    with RoundTrips() as trips:
        await repository.create_message(message(session, "hello"))
    assert trips.count == 1
    other = await repository.create_session(Session())
    with RoundTrips() as trips:
        await repository.create_messages(
            [message(session, "hello"), message(other, "hello"), message(session, "hello")]
        )
    assert trips.count == 1
    with RoundTrips() as trips:
        await repository.delete_session(session.id)
    assert trips.count == 1


async def test_lists_read_many_records_per_round_trip(repository: RedisRepository) -> None:
    sessions = [await repository.create_session(Session(user_id="u")) for _ in range(120)]
    await repository.create_messages([message(sessions[0], "hello") for _ in range(300)])
    for index in range(150):
        await repository.create_agent(Agent(name=f"agent-{index:03}"))

    with RoundTrips() as trips:
        listed = await repository.list_sessions("u", limit=100)
    assert len(listed) == 100
    assert trips.count == 1  # the index page and every session: one script (single server)
    with RoundTrips() as trips:
        assert len(await repository.list_agents(limit=100, offset=20)) == 100
    assert trips.count == 1
    with RoundTrips() as trips:
        assert len(await repository.get_messages_by_session(sessions[0].id, limit=200)) == 200
    assert trips.count == 1
    with RoundTrips() as trips:
        assert len(await repository.get_recent_messages(sessions[0].id, 10)) == 10
    assert trips.count == 1


async def test_conversation_helpers_cost_one_round_trip_per_step(
    server: RedisServer, repository: RedisRepository
) -> None:
    session = await repository.create_session(Session())
    for _ in range(5):
        await repository.create_messages([message(session, "hello") for _ in range(500)])

    server.command("CONFIG", "RESETSTAT")
    with RoundTrips() as trips:  # one per page, however deep into the history it starts
        assert len([m async for m in repository.iter_messages(session.id, 1000)]) == 2500
    assert trips.count == 3
    with RoundTrips() as trips:
        assert await repository.pop_message(session.id) is not None
    assert trips.count == 1
    with RoundTrips() as trips:
        assert await repository.clear_messages(session.id) == 2499
    assert trips.count == 1
    assert not command_stats(server) & {"keys", "scan", "hscan", "zscan", "sscan"}
