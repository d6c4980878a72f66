"""Root test configuration: real-server fixtures and marker plumbing (nothing else).

Session fixtures, lazy (a server starts only when some test asks for it):

- `postgres_url -> str`: `$TEST_POSTGRES_URL`, else a throwaway cluster for the session
  (`postgresql://ai_agent:<escaped password>@127.0.0.1:<port>/ai_agent_test`; the role has
  CREATEDB and owns the database; the password holds URL-special characters).
- `redis_url -> str`: `$TEST_REDIS_URL`, else a throwaway server (`redis://127.0.0.1:<port>/0`).
- `redis_cluster_url -> str`: `$TEST_REDIS_CLUSTER_URL`, else a local cluster of 3 masters
  (`redis://127.0.0.1:<port of one node>`).
- `fresh_postgres_url -> str` (function scope): `postgres_url` naming a database that does not
  exist yet, dropped after the test.

Shared servers are shared: isolate by key prefix (Redis) or by truncating/own schema (Postgres).

Factories for fault tests, function-scoped; each call builds and starts a private server with
the class's own keyword arguments, and every one is closed after the test:

- `postgres_server_factory(**kw) -> PostgresServer`  (`tests/_servers/postgres_server.py`)
- `redis_server_factory(**kw) -> RedisServer`, e.g. `(appendonly=True)` for kill/restart tests
- `redis_cluster_factory(**kw) -> RedisCluster`

When a server's binaries are missing the test is skipped with the reason, except under `CI`
(set to anything but ``""``/``0``/``false``), where it fails. Tests that use these fixtures get
the `postgresql`, `redis` or `redis_cluster` marker automatically, so `-m "not redis"` works.
Under `CI` a run in which no test passed fails (exit status 5).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar
from uuid import uuid4

import pytest
from sqlalchemy.engine import make_url

from _servers import (
    PostgresFactory,
    PostgresServer,
    RedisCluster,
    RedisClusterFactory,
    RedisFactory,
    RedisServer,
    ServerFactory,
    ServerUnavailable,
    ci_is_set,
    skip_or_fail,
)

_MARKERS_BY_FIXTURE = {
    "postgres_url": "postgresql",
    "postgres_server_factory": "postgresql",
    "redis_url": "redis",
    "redis_server_factory": "redis",
    "redis_cluster_url": "redis_cluster",
    "redis_cluster_factory": "redis_cluster",
}
_Server = TypeVar("_Server", PostgresServer, RedisServer, RedisCluster)


@contextmanager
def _serving(server: _Server) -> Iterator[_Server]:
    try:
        try:
            server.start()
        except ServerUnavailable as exc:
            skip_or_fail(exc)
        yield server
    finally:
        server.close()


def _session_url(variable: str, server_class: Callable[[], _Server]) -> Iterator[str]:
    if url := os.environ.get(variable):
        yield url
        return
    with _serving(server_class()) as server:
        yield server.url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the session's PostgreSQL database (see the module docstring)."""
    yield from _session_url("TEST_POSTGRES_URL", PostgresServer)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of the session's Redis server, database 0."""
    yield from _session_url("TEST_REDIS_URL", RedisServer)


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """URL of one node of the session's Redis Cluster (3 masters, no replicas)."""
    yield from _session_url("TEST_REDIS_CLUSTER_URL", RedisCluster)


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """The session server's URL naming a database that does not exist yet; dropped afterwards."""
    import asyncpg  # the `postgresql` extra: only tests that ask for PostgreSQL need it

    name = f"ai_agent_fresh_{uuid4().hex[:12]}"
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def postgres_server_factory() -> Iterator[PostgresFactory]:
    """Start private PostgreSQL servers: `postgres_server_factory(durable=True)`."""
    factory = ServerFactory(PostgresServer, skip_or_fail)
    yield factory
    factory.close()


@pytest.fixture
def redis_server_factory() -> Iterator[RedisFactory]:
    """Start private Redis servers: `redis_server_factory(appendonly=True)`."""
    factory = ServerFactory(RedisServer, skip_or_fail)
    yield factory
    factory.close()


@pytest.fixture
def redis_cluster_factory() -> Iterator[RedisClusterFactory]:
    """Start private Redis Clusters: `redis_cluster_factory(masters=3)`."""
    factory = ServerFactory(RedisCluster, skip_or_fail)
    yield factory
    factory.close()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for marker in sorted({_MARKERS_BY_FIXTURE.get(name, "") for name in fixtures} - {""}):
            if item.get_closest_marker(marker) is None:
                item.add_marker(marker)


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Once only: a second SIGTERM must not cut short the teardown that stops the servers.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM would end pytest without teardown and leave servers running: make it a Ctrl-C.
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_unconfigure(config: pytest.Config) -> None:
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) == _interrupt_on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not ci_is_set() or exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not reporter.stats.get("passed"):
        reporter.ensure_newline()
        reporter.write_line("CI is set and no test passed: failing the run", red=True)
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
