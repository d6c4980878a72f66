"""Connection URLs: redaction, escaping, ``from_url`` and ``DATABASE_URL`` / ``REDIS_URL``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from ai_agent.config.settings import (
    ConfigurationError,
    DatabaseSettings,
    RedisSettings,
    get_settings,
)

WriteEnv = Callable[..., Path]


# --- PostgreSQL --------------------------------------------------------------------------


def test_database_url_hides_the_password_and_escapes_it(password: str) -> None:
    settings = DatabaseSettings(
        password=SecretStr(password), user="us@r", host="db", port=5433, name="n"
    )
    url = settings.url
    assert url.drivername == "postgresql"
    shown = (str(url), repr(url), f"{url}", repr(settings), str(settings))
    for text in shown:
        assert password not in text
    assert str(url) == "postgresql://us%40r:***@db:5433/n"
    real = url.render_as_string(hide_password=False)
    assert real == "postgresql://us%40r:p%40ss%3Aw%2Frd%25%23%3F@db:5433/n"
    parsed = make_url(real)
    assert (parsed.username, parsed.password, parsed.host) == ("us@r", password, "db")


def test_database_url_without_password() -> None:
    assert str(DatabaseSettings().url) == "postgresql://postgres@localhost:5432/ai_agent"


def test_database_url_carries_a_non_default_ssl_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_SSL_MODE", "VERIFY-FULL")
    url = DatabaseSettings().url
    assert url.query == {"sslmode": "verify-full"}


@pytest.mark.parametrize(
    "scheme", ["postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"]
)
def test_from_url_accepts_every_postgresql_scheme(scheme: str, password: str) -> None:
    url = f"{scheme}://us%40r:p%40ss%3Aw%2Frd%25%23%3F@db.example.org:6543/agents?sslmode=require"
    settings = DatabaseSettings.from_url(url)
    assert settings.host == "db.example.org"
    assert settings.port == 6543
    assert settings.name == "agents"
    assert settings.user == "us@r"
    assert settings.password is not None
    assert settings.password.get_secret_value() == password
    assert settings.ssl_mode == "require"


def test_from_url_missing_parts_take_defaults_and_overrides_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_MIN_POOL_SIZE", "2")
    settings = DatabaseSettings.from_url("postgresql://db/agents", max_pool_size=4, name="other")
    assert (settings.host, settings.port, settings.user) == ("db", 5432, "postgres")
    assert settings.password is None
    assert settings.name == "other"
    assert (settings.min_pool_size, settings.max_pool_size) == (2, 4)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@h/db",
        "not a url",
        "postgresql://u:p@h:notaport/db",
        "postgresql://u:p@h/db?sslmode=sometimes",
    ],
)
def test_from_url_rejects_bad_urls_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError, match="URL") as caught:
        DatabaseSettings.from_url(url.replace("u:p", "u:hunter2"))
    assert "hunter2" not in str(caught.value)


def test_database_url_variable_replaces_every_part(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("DB_HOST", "ignored-host")
    monkeypatch.setenv("DB_PASSWORD", "ignored-password")
    monkeypatch.setenv("DB_USER", "ignored-user")
    monkeypatch.setenv("DB_MAX_POOL_SIZE", "30")
    monkeypatch.setenv(
        "DATABASE_URL", "postgres://agent:p%40ss%3Aw%2Frd%25%23%3F@pg.internal/agents"
    )
    db = get_settings().database
    assert (db.host, db.port, db.name, db.user) == ("pg.internal", 5432, "agents", "agent")
    assert db.password is not None and db.password.get_secret_value() == password
    assert db.max_pool_size == 30  # not a URL part


def test_database_url_without_password_clears_db_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgresql://agent@pg/agents")
    assert get_settings().database.password is None


def test_database_url_in_dotenv_yields_to_real_variables(
    monkeypatch: pytest.MonkeyPatch, write_env: WriteEnv
) -> None:
    write_env(DATABASE_URL="postgresql://agent:pw@dotenv-host:5000/agents", DB_NAME="ignored")
    monkeypatch.setenv("DB_HOST", "env-host")
    db = get_settings().database
    assert (db.host, db.port, db.name) == ("env-host", 5000, "agents")


def test_bad_database_url_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"mysql://root:{password}@h/db")  # not even parsable
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    assert caught.value.problems[0].startswith("DATABASE_URL is not a valid URL")
    monkeypatch.setenv("DATABASE_URL", "mysql://root:p%40ss%3Aw%2Frd%25%23%3F@h/db")
    with pytest.raises(ConfigurationError) as caught_again:
        get_settings()
    message = str(caught_again.value)
    assert message.startswith("DATABASE_URL must use the postgresql:// scheme")
    for text in (str(caught.value), message):
        assert password not in text
        assert "p%40ss" not in text
        assert "root" not in text


# --- Redis -------------------------------------------------------------------------------


def test_redis_url_defaults() -> None:
    settings = RedisSettings()
    assert str(settings.url) == "redis://localhost:6379/0"
    assert settings.session_ttl >= 3600
    assert settings.key_prefix == "ai_agent"
    assert settings.cluster_mode is False


def test_redis_password_without_username_still_renders(password: str) -> None:
    settings = RedisSettings(password=SecretStr(password), db=3)
    assert str(settings.url) == "redis://:***@localhost:6379/3"
    real = settings.url.render_as_string(hide_password=False)
    assert real == "redis://:p%40ss%3Aw%2Frd%25%23%3F@localhost:6379/3"
    assert make_url(real).password == password
    assert password not in repr(settings)


def test_redis_ssl_and_username(password: str) -> None:
    settings = RedisSettings(ssl=True, username="agent", password=SecretStr(password))
    assert str(settings.url) == "rediss://agent:***@localhost:6379/0"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://cache", ("cache", 6379, 0, None, None, False)),
        ("rediss://cache:6380/2", ("cache", 6380, 2, None, None, True)),
        ("redis://:pw@cache/1", ("cache", 6379, 1, None, "pw", False)),
        ("redis://agent:pw@cache:7000/0", ("cache", 7000, 0, "agent", "pw", False)),
    ],
)
def test_redis_from_url(url: str, expected: tuple[object, ...]) -> None:
    settings = RedisSettings.from_url(url)
    password = settings.password.get_secret_value() if settings.password else None
    got = (settings.host, settings.port, settings.db, settings.username, password, settings.ssl)
    assert got == expected


def test_redis_from_url_decodes_the_password_and_overrides_win(password: str) -> None:
    settings = RedisSettings.from_url(
        "redis://:p%40ss%3Aw%2Frd%25%23%3F@cache/0", key_prefix="t1", db=5
    )
    assert settings.password is not None and settings.password.get_secret_value() == password
    assert (settings.key_prefix, settings.db) == ("t1", 5)


@pytest.mark.parametrize("url", ["http://cache", "redis://cache/zero", "unix:///tmp/r.sock"])
def test_redis_from_url_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        RedisSettings.from_url(url)


def test_redis_url_variable_replaces_every_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "ignored")
    monkeypatch.setenv("REDIS_PASSWORD", "ignored")
    monkeypatch.setenv("REDIS_SSL", "false")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "kept")
    monkeypatch.setenv("REDIS_URL", "rediss://cache.internal:6390/4")
    redis = get_settings().redis
    assert (redis.host, redis.port, redis.db, redis.ssl) == ("cache.internal", 6390, 4, True)
    assert redis.password is None
    assert redis.key_prefix == "kept"


def test_bad_redis_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:secretpw@cache/abc")
    with pytest.raises(ConfigurationError, match="REDIS_URL has a database number") as caught:
        get_settings()
    assert "secretpw" not in str(caught.value)


# --- secrets in repr / str / .env -------------------------------------------------------


def test_settings_never_show_secrets(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setenv("DB_PASSWORD", password)
    monkeypatch.setenv("REDIS_PASSWORD", password)
    monkeypatch.setenv("SECURITY_SECRET_KEY", password * 4)
    monkeypatch.setenv("SECURITY_API_KEYS", f'["{password}"]')
    settings = get_settings("production")
    for text in (repr(settings), str(settings), f"{settings}", repr(settings.model_dump())):
        assert password not in text
        assert "p%40ss" not in text
    assert password not in settings.model_dump_json()


def test_password_with_special_characters_in_dotenv(write_env: WriteEnv, password: str) -> None:
    write_env(DB_PASSWORD=password, REDIS_PASSWORD=f"'{password}'")
    settings = get_settings()
    assert settings.database.password is not None
    assert settings.database.password.get_secret_value() == password
    assert settings.redis.password is not None
    assert settings.redis.password.get_secret_value() == password
