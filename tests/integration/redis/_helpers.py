"""What the Redis backend's own tests share: message factory, key listing, the raw client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import RedisRepository

MakeRepository = Callable[..., Awaitable[RedisRepository]]


def message(session: Session, content: str = "hi", **fields: Any) -> Message:
    return Message(session_id=session.id, role=MessageRole.USER, content=content, **fields)


def raw_client(repository: RedisRepository) -> Redis | RedisCluster:
    """The connected repository's redis-py client, to look at the keys it wrote."""
    client = repository.client
    assert client is not None
    return client


async def stored_keys(repository: RedisRepository) -> set[str]:
    """Every key of the repository's prefix (SCAN: tests only)."""
    match = repository.keys.pattern()
    return {key async for key in raw_client(repository).scan_iter(match=match)}


async def ttl(repository: RedisRepository, key: str) -> int:
    return int(await raw_client(repository).ttl(key))
