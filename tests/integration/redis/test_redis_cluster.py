"""Cluster specifics: what is repaired when a crash leaves cross-slot keys behind, and what
is sent again when a node closes its connections.

Each test injects the state a crash between two steps would leave (documented in the
package docstring) by editing keys directly, then shows the repository repairing it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from redis.asyncio.cluster import RedisCluster

from _servers import RedisClusterFactory
from ai_agent.config import feature_flags
from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    RedisRepository,
    RepositoryConnectionError,
    RepositoryError,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
async def repository(redis_cluster_url: str) -> AsyncIterator[RedisRepository]:
    prefix = f"test-{uuid4().hex}"
    settings = RedisSettings.from_url(redis_cluster_url, key_prefix=prefix, cluster_mode=True)
    async with RedisRepository(settings) as repository:
        yield repository
        client = repository.client
        assert client is not None
        async for key in client.scan_iter(match=f"{prefix}:*"):
            await client.delete(key)


def cluster(repository: RedisRepository) -> RedisCluster:
    client = repository.client
    assert isinstance(client, RedisCluster)
    return client


def message(session: Session, **fields: object) -> Message:
    return Message.model_validate(
        {"session_id": session.id, "role": MessageRole.USER, "content": "hi", **fields}
    )


async def test_an_index_entry_lost_in_a_crash_returns_with_the_next_write(
    repository: RedisRepository,
) -> None:
    client, keys = cluster(repository), repository.keys
    session = await repository.create_session(Session(user_id="u"))
    await client.zrem(keys.sessions, str(session.id))  # the crash: script ran, ZADD did not
    await client.zrem(keys.user_sessions("u"), str(session.id))
    assert await repository.list_sessions("u") == []

    await repository.create_message(message(session))
    assert [s.id for s in await repository.list_sessions("u")] == [session.id]
    assert [s.id for s in await repository.list_sessions()] == [session.id]


async def test_a_stale_score_is_fixed_when_listed(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    older = await repository.create_session(Session(last_activity=T0))
    newer = await repository.create_session(Session(last_activity=T0 + timedelta(hours=1)))
    await client.zadd(keys.sessions, {str(older.id): 9e15})  # as if an update's ZADD was lost

    assert [s.id for s in await repository.list_sessions()] == [newer.id, older.id]
    fixed = (T0 - EPOCH) // timedelta(microseconds=1)
    assert await client.zscore(keys.sessions, str(older.id)) == float(fixed)


async def test_an_entry_of_another_user_is_dropped_when_listed(
    repository: RedisRepository,
) -> None:
    client, keys = cluster(repository), repository.keys
    mine = await repository.create_session(Session(user_id="alice"))
    moved = await repository.create_session(Session(user_id="bob"))
    await client.zadd(keys.user_sessions("alice"), {str(moved.id): 1})  # a lost ZREM

    assert [s.id for s in await repository.list_sessions("alice")] == [mine.id]
    assert await client.zscore(keys.user_sessions("alice"), str(moved.id)) is None


async def test_an_old_pointer_left_by_a_crash_is_taken_over(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    elsewhere = await repository.create_session(Session())
    session = await repository.create_session(Session())
    new = message(session)
    await client.set(keys.pointer(new.id), f"{elsewhere.id}|0")  # claimed, never written

    await repository.create_message(new)
    assert await repository.get_message(new.id) == new
    assert str(await client.get(keys.pointer(new.id))).startswith(str(session.id))


async def test_a_fresh_claim_by_another_session_is_a_conflict(
    repository: RedisRepository,
) -> None:
    client, keys = cluster(repository), repository.keys
    elsewhere = await repository.create_session(Session())
    session = await repository.create_session(Session())
    new = message(session)
    now = (datetime.now(UTC) - EPOCH) // timedelta(microseconds=1)
    claim = f"{elsewhere.id}|{now}"
    await client.set(keys.pointer(new.id), claim)  # a create in flight elsewhere

    with pytest.raises(ConflictError, match="retry"):
        await repository.create_message(new)
    assert await client.get(keys.pointer(new.id)) == claim
    assert await repository.get_messages_by_session(session.id) == []


async def test_a_message_id_is_unique_across_sessions(repository: RedisRepository) -> None:
    first = await repository.create_session(Session())
    second = await repository.create_session(Session())
    taken = await repository.create_message(message(first))
    with pytest.raises(DuplicateError):
        await repository.create_message(message(second, id=taken.id))
    assert await repository.get_messages_by_session(second.id) == []


async def test_a_lost_pointer_is_restored_by_update(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    session = await repository.create_session(Session())
    stored = await repository.create_message(message(session))
    await client.delete(keys.pointer(stored.id))
    assert await repository.get_message(stored.id) is None

    stored.content = "edited"
    await repository.update_message(stored)
    found = await repository.get_message(stored.id)
    assert found is not None
    assert found.content == "edited"


async def test_a_dangling_pointer_is_dropped_by_delete(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    session = await repository.create_session(Session())
    ghost = uuid4()
    await client.set(keys.pointer(ghost), f"{session.id}|0")
    assert await repository.delete_message(ghost) is False
    assert await client.exists(keys.pointer(ghost)) == 0

    in_flight = uuid4()  # claimed a moment ago by a create not yet written: left alone
    now = (datetime.now(UTC) - EPOCH) // timedelta(microseconds=1)
    await client.set(keys.pointer(in_flight), f"{session.id}|{now}")
    assert await repository.delete_message(in_flight) is False
    assert await client.exists(keys.pointer(in_flight)) == 1


async def sessions_on_two_nodes(repository: RedisRepository) -> tuple[Session, Session]:
    client = cluster(repository)
    first = await repository.create_session(Session())
    node = client.get_node_from_key(repository.keys.session(first.id))
    while True:
        other = Session()
        if client.get_node_from_key(repository.keys.session(other.id)) != node:
            return first, await repository.create_session(other)


async def test_a_batch_over_two_nodes_is_all_or_nothing(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    first, second = await sessions_on_two_nodes(repository)
    batch = [message(first), message(first), message(second, parent_message_id=uuid4())]

    with pytest.raises(NotFoundError, match="parent message"):
        await repository.create_messages(batch)
    for session in (first, second):
        assert await repository.get_messages_by_session(session.id) == []
    assert [await client.exists(keys.pointer(m.id)) for m in batch] == [0, 0, 0]

    stored = await repository.create_messages([*batch[:2], message(second)])
    assert [m.id for m in await repository.get_messages_by_session(first.id)] == [
        m.id for m in stored[:2]
    ]


async def test_a_part_that_fails_while_writing_is_undone(repository: RedisRepository) -> None:
    client, keys = cluster(repository), repository.keys
    first, second = await sessions_on_two_nodes(repository)
    # Corrupt the second session so its part fails after validation, while being written.
    await client.set(keys.order(second.id), "not a sorted set")
    batch = [message(first), message(first), message(second)]

    with pytest.raises(RepositoryError, match="WRONGTYPE"):
        await repository.create_messages(batch)
    stored = await repository.get_session(first.id)
    assert stored is not None
    assert stored.message_count == 0
    assert await repository.get_messages_by_session(first.id) == []
    assert [await client.exists(keys.pointer(m.id)) for m in batch] == [0, 0, 0]


async def test_deleting_a_session_removes_its_cross_slot_keys(
    repository: RedisRepository,
) -> None:
    client, keys = cluster(repository), repository.keys
    session = await repository.create_session(Session(user_id="u"))
    created = await repository.create_messages([message(session) for _ in range(3)])
    assert await repository.delete_session(session.id) is True
    assert [await client.exists(keys.pointer(m.id)) for m in created] == [0, 0, 0]
    assert await client.zscore(keys.sessions, str(session.id)) is None
    assert await client.zscore(keys.user_sessions("u"), str(session.id)) is None
    assert await repository.get_message(created[0].id) is None


async def test_a_killed_and_restarted_cluster_node_is_reconnected(
    redis_cluster_factory: RedisClusterFactory,
) -> None:
    servers = redis_cluster_factory(appendonly=True)
    settings = RedisSettings.from_url(servers.url, key_prefix="restart", cluster_mode=True)
    async with RedisRepository(settings) as repository:
        client = cluster(repository)
        session = await repository.create_session(Session())
        await repository.create_message(message(session))
        node = client.get_node_from_key(repository.keys.session(session.id))
        assert node is not None
        victim = next(server for server in servers.nodes if server.port == node.port)

        victim.kill()
        started = time.monotonic()
        with pytest.raises(RepositoryConnectionError):
            await repository.get_session(session.id)
        assert time.monotonic() - started < 3  # the outage shows, it is not retried away

        servers.start()  # the same node, port and data; its script cache is empty
        await repository.create_message(message(session))
        stored = await repository.get_session(session.id)
        assert stored is not None
        assert stored.message_count == 2


async def test_a_node_that_closed_its_connections_gets_only_reads_resent(
    redis_cluster_factory: RedisClusterFactory,
) -> None:
    """Like the single-server test in ``test_redis_connection.py``, on the node of a slot.

    redis-py's cluster client would refresh the topology and send the script again: it must
    not (a create whose reply was lost would then fail as a duplicate of itself).
    """
    servers = redis_cluster_factory()
    settings = RedisSettings.from_url(servers.url, key_prefix="resend", cluster_mode=True)
    async with RedisRepository(settings) as repository:
        client = cluster(repository)
        session = await repository.create_session(Session())
        new = Session(id=uuid4())
        for target in (session, new):
            node = client.get_node_from_key(repository.keys.session(target.id))
            assert node is not None
            owner = next(server for server in servers.nodes if server.port == node.port)
            with feature_flags.override("retries", False):
                await repository.get_session(target.id)  # a connection to that node, idle
                owner.command("CLIENT", "KILL", "TYPE", "normal")  # blocks: unseen by the loop
                if target is session:
                    assert await repository.get_session(session.id) == session
                else:
                    with pytest.raises(RepositoryConnectionError):
                        await repository.create_session(new)
                    assert await repository.get_session(new.id) is None
