"""The repository factory: selection, URL table, lazy drivers, set-up and clean-up."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from ai_agent.config.settings import (
    ApplicationSettings,
    DatabaseSettings,
    RedisSettings,
    RetrySettings,
    StorageBackend,
)
from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    PostgreSQLRepository,
    RedisRepository,
    RepositoryConnectionError,
    RepositoryError,
    RepositoryFactory,
    SQLiteRepository,
    cleanup_repository,
    get_repository,
    migrations,
    setup_repository,
)
from ai_agent.infrastructure.database.factory import (
    MissingDriverError,
    load_backend,
    require_driver,
)

SECRET = "p@ss:w/rd%#?"


@pytest.fixture(autouse=True)
async def no_current_repository() -> AsyncIterator[None]:
    await cleanup_repository()
    yield
    await cleanup_repository()


def test_server_backends_take_their_retry_policy_from_settings() -> None:
    settings = ApplicationSettings.model_validate(
        {"retry": RetrySettings(db_max_attempts=7, redis_max_attempts=2)}
    )
    postgresql = RepositoryFactory.create_repository(
        settings.model_copy(update={"storage_backend": StorageBackend.POSTGRESQL})
    )
    redis = RepositoryFactory.create_repository(
        settings.model_copy(update={"storage_backend": StorageBackend.REDIS})
    )
    assert postgresql.retry_policy == settings.retry.policy("db")
    assert postgresql.retry_policy is not None and postgresql.retry_policy.max_attempts == 7
    assert redis.retry_policy is not None and redis.retry_policy.max_attempts == 2
    assert RepositoryFactory.create_repository(ApplicationSettings()).retry_policy is None


def test_default_settings_select_memory() -> None:
    repository = RepositoryFactory.create_repository(ApplicationSettings())
    assert isinstance(repository, InMemoryRepository)
    assert not repository.is_connected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"use_database": True}, PostgreSQLRepository),
        ({"use_redis": True}, RedisRepository),
        ({"use_database": True, "use_redis": True}, PostgreSQLRepository),
        ({"storage_backend": "sqlite"}, SQLiteRepository),
        ({"storage_backend": "redis", "use_database": True}, RedisRepository),
        ({"storage_backend": "memory", "use_database": True}, InMemoryRepository),
    ],
)
def test_selection_follows_explicit_backend_then_seed_priority(
    options: dict[str, object], expected: type[object]
) -> None:
    settings = ApplicationSettings.model_validate(options)
    assert isinstance(RepositoryFactory.create_repository(settings), expected)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://", InMemoryRepository),
        ("sqlite:///agent.db", SQLiteRepository),
        ("redis://127.0.0.1:6379/0", RedisRepository),
        ("rediss://127.0.0.1:6380/0", RedisRepository),
        ("postgresql://u:pw@127.0.0.1/db", PostgreSQLRepository),
        ("postgres://u:pw@127.0.0.1/db", PostgreSQLRepository),
        ("postgresql+asyncpg://u:pw@127.0.0.1/db", PostgreSQLRepository),
    ],
)
def test_url_schemes_resolve_through_one_table(url: str, expected: type[object]) -> None:
    repository = RepositoryFactory.from_url(url)
    assert isinstance(repository, expected)
    assert "pw" not in repr(repository)


@pytest.mark.parametrize("password", [quote(SECRET, safe=""), SECRET])
def test_unknown_scheme_is_a_clear_error_without_the_password(password: str) -> None:
    with pytest.raises(RepositoryError, match="unsupported repository URL") as caught:
        RepositoryFactory.from_url(f"mysql://user:{password}@host/db")
    assert password not in str(caught.value)
    assert "mysql://" in str(caught.value)
    assert "postgresql" in str(caught.value)


@pytest.mark.parametrize(
    ("backend", "driver", "hint"),
    [
        ("postgresql", "asyncpg", "pip install 'ai-agent[postgresql]'"),
        ("redis", "redis", "pip install 'ai-agent[redis]'"),
        ("sqlite", "aiosqlite", "pip install aiosqlite"),  # part of the base install
    ],
)
def test_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, backend: str, driver: str, hint: str
) -> None:
    # A None entry in sys.modules makes `import driver` fail exactly as when it is absent.
    for name in list(sys.modules):
        if name == driver or name.startswith(f"{driver}."):
            monkeypatch.delitem(sys.modules, name)
        if name.startswith(f"ai_agent.infrastructure.database.{backend}"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, driver, None)
    with pytest.raises(MissingDriverError) as caught:
        load_backend(backend)
    assert str(caught.value).endswith(f"install it with: {hint}")
    with pytest.raises(MissingDriverError) as checked:
        require_driver(backend)  # the same answer, without importing the backend
    assert str(checked.value) == str(caught.value)


async def test_setup_makes_the_repository_current_and_replaces_the_previous() -> None:
    first = await setup_repository(ApplicationSettings())
    assert first.is_connected
    assert await get_repository() is first
    second = await setup_repository(ApplicationSettings())
    assert await get_repository() is second
    assert not first.is_connected
    await cleanup_repository()
    assert not second.is_connected
    with pytest.raises(RepositoryError, match="no repository is set up"):
        await get_repository()


async def test_get_repository_sets_up_from_settings_once() -> None:
    repository = await get_repository(ApplicationSettings())
    assert repository.is_connected
    assert await get_repository(ApplicationSettings()) is repository


async def test_setup_refuses_an_unmigrated_sqlite_database(tmp_path: Path) -> None:
    settings = ApplicationSettings(
        storage_backend=StorageBackend.SQLITE, sqlite_path=tmp_path / "new.db"
    )
    with pytest.raises(RepositoryConnectionError) as caught:
        await setup_repository(settings)
    assert str(caught.value).endswith(
        f"the SQLite database file {tmp_path / 'new.db'} does not exist; to create it, "
        f"run `ai-agent db migrate --url sqlite:///{tmp_path / 'new.db'}`"
    )
    assert list(tmp_path.iterdir()) == []  # the failed start left no empty file behind
    (tmp_path / "new.db").touch()  # an existing database without the schema
    with pytest.raises(RepositoryError, match=r"has no schema.*run `ai-agent db migrate`"):
        await setup_repository(settings)
    await migrations.upgrade(settings.sqlite_url)  # creates the file when missing
    repository = await setup_repository(settings)
    created = await repository.create_session(Session(user_id="factory"))
    assert await repository.get_session(created.id) == created


async def test_setup_fails_fast_naming_backend_and_redacted_url() -> None:
    database = DatabaseSettings.from_url(
        f"postgresql://app:{quote(SECRET, safe='')}@127.0.0.1:1/none", connect_timeout=2
    )
    settings = ApplicationSettings(storage_backend=StorageBackend.POSTGRESQL, database=database)
    with pytest.raises(RepositoryConnectionError) as caught:
        await setup_repository(settings)
    message = str(caught.value)
    assert "postgresql" in message
    assert "127.0.0.1:1" in message
    assert SECRET not in message
    assert "***" in message


@pytest.mark.postgresql
async def test_setup_refuses_a_postgresql_database_behind_head(postgres_url: str) -> None:
    fresh = make_url(postgres_url).set(database="factory_unmigrated")
    await migrations.ensure_database(fresh)
    await migrations.downgrade(fresh, "base")
    settings = ApplicationSettings(
        storage_backend=StorageBackend.POSTGRESQL,
        database=DatabaseSettings.from_url(fresh.render_as_string(hide_password=False)),
    )
    with pytest.raises(RepositoryError, match="run `ai-agent db migrate`"):
        await setup_repository(settings)


@pytest.mark.redis
async def test_setup_connects_to_redis(redis_url: str) -> None:
    settings = ApplicationSettings(
        storage_backend=StorageBackend.REDIS,
        redis=RedisSettings.from_url(redis_url, key_prefix="factory"),
    )
    repository = await setup_repository(settings)
    assert await repository.health_check()
