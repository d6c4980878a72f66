"""Migrations as users run them: ``alembic`` from the project root, the script from anywhere,
and several migrators at once (SQLite and PostgreSQL), each in its own process."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from ai_agent.infrastructure.database import migrations
from settings_isolation import environment_without_settings
from subprocesses import run_captured

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "migrate_database.py"
HEAD = migrations.head_revision()
TABLES = {"sessions", "messages", "agents", "tools", "mcp_servers", "external_services", "states"}


def run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return run_captured(argv, cwd=cwd, env=env, timeout=90)


async def run_at_once(
    argv: list[str], cwd: Path, env: Mapping[str, str], count: int = 3
) -> list[subprocess.CompletedProcess[str]]:
    """Start ``count`` processes together and wait for all of them."""
    processes = [
        subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]

    def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
        out, err = process.communicate(timeout=90)
        return subprocess.CompletedProcess(argv, process.returncode, out, err)

    return await asyncio.gather(*(asyncio.to_thread(finish, p) for p in processes))


def sqlite_schema(path: Path) -> tuple[set[str], list[str]]:
    with closing(sqlite3.connect(path)) as connection:
        tables = {
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        versions = [r[0] for r in connection.execute("SELECT version_num FROM alembic_version")]
    return tables, versions


# -- alembic from the project root -------------------------------------------------------


@pytest.mark.sqlite
def test_alembic_upgrade_head_from_the_root_creates_the_sqlite_schema_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "alembic.db"
    env = environment_without_settings(STORAGE_BACKEND="sqlite", SQLITE_PATH=str(database))
    alembic = [sys.executable, "-m", "alembic", "upgrade", "head"]
    first = run(alembic, ROOT, env)
    assert first.returncode == 0, first.stderr
    tables, versions = sqlite_schema(database)
    assert tables >= TABLES and versions == [HEAD]
    second = run(alembic, ROOT, env)
    assert second.returncode == 0, second.stderr
    assert sqlite_schema(database) == (tables, versions)


@pytest.mark.sqlite
def test_alembic_takes_the_url_from_x_url(tmp_path: Path) -> None:
    database = tmp_path / "x-url.db"
    env = environment_without_settings(STORAGE_BACKEND="memory")  # the settings name no database
    argv = [sys.executable, "-m", "alembic", "-x", f"url=sqlite:///{database}", "upgrade", "head"]
    result = run(argv, ROOT, env)
    assert result.returncode == 0, result.stderr
    assert sqlite_schema(database)[1] == [HEAD]


def test_alembic_upgrade_head_from_the_root_on_postgresql(fresh_postgres_url: str) -> None:
    env = environment_without_settings(
        STORAGE_BACKEND="postgresql", DATABASE_URL=fresh_postgres_url
    )
    alembic = [sys.executable, "-m", "alembic", "upgrade", "head"]
    for _ in range(2):  # the first creates the database and the schema; the second nothing
        result = run(alembic, ROOT, env)
        assert result.returncode == 0, result.stderr
    status = run([sys.executable, str(SCRIPT), "check"], ROOT, env)
    assert status.returncode == 0, status.stderr


# -- the script, from another directory --------------------------------------------------


@pytest.mark.sqlite
def test_the_script_works_from_another_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    env = environment_without_settings(STORAGE_BACKEND="sqlite", SQLITE_PATH="agent.db")
    first = run([sys.executable, str(SCRIPT), "migrate"], elsewhere, env)
    assert first.returncode == 0, first.stderr
    assert f"Migrated sqlite:///agent.db: no schema -> {HEAD} (head)." in first.stdout
    tables, versions = sqlite_schema(elsewhere / "agent.db")  # relative to the working dir
    assert tables >= TABLES and versions == [HEAD]
    again = run([sys.executable, str(SCRIPT), "migrate"], elsewhere, env)
    assert "nothing to do" in again.stdout
    status = run([sys.executable, str(SCRIPT), "status"], elsewhere, env)
    assert status.returncode == 0 and f"Current revision:  {HEAD}" in status.stdout
    check = run([sys.executable, str(SCRIPT), "check"], elsewhere, env)
    assert check.returncode == 0, check.stderr
    reset = run([sys.executable, str(SCRIPT), "reset", "--yes"], elsewhere, env)
    assert reset.returncode == 0, reset.stderr
    production = {**env, "ENVIRONMENT": "production"}
    refused = run([sys.executable, str(SCRIPT), "reset", "--yes"], elsewhere, production)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Refusing to reset: the environment is production (reset deletes all data)."
    ]


def test_the_script_fails_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    env = environment_without_settings(
        STORAGE_BACKEND="postgresql", DATABASE_URL="postgresql://u:s3cr3t@127.0.0.1:1/x"
    )
    result = run([sys.executable, str(SCRIPT), "check"], tmp_path, env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot use postgresql://u:***@")
    assert "s3cr3t" not in result.stderr


# -- several migrators at once -----------------------------------------------------------


@pytest.mark.sqlite
async def test_three_sqlite_migrators_at_once_leave_one_schema(tmp_path: Path) -> None:
    env = environment_without_settings(
        STORAGE_BACKEND="sqlite", SQLITE_PATH=str(tmp_path / "race.db")
    )
    results = await run_at_once([sys.executable, str(SCRIPT), "migrate"], tmp_path, env)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    tables, versions = sqlite_schema(tmp_path / "race.db")
    assert tables >= TABLES and versions == [HEAD]
    assert sum("Created the database" in r.stdout for r in results) == 1


async def test_three_postgresql_migrators_at_once_leave_one_schema(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    env = environment_without_settings(
        STORAGE_BACKEND="postgresql", DATABASE_URL=fresh_postgres_url
    )
    results = await run_at_once([sys.executable, "-m", "ai_agent", "db", "migrate"], tmp_path, env)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert sum("Created the database" in r.stdout for r in results) <= 1
    connection = await asyncpg.connect(fresh_postgres_url)
    try:
        versions = await connection.fetch("SELECT version_num FROM alembic_version")
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    finally:
        await connection.close()
    assert [row[0] for row in versions] == [HEAD]
    assert {row[0] for row in tables} >= TABLES
