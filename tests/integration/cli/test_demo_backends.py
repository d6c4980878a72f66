"""``examples/phase2_demo.py`` on all four backends: exit 0, URLs redacted, nothing left behind;
and on an unreachable server: one line on stderr, a non-zero exit, no "completed" banner."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import asyncpg
import pytest
import redis.asyncio as redis
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ai_agent.cli.app import app
from ai_agent.demo import DEMO_USER
from ai_agent.infrastructure.database import BaseRepository, RepositoryFactory
from settings_isolation import environment_without_settings
from subprocesses import run_captured

DEMO = Path(__file__).resolve().parents[3] / "examples" / "phase2_demo.py"
TABLES = ("sessions", "messages", "agents", "tools", "mcp_servers", "external_services")
BANNER = "Phase 2 demo completed"


def run_demo(backend: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """The demo script in a fresh interpreter, with only ``settings`` as configuration."""
    return run_captured(
        [sys.executable, str(DEMO), "--backend", backend],
        cwd=cwd,
        env=environment_without_settings(**settings),
        timeout=120,
    )


def assert_succeeded(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert BANNER in done.stdout
    assert "deleted everything the demo created" in done.stdout
    assert "Traceback" not in done.stderr
    assert "Demo failed" not in done.stderr


def assert_failed_in_one_line(done: subprocess.CompletedProcess[str], backend: str) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Demo failed on the {backend} backend: ")
    for banner in (BANNER, "completed", "success"):
        assert banner not in done.stdout.lower() and banner not in done.stderr.lower()
    return lines[0]


def assert_hidden(done: subprocess.CompletedProcess[str], password: str) -> None:
    for secret in {password, quote(password, safe="")}:
        assert secret not in done.stdout
        assert secret not in done.stderr


async def assert_left_nothing(repository: BaseRepository) -> None:
    async with repository:
        assert await repository.list_sessions(user_id=DEMO_USER) == []
        assert await repository.list_sessions() == []
        assert await repository.list_agents() == []
        assert await repository.list_tools(enabled_only=False) == []
        assert await repository.list_mcp_servers(enabled_only=False) == []
        assert await repository.list_external_services(enabled_only=False) == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_memory(tmp_path: Path) -> None:
    done = run_demo("memory", tmp_path)
    assert_succeeded(done)
    assert "connected: InMemoryRepository at memory://" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no file, no server: nothing to leave behind


@pytest.mark.sqlite
async def test_sqlite(tmp_path: Path) -> None:
    done = run_demo("sqlite", tmp_path, SQLITE_PATH="data/demo.db")
    assert_succeeded(done)
    path = tmp_path / "data" / "demo.db"
    assert f"connected: SQLiteRepository at sqlite:///{path}" in done.stdout
    await assert_left_nothing(RepositoryFactory.from_url(f"sqlite:///{path}"))
    with closing(sqlite3.connect(path)) as connection:
        for table in TABLES:
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


async def test_redis(tmp_path: Path, redis_url: str) -> None:
    prefix = f"demo_{uuid4().hex[:8]}"
    done = run_demo("redis", tmp_path, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
    assert_succeeded(done)
    assert f"connected: RedisRepository at {make_url(redis_url)}" in done.stdout
    repository = RepositoryFactory.from_url(redis_url, key_prefix=prefix)
    await assert_left_nothing(repository)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        left = [key async for key in client.scan_iter(match=f"{prefix}*")]
    finally:
        await client.aclose()
    assert left == [], left


async def test_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    # A database that does not exist yet: the demo creates and migrates it.
    done = run_demo("postgresql", tmp_path, DATABASE_URL=fresh_postgres_url)
    assert_succeeded(done)
    shown = str(make_url(fresh_postgres_url))
    assert "***" in shown
    assert f"database URL: {shown}" in done.stdout
    assert f"connected: PostgreSQLRepository at {shown}" in done.stdout
    assert_hidden(done, str(make_url(fresh_postgres_url).password))
    await assert_left_nothing(RepositoryFactory.from_url(fresh_postgres_url))
    connection = await asyncpg.connect(fresh_postgres_url)
    try:
        for table in TABLES:
            assert await connection.fetchval(f"SELECT count(*) FROM {table}") == 0
    finally:
        await connection.close()


def test_unreachable_postgresql_fails_in_one_line(tmp_path: Path) -> None:
    password = "s3cr:t@p/w%d"
    url = f"postgresql://agent:{quote(password, safe='')}@127.0.0.1:{closed_port()}/agent"
    done = run_demo("postgresql", tmp_path, DATABASE_URL=url)
    line = assert_failed_in_one_line(done, "postgresql")
    assert str(make_url(url)) in line  # names the server, password masked
    assert_hidden(done, password)


def test_unreachable_redis_fails_in_one_line(tmp_path: Path) -> None:
    password = "r3d!s@pw"
    url = f"redis://:{quote(password, safe='')}@127.0.0.1:{closed_port()}/0"
    done = run_demo("redis", tmp_path, REDIS_URL=url)
    line = assert_failed_in_one_line(done, "redis")
    assert "127.0.0.1" in line
    assert_hidden(done, password)


@pytest.mark.sqlite
def test_ai_agent_demo_runs_the_same_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert BANNER in result.stdout
    assert "connected: SQLiteRepository" in result.stdout


async def test_redis_cluster(tmp_path: Path, redis_cluster_url: str) -> None:
    prefix = f"demo_{uuid4().hex[:8]}"
    done = run_demo(
        "redis",
        tmp_path,
        REDIS_URL=redis_cluster_url,
        REDIS_CLUSTER_MODE="true",
        REDIS_KEY_PREFIX=prefix,
    )
    assert_succeeded(done)
    repository = RepositoryFactory.from_url(redis_cluster_url, key_prefix=prefix, cluster_mode=True)
    await assert_left_nothing(repository)
