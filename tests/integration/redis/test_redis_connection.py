"""Connection handling: blocking pool, timeouts, credentials, restarts, errors, ownership."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import SSLConnection

from _servers import RedisFactory, RedisServer
from ai_agent.config import feature_flags
from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import (
    RedisRepository,
    RepositoryConnectionError,
    RepositoryError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.redis._connection import build_client
from integration.redis._helpers import MakeRepository, message

PASSWORD = "p@ss:w/rd%#?"


def connected_clients(server: RedisServer) -> int:
    info = server.command("INFO", "clients")
    assert isinstance(info, str)
    line = next(line for line in info.splitlines() if line.startswith("connected_clients:"))
    return int(line.split(":")[1]) - 1  # not counting the connection asking


@pytest.fixture
async def private(redis_server_factory: RedisFactory) -> AsyncIterator[RedisServer]:
    yield redis_server_factory(appendonly=True)


def repository_on(server: RedisServer, **overrides: object) -> RedisRepository:
    return RedisRepository.from_url(server.url, key_prefix=f"t{uuid4().hex}", **overrides)


async def test_a_burst_waits_for_a_free_connection(make_repository: MakeRepository) -> None:
    repository = await make_repository(max_connections=5, pool_timeout=10)
    sessions = [await repository.create_session(Session()) for _ in range(50)]

    found = await asyncio.gather(*(repository.get_session(s.id) for s in sessions))
    assert found == sessions  # 50 at once, 5 connections (per node): nobody failed


async def test_the_pool_never_opens_more_than_max_connections(private: RedisServer) -> None:
    async with repository_on(private, max_connections=5) as repository:
        session = await repository.create_session(Session())
        burst = [repository.create_message(message(session, "hello")) for _ in range(50)]
        await asyncio.gather(*burst)
        assert connected_clients(private) <= 5
        stored = await repository.get_session(session.id)
        assert stored is not None
        assert stored.message_count == 50


async def test_waiting_longer_than_pool_timeout_fails(private: RedisServer) -> None:
    async with repository_on(private, max_connections=1, pool_timeout=0.2) as repository:
        client = repository.client
        assert isinstance(client, Redis)

        async def hold_the_only_connection() -> None:
            await client.blpop(["nothing"], timeout=1)

        blocker = asyncio.create_task(hold_the_only_connection())
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(RepositoryConnectionError, match="unavailable"):
            await repository.get_session(uuid4())
        assert time.monotonic() - started < 0.9
        await blocker
        assert await repository.get_session(uuid4()) is None


async def test_a_password_with_url_special_characters_connects(
    redis_server_factory: RedisFactory,
) -> None:
    server = redis_server_factory(password=PASSWORD)
    assert "%40" in server.url  # the URL carries it percent-escaped
    repository = repository_on(server)
    assert PASSWORD not in repr(repository)
    assert PASSWORD not in repository.display_url
    async with repository:
        session = await repository.create_session(Session())
        assert await repository.get_session(session.id) == session

    wrong = RedisRepository(RedisSettings.from_url(server.url, password="not-it"))
    with pytest.raises(RepositoryConnectionError) as caught:
        await wrong.connect()
    assert "not-it" not in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_a_killed_and_restarted_server_is_reconnected(private: RedisServer) -> None:
    async with repository_on(private) as repository:
        session = await repository.create_session(Session())
        await repository.create_message(message(session, "hello"))

        private.kill()
        started = time.monotonic()
        with pytest.raises(RepositoryConnectionError):
            await repository.get_session(session.id)
        assert time.monotonic() - started < 2  # the outage shows at once
        assert await repository.health_check() is False

        private.start()  # same port; the AOF brings the data back, not the script cache
        assert await repository.health_check() is True
        await repository.create_message(message(session, "hello"))  # NOSCRIPT -> loaded again
        stored = await repository.get_session(session.id)
        assert stored is not None
        assert stored.message_count == 2


async def test_an_unresponsive_server_times_out(private: RedisServer) -> None:
    overrides = {"socket_timeout": 0.3, "retry_on_timeout": False}
    async with repository_on(private, **overrides) as repository:
        private.pause()
        try:
            started = time.monotonic()
            with pytest.raises(RepositoryConnectionError, match="Timeout"):
                await repository.get_session(uuid4())
            assert time.monotonic() - started < 1.5
        finally:
            private.resume()
        assert await repository.get_session(uuid4()) is None


async def test_a_flushed_script_cache_is_reloaded(make_repository: MakeRepository) -> None:
    repository = await make_repository()
    client = repository.client
    assert client is not None
    session = await repository.create_session(Session())
    await client.script_flush()
    await repository.create_message(message(session, "hello"))
    assert [m.session_id for m in await repository.get_recent_messages(session.id)] == [session.id]


async def test_an_unreachable_server_fails_to_connect_quickly() -> None:
    repository = RedisRepository.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(RepositoryConnectionError, match=r"127\.0\.0\.1:1\b"):
        await repository.connect()
    assert time.monotonic() - started < 2
    assert repository.is_connected is False


async def test_a_client_passed_in_is_used_and_never_closed(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        settings = RedisSettings.from_url(redis_url, key_prefix=f"t{uuid4().hex}")
        repository = RedisRepository(settings, client=client)
        assert repository.owns_client is False
        async with repository:
            session = await repository.create_session(Session())
            await repository.delete_session(session.id)
        assert await client.ping() is True  # still open
    finally:
        await client.aclose()

    undecoded = Redis.from_url(redis_url)
    try:
        with pytest.raises(RepositoryValidationError, match="decode_responses"):
            RedisRepository(settings, client=undecoded)
    finally:
        await undecoded.aclose()


async def test_a_repository_reconnects_after_disconnect(make_repository: MakeRepository) -> None:
    repository = await make_repository()
    session = await repository.create_session(Session())
    await repository.disconnect()
    with pytest.raises(RepositoryConnectionError, match="not connected"):
        await repository.get_session(session.id)
    await repository.connect()
    assert await repository.get_session(session.id) == session


async def test_redis_errors_are_translated(make_repository: MakeRepository) -> None:
    repository = await make_repository()
    client = repository.client
    assert client is not None
    session = await repository.create_session(Session())
    await client.set(repository.keys.order(session.id), "not a sorted set")

    with pytest.raises(RepositoryError, match="WRONGTYPE") as caught:
        await repository.create_message(message(session, "hello"))  # fails inside the script
    assert type(caught.value) is RepositoryError
    with pytest.raises(RepositoryError, match="WRONGTYPE"):
        await repository.get_messages_by_session(session.id)


def test_tls_and_credentials_come_from_the_settings() -> None:
    settings = RedisSettings(
        host="cache.internal", ssl=True, username="app", password=SecretStr(PASSWORD), db=3
    )
    client = build_client(settings)
    assert isinstance(client, Redis)
    pool = client.connection_pool
    assert pool.connection_class is SSLConnection
    assert pool.connection_kwargs["password"] == PASSWORD
    assert pool.connection_kwargs["username"] == "app"
    assert pool.connection_kwargs["db"] == 3
    assert pool.connection_kwargs["decode_responses"] is True
    assert PASSWORD not in RedisRepository(settings).display_url


@pytest.mark.parametrize("cluster_mode", [False, True], ids=["single", "cluster"])
def test_redis_py_never_resends_a_command_by_itself(cluster_mode: bool) -> None:
    """A resent create script would meet its own record and fail as a duplicate."""
    client = build_client(RedisSettings(cluster_mode=cluster_mode))
    if isinstance(client, RedisCluster):
        assert client.retry.get_retries() == 0  # no topology refresh and resend either
    else:
        assert client.connection_pool.connection_kwargs["retry"].get_retries() == 0


async def test_only_a_read_is_resent_after_the_server_closed_its_connection(
    private: RedisServer,
) -> None:
    """The server closes the pooled connection just before a command is sent on it.

    ``private.command`` blocks the event loop, so the pool cannot see the close when it
    lends the connection: the race a restart leaves open. A read is sent again on a fresh
    connection; a script is not (it could have been applied), so it fails, and unapplied.
    """
    async with repository_on(private, max_connections=1) as repository:
        session = await repository.create_session(Session())
        with feature_flags.override("retries", False):
            private.command("CLIENT", "KILL", "TYPE", "normal")
            assert await repository.get_session(session.id) == session

            private.command("CLIENT", "KILL", "TYPE", "normal")
            with pytest.raises(RepositoryConnectionError, match="closed"):
                await repository.create_session(new := Session())
            assert await repository.get_session(new.id) is None
