"""Fixtures for the PostgreSQL backend's own tests.

They use databases of their own on the session's server (``<name>_pg_<suffix>``, migrated
once per test session; the contract suite truncates the shared one). Fault tests start
private servers with ``postgres_server_factory`` instead.

- ``database_url(suffix, migrate=True)``: the URL of such a database;
- ``make_repository(url, **settings)``: an unconnected repository with a small pool and short
  timeouts (a test that should fail fast must not wait 30 s); disconnected after the test;
- ``repository``: a connected one over empty tables of ``<name>_pg_backend``;
- ``truncate(repository)``: empty every table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository

TRUNCATE_ALL = (
    "TRUNCATE sessions, messages, agents, tools, mcp_servers, external_services, "
    "states "
    "RESTART IDENTITY CASCADE"
)
POOL = {"min_pool_size": 1, "max_pool_size": 4, "pool_timeout": 5.0, "command_timeout": 30.0}

DatabaseUrl = Callable[..., Awaitable[str]]
MakeRepository = Callable[..., PostgreSQLRepository]
Truncate = Callable[[PostgreSQLRepository], Awaitable[None]]

_migrated: set[str] = set()


@pytest.fixture
def database_url(postgres_url: str) -> DatabaseUrl:
    async def url_of(suffix: str, migrate: bool = True) -> str:
        parsed = make_url(postgres_url)
        name = f"{parsed.database or 'postgres'}_pg_{suffix}"
        url = parsed.set(database=name).render_as_string(hide_password=False)
        if migrate and url not in _migrated:
            await migrations.upgrade(url)
            _migrated.add(url)
        return url

    return url_of


@pytest.fixture
async def make_repository() -> AsyncIterator[MakeRepository]:
    made: list[PostgreSQLRepository] = []

    def make(url: str, **settings: Any) -> PostgreSQLRepository:
        repository = PostgreSQLRepository.from_url(url, **{**POOL, **settings})
        made.append(repository)
        return repository

    yield make
    for repository in made:
        await repository.disconnect()


async def _truncate(repository: PostgreSQLRepository) -> None:
    assert repository.pool is not None
    async with repository.pool.acquire() as connection:
        await connection.execute(TRUNCATE_ALL)


@pytest.fixture
def truncate() -> Truncate:
    return _truncate


@pytest.fixture
async def pg_url(database_url: DatabaseUrl) -> str:
    """The migrated database of these tests, on the session's server."""
    return await database_url("backend")


@pytest.fixture
async def repository(
    pg_url: str, make_repository: MakeRepository
) -> AsyncIterator[PostgreSQLRepository]:
    """A connected repository over empty tables (pool of 1..4, 5 s acquire timeout)."""
    async with make_repository(pg_url) as repository:
        await _truncate(repository)
        yield repository
