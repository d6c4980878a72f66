"""The ``repository`` fixture: every contract test runs once per backend in ``BACKENDS``.

A backend builder is an async context manager function (an async generator decorated with
``@asynccontextmanager``). Its parameters are names of pytest fixtures, which are resolved
for it like a fixture's own parameters (``tmp_path``, ``postgres_url``, ``redis_url``,
``redis_cluster_url``...). It yields a CONNECTED repository over an EMPTY store and, after
the test, removes whatever the test stored (tests that disconnect reconnect before they end,
so the builder may use the repository for its cleanup). Adding a backend::

    @asynccontextmanager
    async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Repository]:
        repository = SQLiteRepository(...)        # migrate first: constructors never do
        async with repository:
            yield repository

    BACKENDS = {"memory": memory_backend, "sqlite": sqlite_backend}

The key names the backend in test ids (``test_x[sqlite]``) and is also the pytest mark
applied to its tests (declared in pyproject.toml), so ``-m "memory or sqlite"`` selects.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from ai_agent.config.settings import RedisSettings
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    PostgreSQLRepository,
    RedisRepository,
    Repository,
    SQLiteRepository,
    migrations,
)

Builder = Callable[..., AbstractAsyncContextManager[Repository]]


@asynccontextmanager
async def memory_backend() -> AsyncIterator[Repository]:
    async with InMemoryRepository() as repository:
        yield repository


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Repository]:
    path = tmp_path / "contract.db"
    await migrations.upgrade(f"sqlite:///{path}")
    async with SQLiteRepository(path) as repository:
        yield repository


_migrated_postgres: set[str] = set()


@asynccontextmanager
async def postgresql_backend(postgres_url: str) -> AsyncIterator[Repository]:
    if postgres_url not in _migrated_postgres:  # once per test session
        await migrations.upgrade(postgres_url)
        _migrated_postgres.add(postgres_url)
    repository = PostgreSQLRepository.from_url(postgres_url, min_pool_size=1, max_pool_size=10)
    async with repository:
        assert repository.pool is not None
        async with repository.pool.acquire() as connection:  # empty before, whatever ran last
            await connection.execute(
                "TRUNCATE sessions, messages, agents, tools, mcp_servers, external_services, "
                "states "
                "RESTART IDENTITY CASCADE"
            )
        yield repository


@asynccontextmanager
async def redis_backend(redis_url: str) -> AsyncIterator[Repository]:
    async with _redis_repository(redis_url, cluster_mode=False) as repository:
        yield repository


@asynccontextmanager
async def redis_cluster_backend(redis_cluster_url: str) -> AsyncIterator[Repository]:
    async with _redis_repository(redis_cluster_url, cluster_mode=True) as repository:
        yield repository


@asynccontextmanager
async def _redis_repository(url: str, *, cluster_mode: bool) -> AsyncIterator[Repository]:
    """A fresh key prefix per test; its keys are deleted after it (SCAN: cleanup only)."""
    prefix = f"test-{uuid4().hex}"
    settings = RedisSettings.from_url(url, key_prefix=prefix, cluster_mode=cluster_mode)
    async with RedisRepository(settings) as repository:
        try:
            yield repository
        finally:
            if (client := repository.client) is not None:  # scan_iter visits every master
                async for key in client.scan_iter(match=repository.keys.pattern(), count=1000):
                    await client.delete(key)


BACKENDS: dict[str, Builder] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
    "postgresql": postgresql_backend,
    "redis": redis_backend,
    "redis_cluster": redis_cluster_backend,
}


@pytest.fixture(
    params=[pytest.param(name, marks=getattr(pytest.mark, name), id=name) for name in BACKENDS]
)
def backend(request: pytest.FixtureRequest) -> Callable[[], AbstractAsyncContextManager[Any]]:
    """The chosen builder with its fixtures bound (resolved here, outside any event loop)."""
    builder = BACKENDS[request.param]
    names = inspect.signature(builder).parameters
    fixtures = {name: request.getfixturevalue(name) for name in names}
    return functools.partial(builder, **fixtures)


@pytest.fixture
async def repository(
    backend: Callable[[], AbstractAsyncContextManager[Repository]],
) -> AsyncIterator[Repository]:
    async with backend() as connected:
        yield connected
