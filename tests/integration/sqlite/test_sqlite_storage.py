"""The SQLite backend as a file: durability, settings, construction, schema and open errors."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from ai_agent.config.settings import ApplicationSettings
from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import (
    RepositoryConnectionError,
    RepositoryError,
    RepositoryValidationError,
    migrations,
)
from ai_agent.infrastructure.database.factory import RepositoryFactory
from ai_agent.infrastructure.database.sqlite import SQLiteRepository
from contract import factories

pytestmark = pytest.mark.sqlite

STAMP = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


async def test_committed_data_survives_a_new_repository_on_the_same_file(database: Path) -> None:
    session = factories.make_session(metadata={"big": 2**70, "text": "héllo 😀"})
    message = factories.make_message(session, created_at=STAMP)
    server = factories.make_mcp_server()
    tool = factories.make_tool(mcp_server_id=server.id)
    agent = factories.make_agent()
    service = factories.make_external_service()
    async with SQLiteRepository(database) as first:
        await first.create_session(session)
        stored_message = await first.create_message(message)
        stored_server = await first.create_mcp_server(server)
        stored_tool = await first.create_tool(tool)
        stored_agent = await first.create_agent(agent)
        stored_service = await first.create_external_service(service)
        stored_session = await first.get_session(session.id)

    async with SQLiteRepository(database) as second:
        assert await second.get_session(session.id) == stored_session
        assert await second.get_message(message.id) == stored_message
        assert await second.get_mcp_server(server.id) == stored_server
        assert await second.get_tool(tool.id) == stored_tool
        assert await second.get_agent(agent.id) == stored_agent
        assert await second.get_external_service(service.id) == stored_service
    assert stored_session is not None and stored_session.message_count == 1


async def test_a_disconnected_repository_reconnects_and_keeps_its_data(database: Path) -> None:
    repository = SQLiteRepository(database)
    await repository.connect()
    session = await repository.create_session(Session())
    await repository.disconnect()
    with pytest.raises(RepositoryConnectionError):
        await repository.get_session(session.id)
    assert await repository.health_check() is False
    await repository.connect()
    try:
        assert await repository.get_session(session.id) == session
        assert await repository.health_check() is True
    finally:
        await repository.disconnect()


async def pragma(repository: SQLiteRepository, name: str) -> object:
    rows = list(await repository._connection.driver().execute_fetchall(f"PRAGMA {name}"))
    return rows[0][0]


async def test_the_file_uses_wal_and_the_connection_enforces_foreign_keys(
    repository: SQLiteRepository, database: Path
) -> None:
    with closing(sqlite3.connect(database)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert await pragma(repository, "foreign_keys") == 1
    assert await pragma(repository, "synchronous") == 2  # FULL
    assert await pragma(repository, "busy_timeout") == 5000


async def test_synchronous_normal_and_busy_timeout_are_options(database: Path) -> None:
    async with SQLiteRepository(database, synchronous="NORMAL", busy_timeout=0.25) as repository:
        assert await pragma(repository, "synchronous") == 1
        assert await pragma(repository, "busy_timeout") == 250


async def test_settings_choose_synchronous_and_busy_timeout(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(database))
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "NORMAL")
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT", "0.5")
    repository = RepositoryFactory.create_repository(
        ApplicationSettings(), registry=CollectorRegistry()
    )
    assert isinstance(repository, SQLiteRepository)
    async with repository:
        assert await pragma(repository, "synchronous") == 1
        assert await pragma(repository, "busy_timeout") == 500
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        ApplicationSettings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///relative.db", Path("relative.db").absolute()),
        ("sqlite:////srv/data/agent.db", Path("/srv/data/agent.db")),
        ("sqlite+aiosqlite:////srv/agent.db", Path("/srv/agent.db")),
    ],
)
def test_from_url_reads_the_path(url: str, expected: Path) -> None:
    repository = SQLiteRepository.from_url(url)
    assert repository.path == expected
    assert repository.display_url == f"sqlite:///{expected}"
    assert repr(repository) == f"SQLiteRepository('sqlite:///{expected}')"


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "postgresql://u:p@h/db", "not a url"]
)
def test_from_url_rejects_what_is_not_a_database_file(url: str) -> None:
    with pytest.raises(RepositoryValidationError) as caught:
        SQLiteRepository.from_url(url)
    assert "p@h" not in str(caught.value)


@pytest.mark.parametrize(
    "options",
    [{"synchronous": "OFF"}, {"busy_timeout": -1.0}, {"busy_timeout": float("nan")}],
)
def test_constructor_rejects_bad_options(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(RepositoryValidationError):
        SQLiteRepository(tmp_path / "x.db", **options)  # type: ignore[arg-type]


async def test_constructor_does_not_touch_the_file(tmp_path: Path) -> None:
    SQLiteRepository(tmp_path / "never.db")
    assert not (tmp_path / "never.db").exists()


async def test_schema_revision_reports_the_migration_state(
    tmp_path: Path, repository: SQLiteRepository
) -> None:
    assert await repository.schema_revision() == migrations.head_revision()
    (tmp_path / "empty.db").touch()  # an empty file: a database without tables
    async with SQLiteRepository(tmp_path / "empty.db") as empty:
        assert await empty.schema_revision() is None
        with pytest.raises(RepositoryError, match="run `ai-agent db migrate`"):
            await empty.create_session(Session())
        with pytest.raises(RepositoryError, match="no schema"):
            await empty.list_agents()


async def test_schema_revision_needs_a_connection(database: Path) -> None:
    with pytest.raises(RepositoryConnectionError):
        await SQLiteRepository(database).schema_revision()


async def test_a_directory_that_does_not_exist_is_a_connection_error(tmp_path: Path) -> None:
    repository = SQLiteRepository(tmp_path / "missing" / "agent.db")
    with pytest.raises(RepositoryConnectionError, match=r"missing/agent\.db"):
        await repository.connect()
    assert not repository.is_connected


async def test_a_file_that_is_not_a_database_is_a_connection_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for" * 200)
    with pytest.raises(RepositoryConnectionError, match=r"notes\.db"):
        await SQLiteRepository(path).connect()
