"""``ai-agent health`` on every backend, unreachable servers, JSON, and the failover set-up."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from ai_agent.cli.app import app
from ai_agent.infrastructure.database import migrations

HEAD = migrations.head_revision()
PASSWORD = "s3cr:t@p/w%d"  # URL-special characters, easy to spot in any output
ESCAPED = "s3cr%3At%40p%2Fw%25d"


def health(*arguments: str) -> Result:
    return CliRunner().invoke(app, ["health", *arguments])


def migrate(url: str) -> None:
    result = CliRunner().invoke(app, ["db", "migrate", "--url", url])
    assert result.exit_code == 0, result.output


def fields(result: Result) -> dict[str, str]:
    """The plain report (stdout is not a terminal): ``Name: value`` per line."""
    pairs = (line.partition(":") for line in result.stdout.splitlines())
    return {name: value.strip() for name, _, value in pairs}


def one_line_on_stderr(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_no_password(result: Result, *passwords: str) -> None:
    for password in (PASSWORD, ESCAPED, *passwords):
        assert password not in result.stdout
        assert password not in result.stderr


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def dead_postgres_url() -> str:
    return f"postgresql://agent:{ESCAPED}@127.0.0.1:{closed_port()}/agent"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def password_of(url: str) -> str:
    return str(make_url(url).password or "")


def health_with_sqlite_fallback(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, tmp_path: Path
) -> Result:
    """``ai-agent health`` on PostgreSQL (migrated first), ``tmp_path/fallback.db`` the fallback."""
    migrate(postgres_url)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("STORAGE_BACKEND", "postgresql")
    monkeypatch.setenv("FALLBACK_URL", sqlite_url(tmp_path / "fallback.db"))
    return health()


# -- healthy on each backend -----------------------------------------------------------------


def test_memory_is_healthy_by_default() -> None:
    result = health()
    assert result.exit_code == 0, result.output
    report = fields(result)
    assert report["Backend"] == "memory"
    assert report["URL"] == "memory://"
    assert report["Reachable"] == "yes"
    assert report["Latency"].endswith(" ms")
    assert report["Schema revision"] == "n/a (schemaless)"
    assert report["Status"] == "healthy"
    assert "Failover state" not in report
    assert result.stderr == ""


@pytest.mark.sqlite
def test_sqlite_migrated_is_healthy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    migrate(sqlite_url(tmp_path / "agent.db"))
    monkeypatch.setenv("SQLITE_PATH", "agent.db")
    result = health("--backend", "sqlite")
    assert result.exit_code == 0, result.output
    report = fields(result)
    assert report["Backend"] == "sqlite"
    assert report["URL"] == sqlite_url(tmp_path / "agent.db")
    assert report["Schema revision"] == f"{HEAD} (head)"
    assert report["Status"] == "healthy"


@pytest.mark.sqlite
def test_sqlite_without_schema_says_to_migrate(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()  # an empty file is an empty SQLite database
    result = health("--url", sqlite_url(path))
    assert result.exit_code == 1, result.output
    report = fields(result)
    assert report["Reachable"] == "yes"
    assert report["Schema revision"] == f"none (empty database); head is {HEAD}"
    line = one_line_on_stderr(result)
    assert line.startswith(f"Unhealthy: the sqlite backend at {sqlite_url(path)}")
    assert "run `ai-agent db migrate`" in line


@pytest.mark.sqlite
def test_sqlite_missing_file_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    result = health("--url", sqlite_url(path))
    assert result.exit_code == 1, result.output
    assert fields(result)["Schema revision"].startswith("none (no database file yet)")
    assert "ai-agent db migrate" in one_line_on_stderr(result)
    assert not path.exists()


def test_postgresql_migrated_is_healthy(
    monkeypatch: pytest.MonkeyPatch, fresh_postgres_url: str
) -> None:
    migrate(fresh_postgres_url)
    monkeypatch.setenv("DATABASE_URL", fresh_postgres_url)
    result = health("-b", "postgresql")
    assert result.exit_code == 0, result.output
    report = fields(result)
    assert report["Backend"] == "postgresql"
    assert report["URL"] == str(make_url(fresh_postgres_url))  # password as ***
    assert "***" in report["URL"]
    assert report["Schema revision"] == f"{HEAD} (head)"
    assert_no_password(result, password_of(fresh_postgres_url))


def test_postgresql_without_schema_says_to_migrate(fresh_postgres_url: str) -> None:
    asyncio.run(migrations.ensure_database(fresh_postgres_url))
    result = health("--url", fresh_postgres_url)
    assert result.exit_code == 1, result.output
    assert fields(result)["Schema revision"] == f"none (empty database); head is {HEAD}"
    assert "run `ai-agent db migrate`" in one_line_on_stderr(result)
    assert_no_password(result, password_of(fresh_postgres_url))


def test_postgresql_missing_database_says_to_migrate(fresh_postgres_url: str) -> None:
    result = health("--url", fresh_postgres_url)  # the database does not exist yet
    assert result.exit_code == 1, result.output
    assert fields(result)["Reachable"] == "no"
    line = one_line_on_stderr(result)
    assert line == (
        f"Unhealthy: the postgresql backend at {make_url(fresh_postgres_url)}: "
        "the database does not exist; run `ai-agent db migrate`"
    )
    assert_no_password(result, password_of(fresh_postgres_url))


def test_redis_is_healthy(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = health("--backend", "redis")
    assert result.exit_code == 0, result.output
    report = fields(result)
    assert report["Backend"] == "redis"
    assert report["Schema revision"] == "n/a (schemaless)"
    assert report["Status"] == "healthy"


# -- unreachable, JSON, configuration errors -------------------------------------------------


def test_unreachable_postgresql_is_one_line_without_the_password() -> None:
    url = dead_postgres_url()
    result = health("--url", url, "--timeout", "5")
    assert result.exit_code == 1, result.output
    shown = str(make_url(url))
    line = one_line_on_stderr(result)
    assert line.startswith(f"Unhealthy: the postgresql backend at {shown} is unreachable: ")
    assert fields(result)["Reachable"] == "no"
    assert_no_password(result)


def test_unreachable_redis_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://:{ESCAPED}@127.0.0.1:{closed_port()}/0")
    monkeypatch.setenv("STORAGE_BACKEND", "redis")
    result = health()
    assert result.exit_code == 1, result.output
    line = one_line_on_stderr(result)
    assert line.startswith("Unhealthy: the redis backend at redis://:***@127.0.0.1:")
    assert_no_password(result)


def test_json_report_parses(tmp_path: Path) -> None:
    migrate(sqlite_url(tmp_path / "agent.db"))
    result = health("--url", sqlite_url(tmp_path / "agent.db"), "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["healthy"] is True and data["problem"] is None
    assert data["backend"] == "sqlite" and data["reachable"] is True
    assert isinstance(data["latency_ms"], float)
    assert data["schema"] == {"current": HEAD, "head": HEAD, "state": "up to date"}
    assert data["failover"] is None and data["fallback"] is None


def test_json_report_of_an_unreachable_server() -> None:
    result = health("--url", dead_postgres_url(), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["healthy"] is False and data["reachable"] is False
    assert "127.0.0.1" in data["problem"]
    assert_no_password(result)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--url", f"mysql://root:{ESCAPED}@db/agent"), "unsupported repository URL"),
        (("--url", "memory://", "--backend", "redis"), "not both"),
        (("--fallback", f"ftp://u:{ESCAPED}@host/x"), "fallback URL"),
    ],
)
def test_configuration_errors_exit_2(arguments: tuple[str, ...], expected: str) -> None:
    result = health(*arguments)
    assert result.exit_code == 2, result.output
    assert expected in one_line_on_stderr(result)
    assert result.stdout == ""
    assert_no_password(result)


def test_bad_setting_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PORT", "abc")
    result = health()
    assert result.exit_code == 2
    assert "DB_PORT" in result.stderr


def test_missing_driver_names_the_extra(tmp_path: Path) -> None:
    # A separate interpreter in which asyncpg cannot be imported.
    program = (
        "import sys; sys.modules['asyncpg'] = None\n"
        "from ai_agent.cli.app import main\n"
        "sys.argv = ['ai-agent', 'health', '--url', 'postgresql://u:pw@127.0.0.1/db']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'ai-agent[postgresql]'" in done.stderr
    assert "Traceback" not in done.stderr


# -- with a fallback: what the failover monitor would do ------------------------------------


def test_failover_state_with_a_postgresql_primary_and_a_sqlite_fallback(
    monkeypatch: pytest.MonkeyPatch, fresh_postgres_url: str, tmp_path: Path
) -> None:
    migrate(sqlite_url(tmp_path / "fallback.db"))
    result = health_with_sqlite_fallback(monkeypatch, fresh_postgres_url, tmp_path)
    assert result.exit_code == 0, result.output
    report = fields(result)
    assert report["Fallback"] == f"sqlite at {sqlite_url(tmp_path / 'fallback.db')}"
    assert report["Fallback schema"] == f"{HEAD} (head)"
    assert report["Failover state"] == "closed"
    assert report["Active side"] == "primary"
    assert report["Primary healthy"] == "yes"
    assert report["Fallback healthy"] == "yes"
    assert report["Failover reason"] == "none"
    # No outage yet, so no journal; health reports it and does not create it.
    assert report["Journal"] == f"none at {tmp_path / 'fallback.db'}.failover-journal"
    assert not (tmp_path / "fallback.db.failover-journal").exists()
    assert report["Rejected writes"] == "0"
    assert report["Status"] == "healthy"
    assert_no_password(result, password_of(fresh_postgres_url))


def test_dead_primary_fails_over_to_the_sqlite_fallback(tmp_path: Path) -> None:
    fallback = sqlite_url(tmp_path / "fallback.db")
    migrate(fallback)
    result = health("--url", dead_postgres_url(), "--fallback", fallback, "--json")
    assert result.exit_code == 0, result.output  # the active side (the fallback) serves
    data = json.loads(result.stdout)
    failover = data["failover"]
    assert failover["state"] == "open"
    assert failover["active"] == "fallback"
    assert failover["primary_healthy"] is False and failover["fallback_healthy"] is True
    assert "127.0.0.1" in failover["reason"]
    assert failover["serving"] is True
    assert failover["journal"] == {
        "location": f"{tmp_path / 'fallback.db'}.failover-journal",
        "exists": False,
        "pending": 0,
        "applied": 0,
        "rejected": 0,
    }
    assert data["healthy"] is True
    assert_no_password(result)
    plain = health("--url", dead_postgres_url(), "--fallback", fallback)
    assert fields(plain)["Status"].startswith("degraded: the primary is down")


def test_dead_primary_with_fallbacks_disabled_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FEATURE_ENABLE_FALLBACKS", "false")
    fallback = sqlite_url(tmp_path / "fallback.db")
    migrate(fallback)
    result = health("--url", dead_postgres_url(), "--fallback", fallback)
    assert result.exit_code == 1, result.output
    assert fields(result)["Active side"] == "primary"
    assert "unavailable" in one_line_on_stderr(result)
    assert_no_password(result)


def test_help_explains_every_option() -> None:
    result = CliRunner().invoke(app, ["health", "--help"])
    assert result.exit_code == 0
    for option in ("--backend", "--url", "--fallback", "--json", "--timeout", "--env"):
        assert option in result.stdout


@pytest.mark.redis_cluster
def test_redis_cluster_is_healthy(monkeypatch: pytest.MonkeyPatch, redis_cluster_url: str) -> None:
    monkeypatch.setenv("REDIS_URL", redis_cluster_url)
    monkeypatch.setenv("REDIS_CLUSTER_MODE", "true")
    result = health("--backend", "redis", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "redis" and data["reachable"] is True
    assert "cluster" in data["url"]


def test_an_unmigrated_fallback_is_reported_while_the_primary_serves(
    monkeypatch: pytest.MonkeyPatch, fresh_postgres_url: str, tmp_path: Path
) -> None:
    result = health_with_sqlite_fallback(monkeypatch, fresh_postgres_url, tmp_path)
    assert result.exit_code == 1, result.output
    line = one_line_on_stderr(result)
    assert line.startswith("Unhealthy: the fallback cannot take over: the sqlite backend at")
    assert "run `ai-agent db migrate`" in line
    assert fields(result)["Active side"] == "primary"
    assert_no_password(result, password_of(fresh_postgres_url))
