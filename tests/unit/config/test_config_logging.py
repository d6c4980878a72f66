"""Logging set-up and secret redaction."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from ai_agent.config.logging import configure_logging, reset_logging
from ai_agent.config.redaction import REDACTED, is_secret_key, redact, redact_text
from ai_agent.config.settings import DatabaseSettings, ObservabilitySettings


def _configure(**fields: Any) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(ObservabilitySettings(**fields), stream=stream)
    return stream


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_json_lines_with_level_logger_and_utc_timestamp() -> None:
    stream = _configure(log_format="json", log_level="INFO")
    structlog.get_logger("ai_agent.test").info("session created", session_id="s1")
    (line,) = _json_lines(stream)
    assert line["event"] == "session created"
    assert line["session_id"] == "s1"
    assert line["level"] == "info"
    assert line["logger"] == "ai_agent.test"
    assert line["timestamp"].endswith("Z")


def test_level_filters_structlog_and_standard_library() -> None:
    stream = _configure(log_format="json", log_level="WARNING")
    log = structlog.get_logger("ai_agent.test")
    log.info("hidden")
    log.warning("shown")
    logging.getLogger("some.library").info("hidden too")
    logging.getLogger("some.library").error("library %s", "error")
    assert [line["event"] for line in _json_lines(stream)] == ["shown", "library error"]


def test_console_format() -> None:
    stream = _configure(log_format="console", log_level="DEBUG")
    structlog.get_logger("ai_agent.test").debug("hello", answer=42)
    output = stream.getvalue()
    assert "hello" in output and "answer=42" in output
    assert not output.lstrip().startswith("{")
    assert "\x1b[" not in output  # no colours when not a terminal


def test_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "agent.log"
    stream = _configure(log_format="json", log_file=log_file)
    structlog.get_logger().info("to both")
    reset_logging()
    assert json.loads(log_file.read_text())["event"] == "to both"
    assert _json_lines(stream)[0]["event"] == "to both"


def test_configure_is_idempotent_and_reset_restores_the_root_logger() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    _configure(log_level="ERROR")
    stream = _configure(log_level="ERROR")
    assert len(root.handlers) == len(handlers) + 1
    structlog.get_logger().error("once")
    assert len(_json_lines(stream)) == 1
    reset_logging()
    assert root.level == level and root.handlers == handlers


def test_secrets_never_reach_the_output(password: str) -> None:
    stream = _configure(log_format="json", log_level="DEBUG")
    url = DatabaseSettings(password=SecretStr(password)).url
    structlog.get_logger().info(
        f"connecting to {url.render_as_string(hide_password=False)}",
        url=url,
        dsn=url.render_as_string(hide_password=False),
        password=password,
        secret_key=SecretStr(password),
        api_key=password,
        access_token=password,
        config={"authentication": {"token": password}, "nested": [SecretStr(password)]},
    )
    logging.getLogger("asyncpg").warning("retrying redis://:%s@cache:6379/0", password)
    output = stream.getvalue()
    assert password not in output
    assert "p%40ss" not in output
    lines = _json_lines(stream)
    assert lines[0]["password"] == REDACTED
    assert lines[0]["url"] == "postgresql://postgres:***@localhost:5432/ai_agent"
    assert lines[0]["config"]["authentication"] == REDACTED
    assert lines[1]["event"] == "retrying redis://:***@cache:6379/0"


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_tracebacks_are_redacted(log_format: str) -> None:
    stream = _configure(log_format=log_format)
    try:
        raise ConnectionError("cannot reach postgresql://agent:hunter2@db/agents")
    except ConnectionError:
        structlog.get_logger().exception("connect failed")
    output = stream.getvalue()
    assert "ConnectionError" in output
    assert "hunter2" not in output
    assert "postgresql://agent:***@db/agents" in output


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "secret",
        "secret_key",
        "client_secret",
        "token",
        "access_token",
        "refresh-token",
        "apiKey",
        "api_key",
        "private_key",
        "authentication",
        "Authorization",
        "auth",
        "credentials",
        "cookie",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "user",
        "host",
        "key",
        "cache_key",
        "key_prefix",
        "tokens",
        "llm_tokens_per_minute",
        "access_token_expire_minutes",
        "api_key_length",
        "session_id",
    ],
)
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("redis://:pw@h:6379/0 and rediss://a:b@c", "redis://:***@h:6379/0 and rediss://a:***@c"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("no url here", "no url here"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_copies_containers() -> None:
    value = {"items": [{"password": "x"}, ("redis://:y@h",)], "count": 3, "none": None}
    assert redact(value) == {
        "items": [{"password": REDACTED}, ("redis://:***@h",)],
        "count": 3,
        "none": None,
    }
    assert value["items"][0] == {"password": "x"}  # type: ignore[index]
    assert redact({"password": None}) == {"password": None}
