"""Loading settings: environments, defaults, precedence, storage selection, no side effects."""

from __future__ import annotations

import os
from collections.abc import Callable
from operator import attrgetter
from pathlib import Path

import pytest
from pydantic import ValidationError

from ai_agent.config.settings import (
    ApplicationSettings,
    CircuitBreakerSettings,
    DatabaseSettings,
    DevelopmentSettings,
    Environment,
    FeatureFlags,
    ProductionSettings,
    RetrySettings,
    StagingSettings,
    StorageBackend,
    TestingSettings,
    get_settings,
    load_settings,
)

WriteEnv = Callable[..., Path]

ENVIRONMENT_CLASSES: dict[str, type[ApplicationSettings]] = {
    "development": DevelopmentSettings,
    "testing": TestingSettings,
    "staging": StagingSettings,
    "production": ProductionSettings,
}


def settings_with(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> ApplicationSettings:
    """The settings loaded with ``values`` set as environment variables."""
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return get_settings()


def test_default_environment_is_development() -> None:
    settings = get_settings()
    assert type(settings) is DevelopmentSettings
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.is_development and not settings.is_production


@pytest.mark.parametrize(("name", "cls"), ENVIRONMENT_CLASSES.items())
def test_argument_selects_the_environment_class(name: str, cls: type[ApplicationSettings]) -> None:
    settings = get_settings(name)
    assert type(settings) is cls
    assert settings.environment.value == name


@pytest.mark.parametrize("value", ["PRODUCTION", "Production", " production "])
def test_environment_variable_selects_case_insensitively(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", value)
    settings = get_settings()
    assert type(settings) is ProductionSettings
    assert settings.is_production


def test_argument_is_case_insensitive_and_beats_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert type(get_settings("Staging")) is StagingSettings


def test_environment_enum_matches_case_insensitively() -> None:
    assert Environment("TESTING") is Environment.TESTING
    assert StorageBackend("PostgreSQL") is StorageBackend.POSTGRESQL


def test_environment_from_dotenv(write_env: WriteEnv) -> None:
    write_env(ENVIRONMENT="staging")
    assert type(get_settings()) is StagingSettings


def test_environment_class_fixes_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert ProductionSettings().environment is Environment.PRODUCTION
    assert ApplicationSettings().environment is Environment.DEVELOPMENT


def test_get_settings_is_cached_per_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    assert get_settings() is first
    assert get_settings("production") is not first
    monkeypatch.setenv("APP_NAME", "renamed")
    assert get_settings().app_name == "ai-agent"
    get_settings.cache_clear()
    assert get_settings().app_name == "renamed"


def test_building_settings_has_no_side_effects(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, write_env: WriteEnv
) -> None:
    write_env(DB_HOST="from-dotenv", SECURITY_SECRET_KEY="k" * 40, CUSTOM_THING="x")
    monkeypatch.setenv("REDIS_HOST", "from-env")
    before = dict(os.environ)
    for name in ENVIRONMENT_CLASSES:
        load_settings(name)
    ProductionSettings()
    assert dict(os.environ) == before
    assert capsys.readouterr() == ("", "")


def test_dotenv_is_read_and_real_variables_win(
    monkeypatch: pytest.MonkeyPatch, write_env: WriteEnv
) -> None:
    write_env(DB_HOST="dotenv-host", DB_NAME="dotenv-name", PORT="9000", DEBUG="false")
    monkeypatch.setenv("DB_HOST", "env-host")
    monkeypatch.setenv("PORT", "9100")
    settings = get_settings()
    assert settings.database.host == "env-host"
    assert settings.database.name == "dotenv-name"
    assert settings.port == 9100
    assert settings.debug is False


def test_explicit_env_file(tmp_path: Path) -> None:
    other = tmp_path / "custom.env"
    other.write_text("APP_NAME=custom\nREDIS_PORT=6400\n")
    settings = load_settings(env_file=other)
    assert settings.app_name == "custom"
    assert settings.redis.port == 6400
    assert load_settings(env_file=None).app_name == "ai-agent"


def test_empty_value_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "")
    monkeypatch.setenv("OBSERVABILITY_LOG_FILE", "")
    monkeypatch.setenv("DB_PORT", "")
    settings = get_settings()
    assert settings.database.password is None
    assert settings.observability.log_file is None
    assert settings.database.port == 5432


# Each variable, the value it is given, the field it sets and what the field then holds.
APPLICATION_VARIABLES = [
    ("APP_NAME", "agent", "app_name", "agent"),
    ("APP_VERSION", "9.9.9", "app_version", "9.9.9"),
    ("DEBUG", "false", "debug", False),
    ("HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("PORT", "8080", "port", 8080),
    ("WORKERS", "3", "workers", 3),
    ("STORAGE_BACKEND", "SQLite", "storage_backend", StorageBackend.SQLITE),
    ("USE_DATABASE", "true", "use_database", True),
    ("USE_REDIS", "1", "use_redis", True),
    ("SQLITE_PATH", "data/agent.db", "sqlite_path", Path("data/agent.db")),
]
SECTION_VARIABLES = [
    ("REDIS_HOST", "cache", "redis.host", "cache"),
    ("REDIS_SESSION_TTL", "0", "redis.session_ttl", 0),
    ("REDIS_KEY_PREFIX", "tenant1", "redis.key_prefix", "tenant1"),
    ("REDIS_CLUSTER_MODE", "true", "redis.cluster_mode", True),
    ("RETRY_DB_MAX_ATTEMPTS", "7", "retry.db_max_attempts", 7),
    ("CIRCUIT_BREAKER_DB_FAILURE_THRESHOLD", "9", "circuit_breaker.db_failure_threshold", 9),
    ("RATE_LIMIT_API_DEFAULT_LIMIT", "11", "rate_limit.api_default_limit", 11),
    (
        "SECURITY_CORS_ORIGINS",
        '["https://a.example.org", "https://b.example.org"]',
        "security.cors_origins",
        ["https://a.example.org", "https://b.example.org"],
    ),
    ("SECURITY_ALGORITHM", "hs512", "security.algorithm", "HS512"),
    ("OBSERVABILITY_LOG_LEVEL", "warning", "observability.log_level", "WARNING"),
    ("OBSERVABILITY_LOG_FORMAT", "JSON", "observability.log_format", "json"),
    ("OBSERVABILITY_HEALTH_CHECK_INTERVAL", "2.5", "observability.health_check_interval", 2.5),
    ("FEATURE_ENABLE_RETRIES", "false", "features.enable_retries", False),
]


@pytest.mark.parametrize(
    "variables", [APPLICATION_VARIABLES, SECTION_VARIABLES], ids=["application", "sections"]
)
def test_variables_set_their_fields(
    monkeypatch: pytest.MonkeyPatch, variables: list[tuple[str, str, str, object]]
) -> None:
    settings = settings_with(monkeypatch, {name: value for name, value, _, _ in variables})
    for name, _, field, expected in variables:
        loaded = attrgetter(field)(settings)
        # The type too: True must not pass for 1, nor a plain string for an enum member.
        assert (type(loaded), loaded) == (type(expected), expected), name


def test_sqlite_path_sets_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, {"SQLITE_PATH": "data/agent.db"})
    assert settings.sqlite_url.render_as_string() == "sqlite:///data/agent.db"


def test_database_prefix_is_accepted_and_db_prefix_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_HOST", "legacy-host")
    monkeypatch.setenv("DATABASE_NAME", "legacy-name")
    monkeypatch.setenv("DB_NAME", "new-name")
    settings = DatabaseSettings()
    assert settings.host == "legacy-host"
    assert settings.name == "new-name"


def test_real_database_prefix_beats_dotenv_db_prefix(
    monkeypatch: pytest.MonkeyPatch, write_env: WriteEnv
) -> None:
    write_env(DB_HOST="dotenv-host", DATABASE_PORT="5440")
    monkeypatch.setenv("DATABASE_HOST", "env-host")
    settings = DatabaseSettings()
    assert settings.host == "env-host"
    assert settings.port == 5440


def test_variables_named_like_a_section_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE", "REDIS", "SECURITY", "FEATURES", "RETRY", "OBSERVABILITY"):
        monkeypatch.setenv(name, "not json")
    settings = get_settings()
    assert settings.database.host == "localhost"


# --- environment defaults, and variables winning over them -------------------------------


def test_development_and_testing_need_no_servers() -> None:
    for name in ("development", "testing"):
        settings = get_settings(name)
        assert settings.selected_backend is StorageBackend.MEMORY
        assert settings.use_memory
        secret = settings.security.secret_key
        assert secret is not None and len(secret.get_secret_value()) >= 32


@pytest.mark.parametrize("name", ["staging", "production"])
def test_deployed_environments_default_to_persistent_storage(name: str) -> None:
    settings = get_settings(name)
    assert settings.use_database and settings.debug is False
    assert settings.selected_backend is StorageBackend.POSTGRESQL
    assert not settings.use_memory
    assert settings.security.secret_key is None  # never invented
    assert settings.security.cors_origins == []


def _secret_key(settings: ApplicationSettings) -> str | None:
    key = settings.security.secret_key
    return None if key is None else key.get_secret_value()


Check = Callable[[ApplicationSettings], bool]
OVERRIDES: dict[str, tuple[str, Check]] = {
    "DEBUG": ("true", lambda s: s.debug is True),
    "USE_DATABASE": ("false", lambda s: s.use_database is False),
    "USE_REDIS": ("false", lambda s: s.use_redis is False),
    "WORKERS": ("6", lambda s: s.workers == 6),
    "HOST": ("10.0.0.1", lambda s: s.host == "10.0.0.1"),
    "DB_MIN_POOL_SIZE": ("2", lambda s: s.database.min_pool_size == 2),
    "DB_MAX_POOL_SIZE": ("30", lambda s: s.database.max_pool_size == 30),
    "DB_NAME": ("other", lambda s: s.database.name == "other"),
    "REDIS_KEY_PREFIX": ("other", lambda s: s.redis.key_prefix == "other"),
    "OBSERVABILITY_LOG_LEVEL": ("ERROR", lambda s: s.observability.log_level == "ERROR"),
    "OBSERVABILITY_LOG_FORMAT": ("console", lambda s: s.observability.log_format == "console"),
    "OBSERVABILITY_TRACING_SAMPLE_RATE": (
        "0.5",
        lambda s: s.observability.tracing_sample_rate == 0.5,
    ),
    "OBSERVABILITY_METRICS_ENABLED": ("false", lambda s: not s.observability.metrics_enabled),
    "SECURITY_SECRET_KEY": ("x" * 40, lambda s: _secret_key(s) == "x" * 40),
    "SECURITY_CORS_ORIGINS": (
        '["https://x.org"]',
        lambda s: s.security.cors_origins == ["https://x.org"],
    ),
    "FEATURE_ENABLE_DEBUG_ENDPOINTS": ("false", lambda s: not s.features.enable_debug_endpoints),
}


@pytest.mark.parametrize("environment", ENVIRONMENT_CLASSES)
@pytest.mark.parametrize("variable", OVERRIDES)
def test_variables_win_over_environment_defaults(
    monkeypatch: pytest.MonkeyPatch, environment: str, variable: str
) -> None:
    value, check = OVERRIDES[variable]
    monkeypatch.setenv(variable, value)
    assert check(get_settings(environment))
    assert check(ENVIRONMENT_CLASSES[environment]())


@pytest.mark.parametrize("cls", ENVIRONMENT_CLASSES.values())
def test_environment_sections_keep_field_constraints(
    monkeypatch: pytest.MonkeyPatch, cls: type[ApplicationSettings]
) -> None:
    monkeypatch.setenv("DB_MIN_POOL_SIZE", "0")
    with pytest.raises(ValidationError):
        cls()
    for name, section in cls.section_classes().items():
        base = ApplicationSettings.section_classes()[name]
        assert issubclass(section, base)
        for field_name, field in section.model_fields.items():
            assert field.metadata == base.model_fields[field_name].metadata, field_name


# --- storage selection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "use_database", "use_redis", "expected"),
    [
        ("auto", "false", "false", StorageBackend.MEMORY),
        ("auto", "true", "false", StorageBackend.POSTGRESQL),
        ("auto", "false", "true", StorageBackend.REDIS),
        ("auto", "true", "true", StorageBackend.POSTGRESQL),
        ("memory", "true", "true", StorageBackend.MEMORY),
        ("sqlite", "true", "true", StorageBackend.SQLITE),
        ("redis", "true", "false", StorageBackend.REDIS),
        ("postgresql", "false", "false", StorageBackend.POSTGRESQL),
    ],
)
def test_selected_backend(
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    use_database: str,
    use_redis: str,
    expected: StorageBackend,
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", backend)
    monkeypatch.setenv("USE_DATABASE", use_database)
    monkeypatch.setenv("USE_REDIS", use_redis)
    settings = get_settings()
    assert settings.selected_backend is expected
    assert settings.use_memory is (expected is StorageBackend.MEMORY)


def test_storage_defaults() -> None:
    settings = get_settings()
    assert settings.storage_backend is StorageBackend.AUTO
    assert settings.sqlite_path == Path("ai_agent.db")


# --- sections ----------------------------------------------------------------------------


def test_retry_and_circuit_breaker_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRY_REDIS_BASE_DELAY", "0.25")
    monkeypatch.setenv("CIRCUIT_BREAKER_MCP_HALF_OPEN_MAX_CALLS", "4")
    retry = RetrySettings().policy("redis")
    assert retry.base_delay == 0.25 and retry.max_attempts >= 1 and retry.jitter is True
    breaker = CircuitBreakerSettings().policy("mcp")
    assert breaker.half_open_max_calls == 4
    for service in ("db", "redis", "llm", "mcp"):
        assert RetrySettings().policy(service).exponential_base >= 1


def test_feature_flag_defaults_match_the_origin() -> None:
    flags = FeatureFlags()
    assert flags.enable_circuit_breakers and flags.enable_retries and flags.enable_fallbacks
    assert not flags.enable_detailed_metrics and not flags.enable_mcp_hot_reload
    assert len(FeatureFlags.model_fields) == 13


def test_settings_are_frozen() -> None:
    settings = get_settings()
    with pytest.raises(ValidationError):
        settings.debug = False
    changed = settings.model_copy(update={"debug": False})
    assert changed.debug is False and settings.debug is True


def test_pool_timeout_is_separate_from_command_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_TIMEOUT", "2")
    monkeypatch.setenv("DB_COMMAND_TIMEOUT", "15")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("REDIS_POOL_TIMEOUT", "4")
    settings = get_settings()
    assert settings.database.pool_timeout == 2.0
    assert settings.database.command_timeout == 15.0
    assert settings.database.connect_timeout == 3.0
    assert settings.redis.pool_timeout == 4.0
