"""Malformed values: one readable line per problem, naming the variable, never a secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ai_agent.config.settings import ConfigurationError, get_settings, load_settings

WriteEnv = Callable[..., Path]


def _problems(monkeypatch: pytest.MonkeyPatch, **variables: str) -> tuple[str, ...]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    return caught.value.problems


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DB_PORT", "abc", "DB_PORT (or DATABASE_PORT): Input should be a valid integer"),
        ("DATABASE_PORT", "abc", "DB_PORT (or DATABASE_PORT): Input should be a valid integer"),
        ("DB_PORT", "70000", "DB_PORT (or DATABASE_PORT): Input should be less than or equal"),
        ("DB_SSL_MODE", "sometimes", "DB_SSL_MODE (or DATABASE_SSL_MODE): Input should be"),
        ("PORT", "http", "PORT: Input should be a valid integer"),
        ("DEBUG", "maybe", "DEBUG: Input should be a valid boolean"),
        ("STORAGE_BACKEND", "mongo", "STORAGE_BACKEND: Input should be 'auto', 'memory'"),
        ("REDIS_SSL", "perhaps", "REDIS_SSL: Input should be a valid boolean"),
        ("REDIS_MAX_CONNECTIONS", "0", "REDIS_MAX_CONNECTIONS: Input should be greater than"),
        ("SECURITY_CORS_ORIGINS", "not-json", "SECURITY_CORS_ORIGINS: expected a JSON list"),
        ("SECURITY_CORS_ORIGINS", '{"a": 1}', "SECURITY_CORS_ORIGINS: expected a JSON list"),
        ("SECURITY_CORS_ORIGINS", "[1]", "SECURITY_CORS_ORIGINS[0]: Input should be a valid str"),
        ("OBSERVABILITY_LOG_LEVEL", "LOUD", "OBSERVABILITY_LOG_LEVEL: Input should be 'DEBUG'"),
        ("OBSERVABILITY_LOG_FORMAT", "xml", "OBSERVABILITY_LOG_FORMAT: Input should be 'json'"),
        ("RETRY_DB_MAX_ATTEMPTS", "0", "RETRY_DB_MAX_ATTEMPTS: Input should be greater than"),
        ("CIRCUIT_BREAKER_LLM_RECOVERY_TIMEOUT", "-1", "CIRCUIT_BREAKER_LLM_RECOVERY_TIMEOUT:"),
        ("RATE_LIMIT_API_DEFAULT_LIMIT", "many", "RATE_LIMIT_API_DEFAULT_LIMIT: Input should"),
        ("FEATURE_ENABLE_RETRIES", "sure", "FEATURE_ENABLE_RETRIES: Input should be a valid bool"),
    ],
)
def test_malformed_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    (problem,) = _problems(monkeypatch, **{variable: value})
    assert problem.startswith(expected), problem


def test_value_is_shown_for_plain_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(monkeypatch, DB_PORT="abc")
    assert problem.endswith("(got 'abc')")


def test_unknown_environment_variable_lists_allowed_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (problem,) = _problems(monkeypatch, ENVIRONMENT="prod")
    assert problem.startswith("ENVIRONMENT: Input should be")
    for name in ("development", "testing", "staging", "production"):
        assert name in problem


def test_unknown_environment_argument_lists_allowed_values() -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_settings("prod")
    message = str(caught.value)
    assert "unknown environment 'prod'" in message
    assert "development, testing, staging, production" in message


def test_max_pool_size_below_min_pool_size(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(monkeypatch, DB_MIN_POOL_SIZE="10", DB_MAX_POOL_SIZE="5")
    assert problem.startswith("DB_MAX_POOL_SIZE")
    assert "greater than or equal to DB_MIN_POOL_SIZE (10)" in problem


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch, DB_PORT="abc", REDIS_DB="-1", PORT="x", SECURITY_CORS_ORIGINS="nope"
    )
    assert [p.split(":")[0] for p in problems] == [
        "DB_PORT (or DATABASE_PORT)",
        "REDIS_DB",
        "SECURITY_CORS_ORIGINS",
        "PORT",
    ]


def test_configuration_error_is_a_value_error_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_PORT", "abc")
    monkeypatch.setenv("WORKERS", "0")
    with pytest.raises(ValueError) as caught:
        get_settings()
    assert isinstance(caught.value, ConfigurationError)
    assert "\n" not in str(caught.value)
    assert str(caught.value) == "; ".join(caught.value.problems)


def test_dotenv_values_are_checked_too(write_env: WriteEnv) -> None:
    write_env(REDIS_PORT="six")
    with pytest.raises(ConfigurationError, match="REDIS_PORT"):
        load_settings()


def test_errors_never_show_secrets(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    problems = _problems(
        monkeypatch,
        DB_PASSWORD=password,
        DB_PORT="abc",
        SECURITY_SECRET_KEY=password,
        SECURITY_API_KEYS=f"[{password}",
        REDIS_URL=f"redis://:{password}@cache/x",
    )
    text = "\n".join(problems)
    assert "SECURITY_API_KEYS: expected a JSON list" in text
    assert "REDIS_URL" in text
    assert password not in text
    assert "p@ss" not in text


def test_secret_list_items_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(monkeypatch, SECURITY_API_KEYS="[12345]")
    assert problem.startswith("SECURITY_API_KEYS[0]:")
    assert "12345" not in problem


def test_long_values_are_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(monkeypatch, WORKERS="9" * 200 + "x")
    assert len(problem) < 200 and problem.endswith("...)")
