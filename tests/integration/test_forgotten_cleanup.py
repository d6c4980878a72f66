"""A program that forgets to disconnect its repository still exits, and is told why.

Each scenario runs as its own program (``python -W default``, so that the ResourceWarning
prints) under a timeout: set up a repository (``setup_repository`` from settings, or
``RepositoryFactory.from_url`` then ``connect()``), create a session, return from
``asyncio.run``. Forgetting the disconnect must cost a ResourceWarning naming
``disconnect()`` and ``cleanup_repository()``: never a hang (aiosqlite's worker thread),
never a traceback ("Event loop is closed"). Disconnecting properly must cost nothing.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from ai_agent.config.settings import RedisSettings
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    PostgreSQLRepository,
    RedisRepository,
    SQLiteRepository,
    migrations,
)
from settings_isolation import environment_without_settings

TIMEOUT = 60  # seconds; a healthy run takes about one
WARNING = "was never disconnected"

# argv: how ("setup" or "url"), the URL, from_url's options as JSON, "clean" or "forget".
PROGRAM = """
import asyncio, json, sys
from ai_agent.config.settings import get_settings
from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import (
    RepositoryFactory, cleanup_repository, setup_repository,
)

async def main(how, url, options, clean):
    if how == "setup":
        repository = await setup_repository(get_settings())
    else:
        repository = RepositoryFactory.from_url(url, **options)
        await repository.connect()
    await repository.create_session(Session())
    if clean and how == "setup":
        await cleanup_repository()
    elif clean:
        await repository.disconnect()
    print("returned from main", flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "clean"))
"""


@dataclass(frozen=True)
class Target:
    """Where a program stores: a URL (with ``from_url`` options) and the same as settings."""

    name: str  # the repository class, as its repr names it
    url: str
    settings: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)


def run_program(target: Target, how: str, *, clean: bool, cwd: Path) -> tuple[str, str]:
    """Run the program to its end (failing the test past ``TIMEOUT``); stdout, stderr."""
    env = environment_without_settings(**target.settings)
    argv = [sys.executable, "-W", "default", "-c", PROGRAM, how, target.url]
    argv += [json.dumps(target.options), "clean" if clean else "forget"]
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the program did not exit within {TIMEOUT} s; stderr: {exc.stderr!r}")
    assert done.returncode == 0, done.stderr
    assert "returned from main" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    assert "Exception in thread" not in done.stderr, done.stderr
    return done.stdout, done.stderr


# -- one target per backend ----------------------------------------------------------------


@pytest.fixture
def memory_target() -> Target:
    return Target("InMemoryRepository", "memory://", {"STORAGE_BACKEND": "memory"})


@pytest.fixture
async def sqlite_target(tmp_path: Path) -> Target:
    path = tmp_path / "agent.db"
    await migrations.upgrade(f"sqlite:///{path}")
    settings = {"STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(path)}
    return Target("SQLiteRepository", f"sqlite:///{path}", settings)


@pytest.fixture
async def postgresql_target(postgres_url: str) -> Target:
    await migrations.upgrade(postgres_url)  # a no-op once at head
    settings = {"STORAGE_BACKEND": "postgresql", "DATABASE_URL": postgres_url}
    return Target("PostgreSQLRepository", postgres_url, settings, {"min_pool_size": 2})


@pytest.fixture
def redis_target(redis_url: str) -> Iterator[Target]:
    yield from _redis_target(redis_url, cluster_mode=False)


@pytest.fixture
def redis_cluster_target(redis_cluster_url: str) -> Iterator[Target]:
    yield from _redis_target(redis_cluster_url, cluster_mode=True)


def _redis_target(url: str, *, cluster_mode: bool) -> Iterator[Target]:
    prefix = f"test-{uuid4().hex}"
    settings = {
        "STORAGE_BACKEND": "redis",
        "REDIS_URL": url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_CLUSTER_MODE": str(cluster_mode).lower(),
    }
    options = {"key_prefix": prefix, "cluster_mode": cluster_mode}
    yield Target("RedisRepository", url, settings, options)
    asyncio.run(_delete_keys(RedisSettings.from_url(url, **options)))


async def _delete_keys(settings: RedisSettings) -> None:
    async with RedisRepository(settings) as repository:
        if (client := repository.client) is not None:  # scan_iter visits every master
            async for key in client.scan_iter(match=repository.keys.pattern(), count=1000):
                await client.delete(key)


BACKENDS = [
    pytest.param("memory_target", marks=pytest.mark.memory, id="memory"),
    pytest.param("sqlite_target", marks=pytest.mark.sqlite, id="sqlite"),
    pytest.param("postgresql_target", marks=pytest.mark.postgresql, id="postgresql"),
    pytest.param("redis_target", marks=pytest.mark.redis, id="redis"),
    pytest.param("redis_cluster_target", marks=pytest.mark.redis_cluster, id="redis_cluster"),
]
HOW = ["setup", "url"]


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest) -> Target:
    found: Target = request.getfixturevalue(request.param)
    return found


# -- in a program of its own ---------------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
def test_a_forgotten_disconnect_warns_and_the_program_still_exits(
    target: Target, how: str, tmp_path: Path
) -> None:
    _, stderr = run_program(target, how, clean=False, cwd=tmp_path)
    assert "ResourceWarning" in stderr
    assert f"{target.name}(" in stderr and WARNING in stderr
    assert "await repository.disconnect()" in stderr
    assert "await cleanup_repository()" in stderr


@pytest.mark.parametrize("how", HOW)
def test_a_repository_disconnected_properly_does_not_warn(
    target: Target, how: str, tmp_path: Path
) -> None:
    _, stderr = run_program(target, how, clean=True, cwd=tmp_path)
    assert WARNING not in stderr


@pytest.mark.sqlite
@pytest.mark.parametrize("how", HOW)
def test_a_forgotten_sqlite_repository_is_still_closed_cleanly(
    sqlite_target: Target, how: str, tmp_path: Path
) -> None:
    """The connection is closed on its worker thread, not cut off with the process:
    SQLite removes the write-ahead log when its last connection closes."""
    database = Path(sqlite_target.settings["SQLITE_PATH"])
    run_program(sqlite_target, how, clean=False, cwd=tmp_path)
    assert database.exists()
    assert not Path(f"{database}-wal").exists()


# -- in this process ---------------------------------------------------------------------


def _collected(box: list[Any]) -> list[str]:
    """The ResourceWarnings that dropping the one reference in ``box`` raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        box.clear()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.fixture
async def migrated_sqlite(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "agent.db"
    await migrations.upgrade(f"sqlite:///{path}")
    yield path


@pytest.mark.sqlite
async def test_a_dropped_sqlite_repository_warns_and_stops_its_worker_thread(
    migrated_sqlite: Path,
) -> None:
    before = set(threading.enumerate())
    box = [SQLiteRepository(migrated_sqlite)]
    await box[0].connect()
    started = set(threading.enumerate()) - before  # the executor's thread too (file probe)
    (worker,) = [t for t in started if "_connection_worker_thread" in t.name]
    assert worker.daemon  # an interpreter exit never waits for it

    caught = _collected(box)

    assert len(caught) == 1
    assert caught[0].startswith(f"SQLiteRepository('sqlite:///{migrated_sqlite}') {WARNING}")
    worker.join(5)
    assert not worker.is_alive()


@pytest.mark.memory
@pytest.mark.sqlite
async def test_repositories_never_connected_or_disconnected_do_not_warn(
    migrated_sqlite: Path,
) -> None:
    assert _collected([SQLiteRepository(migrated_sqlite)]) == []
    assert _collected([InMemoryRepository()]) == []
    for box in ([SQLiteRepository(migrated_sqlite)], [InMemoryRepository()]):
        async with box[0]:
            pass
        await box[0].connect()  # connected again: watched again
        await box[0].disconnect()
        assert _collected(box) == []


@pytest.mark.memory
async def test_a_dropped_memory_repository_warns_too() -> None:
    """Nothing to release, but the same mistake on a server backend leaks connections."""
    box = [InMemoryRepository()]
    await box[0].connect()
    assert [message.split(" was ")[0] for message in _collected(box)] == [
        "InMemoryRepository('memory://')"
    ]


@pytest.mark.postgresql
async def test_a_postgresql_repository_dropped_while_its_loop_runs_closes_its_pool(
    postgres_url: str,
) -> None:
    box = [PostgreSQLRepository.from_url(postgres_url, min_pool_size=2)]
    await box[0].connect()
    pool = box[0].pool
    assert pool is not None

    caught = _collected(box)

    assert len(caught) == 1 and WARNING in caught[0]
    assert pool.is_closing()


@pytest.mark.redis
async def test_a_redis_repository_dropped_while_its_loop_runs_closes_its_connections(
    redis_url: str,
) -> None:
    box = [RedisRepository.from_url(redis_url)]
    await box[0].connect()
    client = box[0].client
    assert client is not None
    connection_id = await client.client_id()

    caught = _collected(box)

    assert len(caught) == 1 and WARNING in caught[0]
    probe = Redis.from_url(redis_url, decode_responses=True)
    try:
        async with asyncio.timeout(5):
            while await probe.client_list(client_id=[connection_id]):
                await asyncio.sleep(0.01)  # the server notices a closed socket a bit later
    finally:
        await probe.aclose()
