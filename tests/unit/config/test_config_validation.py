"""``ConfigurationValidator``: every rule fires, valid settings pass, no secret is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_agent.config.sections import DEVELOPMENT_SECRET_KEY
from ai_agent.config.settings import (
    ApplicationSettings,
    ConfigurationValidator,
    get_settings,
)

GOOD_KEY = "Zq3v9LrT8wXk2PmN5sYb7HcJ4fGd6QaE1uVo0iKl"
GOOD_PASSWORD = "Str0ng-DB-pw"


def _deployed(
    monkeypatch: pytest.MonkeyPatch, environment: str = "production", **variables: str
) -> ApplicationSettings:
    """Settings that pass every rule, changed by ``variables``."""
    baseline = {"SECURITY_SECRET_KEY": GOOD_KEY, "DB_PASSWORD": GOOD_PASSWORD, **variables}
    for name, value in baseline.items():
        monkeypatch.setenv(name, value)
    return get_settings(environment)


def _problems(monkeypatch: pytest.MonkeyPatch, **variables: str) -> list[str]:
    return ConfigurationValidator.validate_settings(_deployed(monkeypatch, **variables))


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_local_environment_defaults_are_valid(environment: str) -> None:
    assert ConfigurationValidator.validate_settings(get_settings(environment)) == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_complete_deployed_settings_are_valid(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    settings = _deployed(monkeypatch, environment)
    assert ConfigurationValidator.validate_settings(settings) == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deployed_defaults_report_missing_key_and_password(environment: str) -> None:
    problems = ConfigurationValidator.validate_settings(get_settings(environment))
    assert len(problems) == 2
    assert problems[0].startswith("SECURITY_SECRET_KEY is not set")
    assert problems[1] == "DB_PASSWORD is not set but PostgreSQL is the storage backend."


def test_deployment_rules_do_not_apply_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_CORS_ORIGINS", '["*"]')
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("USE_DATABASE", "true")
    monkeypatch.setenv("SECURITY_SECRET_KEY", "short")
    assert ConfigurationValidator.validate_settings(get_settings("development")) == []


# --- deployment rules (staging and production) ------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_missing_secret_key(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    settings = _deployed(monkeypatch, environment)
    settings = settings.model_copy(
        update={"security": settings.security.model_copy(update={"secret_key": None})}
    )
    problems = ConfigurationValidator.validate_settings(settings)
    assert len(problems) == 1 and problems[0].startswith("SECURITY_SECRET_KEY is not set")


def test_blank_secret_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(monkeypatch, SECURITY_SECRET_KEY=" " * 40)
    assert problem.startswith("SECURITY_SECRET_KEY is not set")


def test_development_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, SECURITY_SECRET_KEY=DEVELOPMENT_SECRET_KEY) == [
        "SECURITY_SECRET_KEY is the development-only default; set a random key."
    ]


@pytest.mark.parametrize(
    "key",
    [
        "CHANGE_ME_to_a_long_random_value_of_48_characters",
        "your-32-character-secret-key-goes-here-now",
        "an-example-of-a-long-enough-key-for-everything",
        "my-own-secret-key-that-is-long-enough-for-jwt",
        "please-Change-this-before-deploying-the-app-now",
    ],
)
def test_placeholder_secret_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    problems = _problems(monkeypatch, SECURITY_SECRET_KEY=key)
    assert problems == ["SECURITY_SECRET_KEY looks like a placeholder; set a random key."]
    assert key not in "".join(problems)


def test_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, SECURITY_SECRET_KEY="Zq3v9LrT8wXk2PmN5sYb7HcJ4fGd6Qa")
    assert problems == ["SECURITY_SECRET_KEY is 31 characters long; it must be at least 32."]


def test_short_placeholder_reports_both(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, SECURITY_SECRET_KEY="changeme")
    assert len(problems) == 2


def test_debug_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, DEBUG="true") == ["DEBUG is on; turn it off in production."]


def test_debug_endpoints_on(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, FEATURE_ENABLE_DEBUG_ENDPOINTS="1")
    assert problems == ["FEATURE_ENABLE_DEBUG_ENDPOINTS is on; turn it off in production."]


def test_wildcard_cors_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, SECURITY_CORS_ORIGINS='["https://a.example.org", " * "]')
    assert problems == ["SECURITY_CORS_ORIGINS contains '*'; list the allowed origins instead."]


@pytest.mark.parametrize(
    "variables",
    [
        {"STORAGE_BACKEND": "memory"},
        {"USE_DATABASE": "false", "USE_REDIS": "false"},
    ],
)
def test_in_memory_storage(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    (problem,) = _problems(monkeypatch, **variables)
    assert problem.startswith("Storage is in-memory")


@pytest.mark.parametrize(
    "variables",
    [{}, {"STORAGE_BACKEND": "postgresql", "USE_DATABASE": "false"}],
)
def test_missing_database_password(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    settings = _deployed(monkeypatch, **variables)
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"password": None})}
    )
    problems = ConfigurationValidator.validate_settings(settings)
    assert problems == ["DB_PASSWORD is not set but PostgreSQL is the storage backend."]


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
def test_database_password_not_needed_without_postgresql(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    settings = _deployed(monkeypatch, STORAGE_BACKEND=backend)
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"password": None})}
    )
    assert ConfigurationValidator.validate_settings(settings) == []


def test_placeholder_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, DB_PASSWORD="CHANGE_ME") == [
        "DB_PASSWORD looks like a placeholder; set the real password."
    ]


def test_placeholder_redis_password(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, REDIS_PASSWORD="changeme-please") == [
        "REDIS_PASSWORD looks like a placeholder; set the real password."
    ]
    get_settings.cache_clear()
    # Not reported when Redis is not used at all.
    assert _problems(monkeypatch, USE_REDIS="false") == []


# --- rules for every environment --------------------------------------------------------


@pytest.mark.parametrize("environment", ["development", "production"])
def test_inconsistent_pool_sizes(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    # Loading refuses this; settings changed after loading can still get here.
    settings = _deployed(monkeypatch, environment)
    database = settings.database.model_copy(update={"min_pool_size": 10, "max_pool_size": 5})
    problems = ConfigurationValidator.validate_settings(
        settings.model_copy(update={"database": database})
    )
    assert problems == ["DB_MAX_POOL_SIZE (5) is smaller than DB_MIN_POOL_SIZE (10)."]


@pytest.mark.parametrize("service", ["db", "redis", "llm", "mcp"])
def test_retry_base_delay_above_max_delay(monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    prefix = f"RETRY_{service.upper()}"
    monkeypatch.setenv(f"{prefix}_BASE_DELAY", "100")
    monkeypatch.setenv(f"{prefix}_MAX_DELAY", "10")
    problems = ConfigurationValidator.validate_settings(get_settings("testing"))
    assert problems == [f"{prefix}_BASE_DELAY (100.0) is greater than {prefix}_MAX_DELAY (10.0)."]


def test_sqlite_path_in_missing_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # `ai-agent db migrate` creates missing directories, so validation accepts them.
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "missing" / "deeper" / "agent.db"))
    assert ConfigurationValidator.validate_settings(get_settings()) == []


def test_sqlite_path_through_a_file_or_at_a_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "a-file" / "sub" / "agent.db"))
    assert ConfigurationValidator.validate_settings(get_settings()) == [
        f"SQLITE_PATH points into {str(tmp_path / 'a-file')!r}, which is a file, not a directory."
    ]
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path))
    get_settings.cache_clear()
    assert ConfigurationValidator.validate_settings(get_settings()) == [
        f"SQLITE_PATH is {str(tmp_path)!r}, a directory; it must name a database file."
    ]


def test_log_file_in_missing_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBSERVABILITY_LOG_FILE", str(tmp_path / "nowhere" / "agent.log"))
    (problem,) = ConfigurationValidator.validate_settings(get_settings())
    assert problem.startswith("OBSERVABILITY_LOG_FILE points into")


def test_redis_cluster_with_a_database_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_CLUSTER_MODE", "true")
    monkeypatch.setenv("REDIS_DB", "2")
    (problem,) = ConfigurationValidator.validate_settings(get_settings())
    assert problem.startswith("REDIS_DB is 2 but REDIS_CLUSTER_MODE is on")


def test_every_problem_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch,
        SECURITY_SECRET_KEY="short",
        DEBUG="true",
        SECURITY_CORS_ORIGINS='["*"]',
        DB_PASSWORD="change_me",
        REDIS_CLUSTER_MODE="true",
        REDIS_DB="1",
    )
    assert len(problems) == 5


# --- validate_or_exit ---------------------------------------------------------------------


def test_validate_or_exit_returns_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    ConfigurationValidator.validate_or_exit(get_settings())
    assert capsys.readouterr() == ("", "")


def test_validate_or_exit_prints_problems_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    monkeypatch.setenv("DB_PASSWORD", password)
    monkeypatch.setenv("SECURITY_SECRET_KEY", f"change-{password}")
    monkeypatch.setenv("DEBUG", "true")
    with pytest.raises(SystemExit) as caught:
        ConfigurationValidator.validate_or_exit(get_settings("production"))
    assert caught.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Invalid configuration for production:" in err
    assert "  - SECURITY_SECRET_KEY looks like a placeholder" in err
    assert "  - DEBUG is on" in err
    assert password not in err
