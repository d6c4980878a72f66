"""``ai-agent db migrate|reset|check|status`` on SQLite and on the PostgreSQL test server."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from ai_agent.cli.app import app
from ai_agent.domain.models import Agent
from ai_agent.infrastructure.database import SQLiteRepository, migrations

HEAD = migrations.head_revision()


def invoke(*arguments: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(app, ["db", *arguments], input=answer)


def assert_one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


async def add_agent(path: Path, name: str = "kept") -> None:
    async with SQLiteRepository(path) as repository:
        await repository.create_agent(Agent(name=name))


async def agent_names(path: Path) -> list[str]:
    async with SQLiteRepository(path) as repository:
        return [agent.name for agent in await repository.list_agents()]


# -- SQLite, selected by the settings ----------------------------------------------------


@pytest.fixture
def sqlite_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", "data/agent.db")  # relative: to the working directory
    return tmp_path / "data" / "agent.db"


@pytest.mark.sqlite
def test_status_and_check_of_a_missing_file_create_nothing(sqlite_file: Path) -> None:
    status = invoke("status")
    assert status.exit_code == 0, status.output
    assert "Database:          sqlite:///data/agent.db" in status.stdout
    assert "Current revision:  none (no database file yet)" in status.stdout
    assert f"Head revision:     {HEAD}" in status.stdout
    line = assert_one_line_error(invoke("check"))
    assert line.startswith("Not ready: sqlite:///data/agent.db is at revision none")
    assert "ai-agent db migrate" in line
    assert not sqlite_file.parent.exists()


@pytest.mark.sqlite
def test_migrate_creates_the_schema_and_a_second_run_is_a_no_op(sqlite_file: Path) -> None:
    first = invoke("migrate")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "Created the database sqlite:///data/agent.db.",
        f"Migrated sqlite:///data/agent.db: no schema -> {HEAD} (head).",
    ]
    assert {"sessions", "messages", "agents", "tools", "alembic_version"} <= tables(sqlite_file)
    second = invoke("migrate")
    assert second.exit_code == 0, second.output
    assert second.stdout == (
        f"sqlite:///data/agent.db is already at revision {HEAD} (head); nothing to do.\n"
    )
    check = invoke("check")
    assert check.exit_code == 0, check.output
    ok = f"OK: sqlite:///data/agent.db is reachable and at revision {HEAD} (head).\n"
    assert check.stdout == ok
    status = invoke("status")
    assert f"Current revision:  {HEAD}" in status.stdout
    assert "Status:            up to date" in status.stdout


@pytest.mark.sqlite
def test_reset_asks_first_and_keeps_the_data_unless_confirmed(sqlite_file: Path) -> None:
    assert invoke("migrate").exit_code == 0
    asyncio.run(add_agent(sqlite_file))
    refused = invoke("reset")  # no input: the prompt reads end-of-file
    assert refused.exit_code == 1
    assert "Delete ALL DATA in sqlite:///data/agent.db" in refused.stderr
    assert refused.stderr.strip().endswith("Reset cancelled; nothing was changed.")
    declined = invoke("reset", answer="n\n")
    assert declined.exit_code == 1
    assert asyncio.run(agent_names(sqlite_file)) == ["kept"]
    accepted = invoke("reset", answer="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert asyncio.run(agent_names(sqlite_file)) == []


@pytest.mark.sqlite
def test_reset_yes_drops_everything_and_migrates_again(sqlite_file: Path) -> None:
    assert invoke("migrate").exit_code == 0
    asyncio.run(add_agent(sqlite_file))
    result = invoke("reset", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Reset sqlite:///data/agent.db: every table dropped and recreated at revision {HEAD}.\n"
    )
    assert asyncio.run(agent_names(sqlite_file)) == []
    assert invoke("check").exit_code == 0


@pytest.mark.sqlite
@pytest.mark.parametrize("how", ["variable", "option"])
def test_reset_refuses_production(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    assert invoke("migrate").exit_code == 0
    asyncio.run(add_agent(sqlite_file))
    if how == "variable":
        monkeypatch.setenv("ENVIRONMENT", "Production")
        result = invoke("reset", "--yes")
    else:
        result = invoke("reset", "--yes", "--env", "production")
    line = assert_one_line_error(result)
    assert line == "Refusing to reset: the environment is production (reset deletes all data)."
    assert asyncio.run(agent_names(sqlite_file)) == ["kept"]


@pytest.mark.sqlite
def test_url_option_wins_over_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "memory")
    target = tmp_path / "elsewhere.db"
    result = invoke("migrate", "--url", f"sqlite:///{target}")
    assert result.exit_code == 0, result.output
    assert invoke("check", "--url", f"sqlite+aiosqlite:///{target}").exit_code == 0
    line = assert_one_line_error(invoke("status"))
    assert "'memory', which has no schema" in line and "STORAGE_BACKEND" in line


@pytest.mark.parametrize(
    "url", ["redis://:hunter2@cache:6379/0", "postgresql//app:hunter2@db/x", "::hunter2@@"]
)
def test_a_url_that_is_not_a_database_is_one_line_without_its_password(url: str) -> None:
    line = assert_one_line_error(invoke("check", "--url", url))
    assert "hunter2" not in line
    assert line.startswith("Error: ")


@pytest.mark.sqlite
def test_an_unusable_sqlite_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    line = assert_one_line_error(invoke("migrate", "--url", f"sqlite:///{tmp_path}/a-file/x.db"))
    assert line.startswith("Error: ") and "a-file" in line
    (tmp_path / "junk.db").write_bytes(b"this is not a database file at all" * 100)
    line = assert_one_line_error(invoke("check", "--url", f"sqlite:///{tmp_path}/junk.db"))
    assert "cannot use sqlite:///" in line and "not a database" in line


@pytest.mark.sqlite
def test_a_database_at_an_unknown_revision_is_not_ready(sqlite_file: Path) -> None:
    assert invoke("migrate").exit_code == 0
    with closing(sqlite3.connect(sqlite_file)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff'")
    unknown = "is at revision ffff, which this version of ai-agent does not know"
    assert unknown in assert_one_line_error(invoke("check"))
    status = invoke("status")
    assert status.exit_code == 0
    assert "Current revision:  ffff" in status.stdout
    assert "unknown revision" in status.stdout
    assert unknown in assert_one_line_error(invoke("migrate"))


@pytest.mark.sqlite
def test_a_database_behind_head_is_not_ready(sqlite_file: Path) -> None:
    sqlite_file.parent.mkdir()
    with closing(sqlite3.connect(sqlite_file)) as connection, connection:
        connection.execute("CREATE TABLE unrelated (x INTEGER)")  # not empty, but no schema
    line = assert_one_line_error(invoke("check"))
    assert line == (
        "Not ready: sqlite:///data/agent.db is at revision none (empty database), "
        f"head is {HEAD}; run `ai-agent db migrate`."
    )
    assert "no schema yet" in invoke("status").stdout


def test_the_db_group_lists_its_four_commands() -> None:
    result = CliRunner().invoke(app, ["db", "--help"])
    assert result.exit_code == 0
    for command in ("migrate", "reset", "check", "status"):
        assert command in result.stdout


# -- PostgreSQL, on the test server ------------------------------------------------------


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def assert_no_password(result: Result, url: str) -> None:
    password = make_url(url).password
    assert password, "the test server's role has a password"
    for text in (result.stdout, result.stderr):
        assert str(password) not in text


async def count_agents(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM agents"))
    finally:
        await connection.close()


async def insert_agent(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "INSERT INTO agents (id, name, llm_config, tools, status, metadata, created_at, "
            "updated_at) VALUES (gen_random_uuid(), 'kept', '{}', '[]', 'idle', '{}', now(), "
            "now())"
        )
    finally:
        await connection.close()


def test_postgresql_missing_database_then_migrate_creates_it(fresh_postgres_url: str) -> None:
    url = fresh_postgres_url
    status = invoke("status", "--url", url)
    assert status.exit_code == 0, status.output
    assert "Current revision:  none (the database does not exist yet)" in status.stdout
    line = assert_one_line_error(invoke("check", "--url", url))
    assert line == (
        f"Not ready: {shown(url)} is at revision none (the database does not exist yet), "
        f"head is {HEAD}; run `ai-agent db migrate`."
    )
    first = invoke("migrate", "--url", url)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        f"Created the database {shown(url)}.",
        f"Migrated {shown(url)}: no schema -> {HEAD} (head).",
    ]
    second = invoke("migrate", "--url", url)
    assert second.stdout == f"{shown(url)} is already at revision {HEAD} (head); nothing to do.\n"
    check = invoke("check", "--url", url)
    assert check.exit_code == 0, check.output
    status = invoke("status", "--url", url)
    assert f"Current revision:  {HEAD}" in status.stdout
    for result in (status, first, second, check):
        assert_no_password(result, url)


def test_postgresql_selected_by_the_settings(
    fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "postgresql")
    monkeypatch.setenv("DATABASE_URL", fresh_postgres_url)
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    assert f"Created the database {shown(fresh_postgres_url)}." in result.stdout
    assert invoke("check").exit_code == 0


async def test_postgresql_reset(fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_postgres_url
    assert (await asyncio.to_thread(invoke, "migrate", "--url", url)).exit_code == 0
    await insert_agent(url)
    monkeypatch.setenv("ENVIRONMENT", "production")
    refused = await asyncio.to_thread(invoke, "reset", "--yes", "--url", url)
    assert_one_line_error(refused)
    assert await count_agents(url) == 1
    monkeypatch.setenv("ENVIRONMENT", "staging")
    result = await asyncio.to_thread(invoke, "reset", "--yes", "--url", url)
    assert result.exit_code == 0, result.output
    assert_no_password(result, url)
    assert await count_agents(url) == 0


def test_postgresql_wrong_password_is_one_line_without_it(postgres_url: str) -> None:
    wrong = make_url(postgres_url).set(password="not-the-password-123")
    url = wrong.render_as_string(hide_password=False)
    for command in ("check", "status", "migrate"):
        result = invoke(command, "--url", url)
        line = assert_one_line_error(result)
        assert "wrong user name or password" in line, line
        assert "not-the-password-123" not in result.output
        assert_no_password(result, postgres_url)


def test_postgresql_unreachable_is_one_line() -> None:
    url = "postgresql://app:hunter2@127.0.0.1:1/agent"
    for command in ("check", "status"):
        line = assert_one_line_error(invoke(command, "--url", url))
        assert line.startswith("Error: cannot use postgresql://app:***@127.0.0.1:1/agent: ")
        assert "unreachable" in line and "hunter2" not in line
