"""Per backend: how to open a fresh project store and a fresh raw store for one workload.

Both sides get the same pool size (asyncpg pool, Redis blocking pool). PostgreSQL: the
project's tables (Alembic migrations) and the raw ``bench_raw`` schema live in the same
database and are truncated before each workload. Redis: each workload gets fresh key prefixes,
dropped afterwards. SQLite: a fresh file per workload. Memory: a fresh instance.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.memory import InMemoryRepository
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from ai_agent.infrastructure.database.redis import RedisRepository
from ai_agent.infrastructure.database.sqlite import SQLiteRepository
from bench.raw_memory import open_raw_memory
from bench.raw_postgres import create_raw_schema, open_raw_postgres
from bench.raw_redis import drop_keys, make_client, open_raw_redis
from bench.raw_sqlite import open_raw_sqlite
from bench.servers import run_sql
from bench.stores import Opener, Store, connected

__all__ = ["BACKENDS", "Backend", "prepare"]

BACKENDS = ("memory", "sqlite", "redis", "postgresql")
POOL_SIZE = 20  # the project's default pool size (PostgreSQL max_pool_size, Redis)


@dataclass(frozen=True)
class Backend:
    name: str
    raw: Opener
    project: Opener
    raw_note: str


_counter = itertools.count()
_RUN = secrets.token_hex(3)


@asynccontextmanager
async def _memory_project() -> AsyncIterator[Store]:
    async with connected(InMemoryRepository()) as store:
        yield store


def _sqlite(workdir: Path) -> Backend:
    @asynccontextmanager
    async def project() -> AsyncIterator[Store]:
        path = workdir / f"project-{next(_counter)}.db"
        await migrations.upgrade(f"sqlite:///{path}")
        async with connected(SQLiteRepository(path)) as store:
            yield store

    @asynccontextmanager
    async def raw() -> AsyncIterator[Store]:
        async with open_raw_sqlite(workdir / f"raw-{next(_counter)}.db") as store:
            yield store

    note = "stdlib sqlite3, synchronous (no thread hop), WAL, synchronous=FULL"
    return Backend("sqlite", raw, project, note)


def _postgres(url: str) -> Backend:
    @asynccontextmanager
    async def project() -> AsyncIterator[Store]:
        await run_sql(url, "TRUNCATE messages, sessions")
        repository = PostgreSQLRepository.from_url(
            url, min_pool_size=POOL_SIZE, max_pool_size=POOL_SIZE
        )
        async with connected(repository) as store:
            yield store

    @asynccontextmanager
    async def raw() -> AsyncIterator[Store]:
        async with open_raw_postgres(url, POOL_SIZE) as store:
            yield store

    note = "asyncpg pool, one CTE statement per append, bench_raw schema, JSON as text"
    return Backend("postgresql", raw, project, note)


def _redis(url: str) -> Backend:
    @asynccontextmanager
    async def project() -> AsyncIterator[Store]:
        prefix = f"bench-{_RUN}-{next(_counter)}"
        repository = RedisRepository.from_url(url, key_prefix=prefix, max_connections=POOL_SIZE)
        try:
            async with connected(repository) as store:
                yield store
        finally:
            client = make_client(url, 1)
            await drop_keys(client, prefix)
            await client.aclose()

    @asynccontextmanager
    async def raw() -> AsyncIterator[Store]:
        async with open_raw_redis(url, POOL_SIZE, f"benchraw-{_RUN}-{next(_counter)}") as store:
            yield store

    note = "redis-py asyncio, blocking pool, one EVALSHA per operation"
    return Backend("redis", raw, project, note)


async def prepare(
    name: str, *, workdir: Path, postgres_url: str | None, redis_url: str | None
) -> Backend:
    """Set up what ``name`` needs once (schemas) and return its openers."""
    if name == "memory":
        return Backend("memory", open_raw_memory, _memory_project, "dicts and lists")
    if name == "sqlite":
        return _sqlite(workdir)
    if name == "postgresql":
        if postgres_url is None:
            raise ValueError("postgresql needs a URL")
        await migrations.upgrade(postgres_url)
        await create_raw_schema(postgres_url)
        return _postgres(postgres_url)
    if name == "redis":
        if redis_url is None:
            raise ValueError("redis needs a URL")
        return _redis(redis_url)
    raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
