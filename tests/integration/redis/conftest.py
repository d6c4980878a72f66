"""Fixtures for the Redis backend's own tests (this folder has no ``__init__.py`` on purpose:
a package named ``redis`` would shadow redis-py).

- ``target``: parametrized over the shared single server and the shared cluster, as
  ``(url, cluster_mode)``; tests using it run on both (marks ``redis`` / ``redis_cluster``).
- ``make_repository(**settings)``: a connected ``RedisRepository`` with a fresh key prefix on
  ``target``; every key of that prefix is deleted after the test.
- ``single_url`` / ``cluster_url``: the shared servers, for tests of one kind only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from ai_agent.config.settings import RedisSettings
from ai_agent.infrastructure.database import RedisRepository
from integration.redis._helpers import MakeRepository, raw_client

Target = tuple[str, bool]


@pytest.fixture(
    params=[
        pytest.param("single", marks=pytest.mark.redis, id="single"),
        pytest.param("cluster", marks=pytest.mark.redis_cluster, id="cluster"),
    ]
)
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "single":
        return request.getfixturevalue("redis_url"), False
    return request.getfixturevalue("redis_cluster_url"), True


async def purge(repository: RedisRepository) -> None:
    """Delete every key of the repository's prefix (SCAN: test cleanup, not a request path)."""
    client = raw_client(repository)
    keys = [key async for key in client.scan_iter(match=repository.keys.pattern(), count=1000)]
    for key in keys:  # one at a time: on a cluster they span slots
        await client.delete(key)


@pytest.fixture
async def make_repository(target: Target) -> AsyncIterator[MakeRepository]:
    url, cluster_mode = target
    made: list[RedisRepository] = []

    async def make(**overrides: Any) -> RedisRepository:
        overrides.setdefault("key_prefix", f"test-{uuid4().hex}")
        settings = RedisSettings.from_url(url, cluster_mode=cluster_mode, **overrides)
        repository = RedisRepository(settings)
        made.append(repository)
        await repository.connect()
        return repository

    yield make
    for repository in made:
        await repository.connect()
        await purge(repository)
        await repository.disconnect()
