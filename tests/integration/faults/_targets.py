"""Private servers for the fault tests, behind one interface (``Target``).

PostgreSQL runs durable and is stopped in ``immediate`` mode (as ``pg_ctl stop -m immediate``);
Redis runs with an AOF (``appendfsync always``) and is SIGKILLed. Repositories get short
timeouts: a fault test must see an outage in well under a second, never wait 30 s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from redis.asyncio import Redis

from _servers import PostgresFactory, RedisFactory
from ai_agent.config.sections import RetryPolicy
from ai_agent.config.settings import RedisSettings
from ai_agent.infrastructure.database import (
    BaseRepository,
    PostgreSQLRepository,
    RedisRepository,
)
from integration.faults._proxy import any_reply, postgres_ready

PG_SETTINGS: dict[str, Any] = {
    "min_pool_size": 2,
    "max_pool_size": 10,
    "pool_timeout": 5.0,
    "connect_timeout": 2.0,
    "command_timeout": 5.0,
}
REDIS_SETTINGS: dict[str, Any] = {
    "max_connections": 20,
    "pool_timeout": 5.0,
    "socket_timeout": 2.0,
    "socket_connect_timeout": 1.0,
}

# id -> None for a session, its session's id for a message
Acknowledged = Mapping[UUID, UUID | None]
Audit = Callable[[BaseRepository, Acknowledged], Awaitable[list[str]]]


def policy(max_attempts: int, base_delay: float, max_delay: float) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=base_delay,
        max_delay=max_delay,
        exponential_base=2.0,
        jitter=True,
    )


@dataclass
class Target:
    """One private server and how the fault tests use it."""

    name: str
    url: str  # of the server itself, password included
    port: int
    down: Callable[[], None]  # blocking: take the server away (crash-like)
    up: Callable[[], object]  # blocking: start it again, same port and data
    make: Callable[..., BaseRepository]  # make(port=None): an unconnected repository;
    # Redis also takes client=: a caller's client, which the repository uses and never closes
    reply_complete: Callable[[bytes], bool]  # for ReplyLosingProxy
    marker: Callable[[UUID], bytes]  # how an id travels in a request
    # Checks of the raw store, below the repository API: every acknowledged id is there, each
    # once, and counters match what is stored. Returns the problems found.
    audit: Audit


async def _postgres_audit(url: str, acknowledged: Acknowledged) -> list[str]:
    sessions = [key for key, owner in acknowledged.items() if owner is None]
    messages = [key for key, owner in acknowledged.items() if owner is not None]
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetchval(
            "SELECT (SELECT count(*) FROM sessions WHERE id = ANY($1::uuid[]))"
            " + (SELECT count(*) FROM messages WHERE id = ANY($2::uuid[]))",
            sessions,
            messages,
        )
        miscounted = await connection.fetchval(
            "SELECT count(*) FROM sessions s WHERE message_count <> "
            "(SELECT count(*) FROM messages m WHERE m.session_id = s.id)"
        )
        copies = await connection.fetchval(
            "SELECT (SELECT count(title) - count(DISTINCT title) FROM sessions)"
            " + (SELECT count(*) - count(DISTINCT content) FROM messages)"
        )
    finally:
        await connection.close()
    found = {
        f"{len(acknowledged) - rows} acknowledged ids have no row": rows != len(acknowledged),
        f"{miscounted} sessions whose message_count is not their row count": miscounted,
        f"{copies} rows repeat another row's write": copies,
    }
    return [problem for problem, bad in found.items() if bad]


async def _redis_audit(repository: BaseRepository, acknowledged: Acknowledged) -> list[str]:
    assert isinstance(repository, RedisRepository) and repository.client is not None
    client, keys = repository.client, repository.keys
    problems = []
    for key, owner in acknowledged.items():
        where = keys.session(key) if owner is None else keys.messages(owner)
        held = await (client.exists(where) if owner is None else client.hexists(where, str(key)))
        if not held:
            problems.append(f"acknowledged {key} is not in {where}")
    for member in await client.zrange(keys.sessions, 0, -1):
        sid = str(member)  # decode_responses is on
        count = str(await client.hget(keys.session(sid), "count") or 0)
        stored = await client.hlen(keys.messages(sid))
        ordered = await client.zcard(keys.order(sid))
        if not int(count) == stored == ordered:
            problems.append(f"session {sid}: count {count}, {stored} messages, {ordered} ordered")
    return problems


def postgres_target(factory: PostgresFactory) -> Target:
    server = factory(durable=True)

    def make(port: int | None = None) -> BaseRepository:
        overrides = PG_SETTINGS if port is None else {**PG_SETTINGS, "port": port}
        return PostgreSQLRepository.from_url(server.url, **overrides)

    async def audit(repository: BaseRepository, acknowledged: Acknowledged) -> list[str]:
        return await _postgres_audit(server.url, acknowledged)

    assert server.port is not None
    return Target(
        name="postgresql",
        url=server.url,
        port=server.port,
        down=lambda: server.stop(mode="immediate"),
        up=server.start,
        make=make,
        reply_complete=postgres_ready,
        marker=lambda identity: identity.bytes,  # asyncpg binds a uuid in binary
        audit=audit,
    )


def redis_target(factory: RedisFactory) -> Target:
    server = factory(appendonly=True)
    prefix = f"faults-{uuid4().hex[:8]}"

    def make(port: int | None = None, client: Redis | None = None) -> BaseRepository:
        overrides = {**REDIS_SETTINGS, "key_prefix": prefix}
        if port is not None:
            overrides["port"] = port
        return RedisRepository(RedisSettings.from_url(server.url, **overrides), client=client)

    assert server.port is not None
    return Target(
        name="redis",
        url=server.url,
        port=server.port,
        down=server.kill,
        up=server.start,
        make=make,
        reply_complete=any_reply,
        marker=lambda identity: b"$36\r\n" + str(identity).encode(),  # a whole argument
        audit=_redis_audit,
    )
