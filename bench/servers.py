"""Servers for the benchmark: given URLs, or throwaway durable ones from ``tests/_servers``.

Throwaway PostgreSQL runs with ``fsync=on`` (``durable=True``); throwaway Redis with
``appendonly yes`` and ``appendfsync everysec`` (the test class configures ``always``; the
bench switches it with ``CONFIG SET`` once the server is up, which changes nothing else).
:func:`durability` reads back what the servers actually run with, for the report.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from _servers import PostgresServer, RedisServer  # noqa: E402  (needs the path above)

__all__ = ["Endpoints", "durability", "endpoints", "run_sql"]


@dataclass
class Endpoints:
    postgres_url: str | None = None
    redis_url: str | None = None
    started: list[str] = field(default_factory=list)


@contextmanager
def endpoints(
    backends: list[str], postgres_url: str | None, redis_url: str | None
) -> Iterator[Endpoints]:
    """URLs for the server backends in ``backends``; servers started here stop on exit."""
    found = Endpoints(postgres_url, redis_url)
    with ExitStack() as stack:
        if "postgresql" in backends and postgres_url is None:
            pg = stack.enter_context(PostgresServer(durable=True, database="ai_agent_bench"))
            found.postgres_url = pg.url
            found.started.append("postgresql")
        if "redis" in backends and redis_url is None:
            redis = stack.enter_context(RedisServer(appendonly=True))
            redis.command("CONFIG", "SET", "appendfsync", "everysec")
            found.redis_url = redis.url
            found.started.append("redis")
        yield found


async def durability(found: Endpoints) -> dict[str, str]:
    """What the servers run with: fsync/synchronous_commit, appendonly/appendfsync."""
    info: dict[str, str] = {}
    if found.postgres_url is not None:
        connection = await asyncpg.connect(found.postgres_url)
        try:
            for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes"):
                info[f"postgresql.{name}"] = str(await connection.fetchval(f"SHOW {name}"))
        finally:
            await connection.close()
    if found.redis_url is not None:
        client = Redis.from_url(found.redis_url, decode_responses=True)
        try:
            for name in ("appendonly", "appendfsync"):
                info[f"redis.{name}"] = str((await client.config_get(name)).get(name))
            info["redis.version"] = str((await client.info("server")).get("redis_version"))
        finally:
            await client.aclose()
    return info


async def run_sql(url: str, sql: str) -> None:
    """Run ``sql`` (set-up: truncate, drop, create) on its own short-lived connection."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
