"""Errors about where the data lives say how to fix it.

Each case checks the exact advice: what was given (password masked), the accepted forms, and
the likely intended value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ai_agent.cli.app import app
from ai_agent.config.settings import (
    ApplicationSettings,
    ConfigurationError,
    ConfigurationValidator,
    StorageBackend,
    get_settings,
)
from ai_agent.infrastructure.database import (
    RepositoryConnectionError,
    RepositoryError,
    RepositoryFactory,
    RepositoryValidationError,
    SQLiteRepository,
    migrations,
    setup_repository,
)

pytestmark = pytest.mark.sqlite

FORMS = (
    "use sqlite:///relative.db (three slashes: a path relative to the working directory) "
    "or sqlite:////absolute/path.db (four slashes)"
)
HOST_ADVICE = (
    f"'sqlite://agent.db' puts 'agent.db' where a host name goes, and a SQLite URL has none; "
    f"{FORMS}: did you mean 'sqlite:///agent.db'?"
)
SCHEMES = (
    "memory, postgres, postgresql, postgresql+asyncpg, redis, rediss, sqlite, sqlite+aiosqlite"
)
EXAMPLES = (
    "memory://, sqlite:///relative.db, sqlite:////absolute/path.db, redis://host:6379/0 "
    "(rediss:// for TLS), postgresql://user:password@host/name"
)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # settings are read again from this test's environment
    yield
    get_settings.cache_clear()


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(app, list(arguments))


def one_error_line(result: Result, status: int = 1) -> str:
    assert result.exit_code == status, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- sqlite://agent.db: two slashes ----------------------------------------------------------


@pytest.mark.parametrize("command", ["migrate", "status", "check", "reset"])
def test_db_commands_explain_a_two_slash_sqlite_url(tmp_path: Path, command: str) -> None:
    arguments = ["db", command, "--url", "sqlite://agent.db"]
    line = one_error_line(invoke(*arguments, *(["--yes"] if command == "reset" else [])))
    assert line == f"Error: {HOST_ADVICE}"
    assert list(tmp_path.iterdir()) == []


def test_the_async_spelling_gets_the_same_advice() -> None:
    line = one_error_line(invoke("db", "migrate", "--url", "sqlite+aiosqlite://data/agent.db"))
    assert line == (
        "Error: 'sqlite+aiosqlite://data/agent.db' puts 'data' where a host name goes, and a "
        f"SQLite URL has none; {FORMS}: did you mean 'sqlite:///data/agent.db'?"
    )


def test_the_library_gives_the_same_advice() -> None:
    with pytest.raises(RepositoryValidationError) as from_factory:
        RepositoryFactory.from_url("sqlite://agent.db")
    assert str(from_factory.value) == f"SQLiteRepository: {HOST_ADVICE}"
    with pytest.raises(RepositoryValidationError) as from_class:
        SQLiteRepository.from_url("sqlite://agent.db")
    assert str(from_class.value) == f"SQLiteRepository: {HOST_ADVICE}"
    with pytest.raises(RepositoryError) as from_migrations:
        migrations.sql_url("sqlite://agent.db")
    assert str(from_migrations.value) == HOST_ADVICE


def test_a_url_naming_no_file_says_so() -> None:
    with pytest.raises(RepositoryValidationError) as caught:
        RepositoryFactory.from_url("sqlite://")
    assert str(caught.value) == f"SQLiteRepository: 'sqlite://' names no database file; {FORMS}"


# -- sqlite:agent.db: no slashes -------------------------------------------------------------


def test_the_factory_shows_a_value_without_slashes_and_the_schemes() -> None:
    with pytest.raises(RepositoryError) as caught:
        RepositoryFactory.from_url("sqlite:agent.db")
    assert str(caught.value) == (
        f"unsupported repository URL 'sqlite:agent.db': expected one of the schemes {SCHEMES}, "
        f"as in {EXAMPLES}; did you mean 'sqlite:///agent.db'?"
    )


def test_a_value_that_is_no_url_is_shown_with_its_password_masked() -> None:
    with pytest.raises(RepositoryError) as caught:
        RepositoryFactory.from_url("postgresql:app:hunter2@db.internal/agents")
    assert str(caught.value) == (
        "unsupported repository URL 'postgresql:***@db.internal/agents': expected one of the "
        f"schemes {SCHEMES}, as in {EXAMPLES}; did you mean 'postgresql://***@db.internal/agents'?"
    )


def test_db_migrate_explains_a_sqlite_value_without_slashes(tmp_path: Path) -> None:
    line = one_error_line(invoke("db", "migrate", "--url", "sqlite:agent.db"))
    assert line == (
        f"Error: 'sqlite:agent.db' is not a SQLite URL; {FORMS}: did you mean 'sqlite:///agent.db'?"
    )
    assert list(tmp_path.iterdir()) == []


# -- SQLITE_PATH -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("sqlite:///agent.db", "agent.db"),
        ("sqlite:///data/agent.db", "data/agent.db"),
        ("sqlite:////srv/ai/agent.db", "/srv/ai/agent.db"),
        ("SQLite+aiosqlite:///agent.db", "agent.db"),
        ("data/agent.db", "data/agent.db"),
    ],
)
def test_sqlite_path_takes_a_path_or_the_url_form(
    monkeypatch: pytest.MonkeyPatch, value: str, path: str
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", value)
    settings = get_settings()
    assert settings.sqlite_path == Path(path)
    assert ConfigurationValidator.validate_settings(settings) == []


def test_sqlite_path_with_a_bad_url_says_what_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLITE_PATH", "sqlite://agent.db")
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    assert caught.value.problems == (
        f"SQLITE_PATH: takes a file path or a SQLite URL; {HOST_ADVICE} (got 'sqlite://agent.db')",
    )


def test_sqlite_path_holding_another_url_masks_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLITE_PATH", "postgresql://app:hunter2@db/agents")
    result = invoke("config", "show")
    line = one_error_line(result, status=2)
    assert line == (
        "Configuration error: SQLITE_PATH: takes a file path or a SQLite URL; "
        f"'postgresql://app:***@db/agents' is not a SQLite URL; {FORMS} "
        "(got 'postgresql://app:***@db/agents')"
    )


# -- a start on a file that is not there, and missing directories ----------------------------


async def test_a_failed_start_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "agent.db"
    settings = ApplicationSettings(storage_backend=StorageBackend.SQLITE, sqlite_path=path)
    with pytest.raises(RepositoryConnectionError) as caught:
        await setup_repository(settings)
    assert str(caught.value) == (
        f"cannot connect to the sqlite backend at sqlite:///{path}: the SQLite database file "
        f"{path} does not exist; to create it, run `ai-agent db migrate --url sqlite:///{path}`"
    )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RepositoryConnectionError):
        await SQLiteRepository(path).connect()
    assert list(tmp_path.iterdir()) == []


def test_validation_and_migrate_agree_on_a_missing_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", "sqlite:///state/db/agent.db")
    validated = invoke("config", "validate")
    assert validated.exit_code == 0, validated.output
    migrated = invoke("db", "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert migrated.stdout.startswith("Created the database sqlite:///state/db/agent.db.\n")
    assert (tmp_path / "state" / "db" / "agent.db").is_file()
