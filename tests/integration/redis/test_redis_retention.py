"""Retention (prune, count, trim, long sessions) at the key level, on a single server and a
cluster (``target``): nothing left behind, TTLs, the activity re-check, no KEYS or SCAN."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database import RedisRepository
from ai_agent.infrastructure.database.redis import _codec
from integration.redis._helpers import MakeRepository, message, raw_client, stored_keys

NOW = utc_now()
OLD = NOW - timedelta(days=40)
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture
async def repository(make_repository: MakeRepository) -> RedisRepository:
    return await make_repository()


async def conversation(
    repository: RedisRepository, count: int, at: datetime | None = None, **fields: Any
) -> list[Message]:
    """A session with ``count`` messages, each replying to the one before; ``at``: when it
    and its messages were last active (now when ``None``)."""
    when = utc_now() if at is None else at
    session = await repository.create_session(Session(last_activity=when, **fields))
    made: list[Message] = []
    for index in range(count):
        parent = made[-1].id if made else None
        stamp = when - timedelta(microseconds=count - index)
        made.append(
            await repository.create_message(
                message(session, parent_message_id=parent, created_at=stamp)
            )
        )
    return made


async def test_a_pruned_session_leaves_no_key_behind(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=3600)
    old = await conversation(repository, 12, OLD, user_id="u")
    recent = await conversation(repository, 3, user_id="u")
    before = await stored_keys(repository)

    assert await repository.count_inactive_sessions(CUTOFF) == (1, 12)
    assert await repository.prune_sessions(CUTOFF) == (1, 12)

    sid = str(old[0].session_id)
    left = await stored_keys(repository)
    assert not {key for key in left if sid in key}
    assert not {key for key in left for m in old if str(m.id) in key}  # no pointer either
    assert left == {key for key in before if sid not in key and not _names(key, old)}
    client, keys = raw_client(repository), repository.keys
    for index in (keys.sessions, keys.user_sessions("u")):
        assert await client.zscore(index, sid) is None, index
        assert await client.zscore(index, str(recent[0].session_id)) is not None, index
    assert await repository.prune_sessions(CUTOFF) == (0, 0)


async def test_a_session_an_append_moved_past_the_cutoff_survives(
    repository: RedisRepository,
) -> None:
    client, keys = raw_client(repository), repository.keys
    moved = await conversation(repository, 2)
    prunable = await repository.create_session(Session(last_activity=OLD))
    # As a prune sees an index it read before an append moved the session forward (or a
    # cluster's index after a crash between a script and its index step): a stale score.
    sid = str(moved[0].session_id)
    await client.zadd(keys.sessions, {sid: _codec.micros(OLD) - 1}, xx=True)

    assert await repository.prune_sessions(CUTOFF, limit=1) == (1, 0)  # kept: not counted

    stored = await repository.get_session(moved[0].session_id)
    assert stored is not None and stored.message_count == 2
    assert await repository.get_session(prunable.id) is None
    assert await client.zscore(keys.sessions, sid) == _codec.micros(stored.last_activity)
    assert await repository.prune_sessions(CUTOFF) == (0, 0)


async def test_entries_of_expired_sessions_are_dropped_on_the_way(
    repository: RedisRepository,
) -> None:
    client, keys = raw_client(repository), repository.keys
    expired = [await repository.create_session(Session(last_activity=OLD)) for _ in range(3)]
    for session in expired:  # what expiry does: the session's keys go, its entry stays
        for key in keys.session_slot(session.id):
            await client.delete(key)
    prunable = await repository.create_session(Session(last_activity=OLD + timedelta(days=1)))

    assert await repository.count_inactive_sessions(CUTOFF) == (1, 0)
    assert await repository.prune_sessions(CUTOFF, limit=1) == (1, 0)

    assert await repository.get_session(prunable.id) is None
    assert await client.zcard(keys.sessions) == 0


async def test_trim_removes_as_delete_message_does_and_refreshes_the_ttl(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository(session_ttl=300)
    client, keys = raw_client(repository), repository.keys
    made = await conversation(repository, 10)
    session_id = made[0].session_id
    for key in keys.session_slot(session_id):
        await client.expire(key, 5)

    assert await repository.trim_messages(session_id, keep=3, limit=4) == 4
    for key in keys.session_slot(session_id):
        assert await client.ttl(key) > 290, key
    assert await repository.trim_messages(session_id, keep=3) == 3
    assert await repository.trim_messages(session_id, keep=3) == 0

    kept = await repository.get_messages_by_session(session_id)
    assert [m.id for m in kept] == [m.id for m in made[7:]]
    assert kept[0].parent_message_id is None  # its parent went: the link is cleared
    assert kept[1].parent_message_id == made[7].id
    stored = await repository.get_session(session_id)
    assert stored is not None and stored.message_count == 3
    replies = await client.hgetall(keys.replies(session_id))
    assert set(replies) == {str(made[7].id), str(made[8].id)}
    for gone in made[:7]:
        assert await client.exists(keys.pointer(gone.id)) == 0
        assert await repository.get_message(gone.id) is None
    assert await repository.get_message(made[7].id) == kept[0]


async def test_long_sessions_walks_every_session_in_id_order(repository: RedisRepository) -> None:
    made = [await repository.create_session(Session()) for _ in range(1200)]  # > one chunk
    for session in made[::100]:
        await repository.create_messages([message(session) for _ in range(3)])
    expected = sorted((s.id, 3) for s in made[::100])

    pages, after = [], None
    while page := await repository.long_sessions(2, after, limit=5):
        pages.append(page)
        after = page[-1][0]

    assert [entry for page in pages for entry in page] == expected
    assert [len(page) for page in pages] == [5, 5, 2]


async def test_retention_uses_no_keys_or_scan(repository: RedisRepository) -> None:
    client = raw_client(repository)
    made = await conversation(repository, 5, OLD)
    await conversation(repository, 2)
    nodes: dict[str, Any] = (
        {"target_nodes": RedisCluster.ALL_NODES} if isinstance(client, RedisCluster) else {}
    )
    await client.config_resetstat(**nodes)

    assert await repository.count_inactive_sessions(CUTOFF) == (1, 5)
    await repository.long_sessions(1)
    await repository.trim_messages(made[0].session_id, keep=2)
    assert await repository.prune_sessions(CUTOFF) == (1, 2)

    info = await client.info("commandstats", **nodes)
    stats = info.values() if isinstance(client, RedisCluster) else [info]
    used = {name.removeprefix("cmdstat_") for node in stats for name in node}
    assert {"evalsha", "zrangebyscore"} <= used, used
    assert not used & {"keys", "scan", "hscan", "zscan", "sscan"}, used


def _names(key: str, messages: list[Message]) -> bool:
    return any(str(m.id) in key for m in messages)
