"""What ``ai-agent health`` concludes from what it measured (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_agent.cli._health_probe import (
    BackendProbe,
    FailoverView,
    HealthReport,
    Schema,
    one_line,
    scrub,
)
from ai_agent.cli.app import app
from ai_agent.config import feature_flags
from settings_isolation import isolate_settings

URL = "postgresql://agent:***@db.example:5432/agent"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_settings(monkeypatch, tmp_path)


def view(active: str = "primary", unavailable: str | None = None) -> FailoverView:
    return FailoverView(
        state="closed" if active == "primary" else "open",
        active=active,  # type: ignore[arg-type]
        primary_healthy=active == "primary",
        fallback_healthy=True,
        reason=None if active == "primary" else "primary down",
        journal=None,
        fallbacks_enabled=True,
        unavailable=unavailable,
    )


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        (Schema(None, None, "n/a"), "n/a (schemaless)"),
        (Schema("0001", "0001", "up to date"), "0001 (head)"),
        (Schema(None, "0001", "none"), "none (empty database); head is 0001"),
        (Schema(None, "0001", "none", "no database file yet"), "none (no database file yet)"),
        (Schema("0001", "0002", "behind"), "0001 (behind head 0002)"),
        (Schema("9999", "0002", "unknown"), "9999 (unknown to this version; head is 0002)"),
        (Schema(None, "0002", "unread"), "not read (the database did not answer)"),
    ],
)
def test_schema_is_described(schema: Schema, shown: str) -> None:
    assert schema.describe().startswith(shown)
    assert schema.ok is (schema.state in ("n/a", "up to date"))


def test_unreachable_problem_names_backend_and_url_once() -> None:
    probe = BackendProbe(
        "postgresql", URL, error=f"cannot reach PostgreSQL at {URL}: connection refused"
    )
    assert probe.problem() == (
        f"the postgresql backend at {URL} is unreachable: connection refused"
    )


def test_schema_behind_problem_says_to_migrate() -> None:
    probe = BackendProbe("sqlite", "sqlite:///a.db", True, 0.1, Schema("0001", "0002", "behind"))
    problem = probe.problem()
    assert problem is not None and problem.endswith("run `ai-agent db migrate`")
    healthy = BackendProbe("sqlite", "sqlite:///a.db", True, 0.1, Schema("2", "2", "up to date"))
    assert healthy.problem() is None


def test_with_a_fallback_the_active_side_decides() -> None:
    dead = BackendProbe("postgresql", URL, error="refused")
    fallback = BackendProbe("memory", "memory://", True, 0.0)
    report = HealthReport(dead, fallback, view("fallback"))
    assert report.problem() is None
    report.failover = view("fallback", "primary unavailable: refused, and fallbacks are off")
    assert report.problem() == "primary unavailable: refused, and fallbacks are off"


def test_json_form_is_serialisable() -> None:
    primary = BackendProbe("memory", "memory://", True, 0.01234)
    data = HealthReport(primary, None, view()).as_dict()
    decoded = json.loads(json.dumps(data))
    assert decoded["healthy"] is True
    assert decoded["latency_ms"] == 0.012
    assert decoded["failover"]["state"] == "closed"
    assert decoded["failover"]["serving"] is True


def test_one_line_masks_passwords_and_keeps_the_first_line() -> None:
    error = ValueError("cannot use redis://:hunter2@host:6379/0\nsecond line")
    assert one_line(error) == "cannot use redis://:***@host:6379/0"
    assert one_line(ValueError("token hunter2 leaked"), ("hunter2",)) == "token *** leaked"
    assert one_line(ValueError("")) == "ValueError"


def test_memory_with_a_memory_fallback_reports_the_failover_state() -> None:
    try:
        result = CliRunner().invoke(app, ["health", "--fallback", "memory://"])
    finally:
        feature_flags.reset()
    assert result.exit_code == 0, result.output
    assert "Failover state:   closed" in result.stdout
    assert (
        "Journal:          in the memory of the process running the monitor (nothing on disk)"
        in result.stdout
    )


def test_scrub_masks_raw_and_escaped_secrets_but_not_single_letters() -> None:
    assert scrub("at p@ss/w and p%40ss%2Fw", ("p@ss/w",)) == "at *** and ***"
    assert scrub("postgresql backend", ("p",)) == "postgresql backend"
