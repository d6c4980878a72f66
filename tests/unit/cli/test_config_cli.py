"""``ai-agent config show|validate``, configuration errors, ``python -m ai_agent``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ai_agent import __version__
from ai_agent.cli import app as app_module
from ai_agent.cli.app import app, main
from ai_agent.config.errors import ConfigurationError
from settings_isolation import environment_without_settings, isolate_settings
from subprocesses import run_captured

PASSWORD = "p@ss:w/rd%#?"
ESCAPED_PASSWORD = "p%40ss%3Aw%2Frd%25%23%3F"
GOOD_KEY = "Zq3v9LrT8wXk2PmN5sYb7HcJ4fGd6QaE1uVo0iKl"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_settings(monkeypatch, tmp_path)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _set_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("REDIS_URL", f"rediss://agent:{ESCAPED_PASSWORD}@cache:6380/1")
    monkeypatch.setenv("SECURITY_SECRET_KEY", f"{PASSWORD}-and-some-more-characters")
    monkeypatch.setenv("SECURITY_API_KEYS", json.dumps([f"api-{PASSWORD}"]))


def _assert_no_secret(text: str) -> None:
    assert PASSWORD not in text
    assert ESCAPED_PASSWORD not in text
    assert "p@ss" not in text


def test_show_prints_a_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "application (development; no prefix)" in result.stdout
    assert "database (DB_* or DATABASE_*)" in result.stdout
    assert "features (FEATURE_*)" in result.stdout
    assert re.search(r"selected_backend +│ memory \(derived\)", result.stdout)
    assert "postgresql://postgres@localhost:5432/ai_agent (derived)" in result.stdout


def test_show_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["environment"] == "development"
    assert data["selected_backend"] == "memory"
    assert data["use_memory"] is True
    assert data["database"]["url"] == "postgresql://postgres@localhost:5432/ai_agent"
    assert set(data) >= {"database", "redis", "retry", "circuit_breaker", "rate_limit"}
    assert set(data) >= {"security", "observability", "features"}


@pytest.mark.parametrize("args", [[], ["--json"], ["--env", "production"]])
def test_show_redacts_every_secret(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _set_secrets(monkeypatch)
    result = runner.invoke(app, ["config", "show", *args])
    assert result.exit_code == 0, result.output
    _assert_no_secret(result.output)
    assert "***" in result.output


def test_show_json_masks_secret_fields_and_urls(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_secrets(monkeypatch)
    data = json.loads(runner.invoke(app, ["config", "show", "--json"]).stdout)
    assert data["database"]["password"] == "**********"
    assert data["database"]["url"] == "postgresql://postgres:***@localhost:5432/ai_agent"
    assert data["redis"]["url"] == "rediss://agent:***@cache:6380/1"
    assert data["security"]["secret_key"] == "**********"
    assert data["security"]["api_keys"] == ["**********"]


@pytest.mark.parametrize("option", ["--env", "-e"])
def test_show_for_another_environment(runner: CliRunner, option: str) -> None:
    result = runner.invoke(app, ["config", "show", "--json", option, "Production"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["environment"] == "production"
    assert data["security"]["secret_key"] is None


def test_show_reads_env_file(runner: CliRunner, tmp_path: Path) -> None:
    env_file = tmp_path / "staging.env"
    env_file.write_text("ENVIRONMENT=staging\nAPP_NAME=from-file\n")
    result = runner.invoke(app, ["config", "show", "--json", "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["environment"], data["app_name"]) == ("staging", "from-file")


def test_missing_env_file_is_a_configuration_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show", "--env-file", "nope.env"])
    assert result.exit_code == 2
    assert result.stderr == "Configuration error: env file 'nope.env' does not exist.\n"


@pytest.mark.parametrize("command", ["show", "validate"])
def test_bad_variable_is_one_line_and_exit_2(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("DB_PORT", "abc")
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    result = runner.invoke(app, ["config", command])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: DB_PORT (or DATABASE_PORT): Input should be")
    assert "Traceback" not in result.output
    _assert_no_secret(result.output)


def test_unknown_environment_option_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "validate", "--env", "prod"])
    assert result.exit_code == 2
    assert "unknown environment 'prod'" in result.stderr
    assert "development, testing, staging, production" in result.stderr


def test_validate_valid_configuration(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Configuration for development is valid.\n"


def test_validate_reports_every_problem_and_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("SECURITY_CORS_ORIGINS", '["*"]')
    result = runner.invoke(app, ["config", "validate", "--env", "production"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Configuration for production has 4 problem(s):",
        "  - SECURITY_SECRET_KEY is not set; generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
        "  - DEBUG is on; turn it off in production.",
        "  - SECURITY_CORS_ORIGINS contains '*'; list the allowed origins instead.",
        "  - DB_PASSWORD is not set but PostgreSQL is the storage backend.",
    ]


def test_validate_never_shows_secrets(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_secrets(monkeypatch)
    monkeypatch.setenv("SECURITY_SECRET_KEY", f"change-{PASSWORD}")
    result = runner.invoke(app, ["config", "validate", "--env", "production"])
    assert result.exit_code == 1
    assert "SECURITY_SECRET_KEY looks like a placeholder" in result.stderr
    _assert_no_secret(result.output)


def test_validate_production_that_is_valid(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    result = runner.invoke(app, ["config", "validate", "-e", "production"])
    assert result.exit_code == 0, result.output
    _assert_no_secret(result.output)


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"ai-agent {__version__}\n"


def test_main_turns_a_configuration_error_into_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = typer.Typer()

    @failing.command()
    def boom() -> None:
        raise ConfigurationError(["SOMETHING: is wrong"])

    monkeypatch.setattr(app_module, "app", failing)
    monkeypatch.setattr(sys, "argv", ["ai-agent"])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 2
    assert capsys.readouterr().err == "Configuration error: SOMETHING: is wrong\n"


def _run_module(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = environment_without_settings()
    return run_captured([sys.executable, "-m", "ai_agent", *args], env={**clean, **env})


def test_python_dash_m_runs_the_same_app() -> None:
    shown = _run_module("config", "show", "--json", DB_PASSWORD=PASSWORD)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["database"]["password"] == "**********"
    _assert_no_secret(shown.stdout + shown.stderr)
    invalid = _run_module("config", "validate", "--env", "production")
    assert invalid.returncode == 1
    assert "SECURITY_SECRET_KEY is not set" in invalid.stderr


def test_python_dash_m_configuration_error_has_no_traceback() -> None:
    failed = _run_module("config", "show", DB_PORT="abc", DB_PASSWORD=PASSWORD)
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.startswith("Configuration error: DB_PORT")
    assert len(failed.stderr.splitlines()) == 1
    _assert_no_secret(failed.stderr)


@pytest.mark.parametrize("as_json", [True, False])
def test_show_masks_the_fallback_url_password(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    monkeypatch.setenv("FALLBACK_URL", f"postgresql://agent:{ESCAPED_PASSWORD}@db.example/agent")
    result = runner.invoke(app, ["config", "show", *(["--json"] if as_json else [])])
    assert result.exit_code == 0, result.output
    assert "postgresql://agent:***@db.example/agent" in result.stdout
    assert PASSWORD not in result.output and ESCAPED_PASSWORD not in result.output
    if as_json:
        assert (
            json.loads(result.stdout)["fallback_url"] == "postgresql://agent:***@db.example/agent"
        )


def test_show_masks_an_unparseable_fallback_url_entirely(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALLBACK_URL", f"not a url {PASSWORD}")
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fallback_url"] == "***"
    assert PASSWORD not in result.output
