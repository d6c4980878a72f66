"""structlog events of the storage layer: connect, disconnect, failover, fail-back, replay,
retries and migrations, their fields, and the same name in JSON and console output."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from ai_agent.config.logging import configure_logging, reset_logging
from ai_agent.config.sections import ObservabilitySettings, RetryPolicy
from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    RepositoryConnectionError,
    RepositoryHealthMonitor,
    SQLiteRepository,
    migrations,
)
from contract.factories import make_message, make_session
from unit.health.support import Clock, OutageRepository, fail_over, recover, settings


def named(
    entries: Sequence[MutableMapping[str, Any]], event: str
) -> list[MutableMapping[str, Any]]:
    return [entry for entry in entries if entry["event"] == event]


async def test_connect_and_disconnect_name_the_backend_and_where(repository: Repository) -> None:
    await repository.disconnect()
    with capture_logs() as entries:
        await repository.connect()
        await repository.disconnect()
        await repository.connect()  # the fixture cleans up through it
    (connected, _again) = named(entries, "repository.connected")
    backend = getattr(repository, "backend_name", "")
    assert connected["backend"] == backend and connected["log_level"] == "info"
    assert connected["url"] == getattr(repository, "display_url", None)
    assert connected["duration_ms"] >= 0
    (disconnected,) = named(entries, "repository.disconnected")
    assert disconnected == {
        "event": "repository.disconnected",
        "backend": backend,
        "url": connected["url"],
        "log_level": "info",
    }


@pytest.mark.sqlite
async def test_a_failed_connect_is_an_info_event_with_the_error_class(tmp_path: Path) -> None:
    repository = SQLiteRepository(tmp_path / "missing" / "dir" / "agent.db")
    with capture_logs() as entries, pytest.raises(RepositoryConnectionError):
        await repository.connect()
    (failed,) = named(entries, "repository.connect_failed")
    assert failed["log_level"] == "info"  # the caller gets the error: not logged twice
    assert (failed["backend"], failed["error"]) == ("sqlite", "RepositoryConnectionError")


@pytest.mark.memory
async def test_failover_replay_and_fail_back_are_events() -> None:
    primary, clock = OutageRepository(), Clock()
    async with RepositoryHealthMonitor(
        primary, InMemoryRepository(), settings(), clock=clock
    ) as monitor:
        repository = await monitor.get_healthy_repository()
        with capture_logs() as entries:
            await fail_over(repository, primary)
            session = await repository.create_session(make_session())
            await repository.create_message(make_message(session))
            await recover(monitor, primary, clock)
    (activated,) = named(entries, "failover.activated")
    assert activated["log_level"] == "warning"
    assert (activated["primary"], activated["fallback"]) == ("memory", "memory")
    assert "simulated outage" in activated["reason"] and activated["failovers"] == 1
    (replayed,) = named(entries, "journal.replayed")
    assert replayed["entries"] == 2 and replayed["duration_ms"] >= 0
    (recovered,) = named(entries, "failover.recovered")
    assert (recovered["primary"], recovered["replayed"]) == ("memory", 2)
    (cleared,) = named(entries, "fallback.cleared")
    assert cleared["entities"] >= 1  # the session (its message may go with it)
    order = [entry["event"] for entry in entries]
    assert order.index("journal.replayed") < order.index("failover.recovered")


class Flaky(InMemoryRepository):
    """Reads fail with a connection error ``failures`` more times."""

    failures = 0

    async def _get_session(self, session_id: UUID) -> Session | None:
        if self.failures:
            self.failures -= 1
            raise RepositoryConnectionError("connection reset (simulated)")
        return await super()._get_session(session_id)


@pytest.mark.memory
@pytest.mark.parametrize("failures", [1, 5])
async def test_each_retry_and_a_spent_budget_are_events(failures: int) -> None:
    repository = Flaky()
    repository.failures = failures
    repository.retry_policy = RetryPolicy(
        max_attempts=3, base_delay=0.0, max_delay=0.0, exponential_base=2.0, jitter=False
    )
    async with repository:
        with capture_logs() as entries:
            try:
                await repository.get_session(make_session().id)
            except RepositoryConnectionError as exc:
                assert failures > 2 and "gave up after 3 attempts" in str(exc)
    retries = named(entries, "repository.retry")
    if failures == 1:
        assert [entry["attempt"] for entry in retries] == [1]
        assert named(entries, "repository.retries_exhausted") == []
        return
    assert [entry["attempt"] for entry in retries] == [1, 2]
    assert {entry["error"] for entry in retries} == {"RepositoryConnectionError"}
    assert {(entry["backend"], entry["max_attempts"], entry["wait_s"]) for entry in retries} == {
        ("memory", 3, 0.0)
    }
    (exhausted,) = named(entries, "repository.retries_exhausted")
    assert (exhausted["attempts"], exhausted["log_level"]) == (3, "warning")


@pytest.mark.sqlite
async def test_migrations_that_change_the_schema_are_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    with capture_logs() as entries:
        await migrations.upgrade(url)
        await migrations.upgrade(url)  # at head already: nothing to say
        await migrations.downgrade(url)
    head = migrations.head_revision()
    (applied,) = named(entries, "migration.applied")
    assert (applied["from_revision"], applied["to_revision"]) == (None, head)
    assert applied["url"] == url and applied["duration_ms"] >= 0  # as given, no driver name
    (reverted,) = named(entries, "migration.reverted")
    assert (reverted["from_revision"], reverted["to_revision"]) == (head, None)


@pytest.fixture
def configured() -> Iterator[None]:
    yield
    reset_logging()


@pytest.mark.memory
@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_the_event_name_is_the_same_in_json_and_console_output(
    log_format: Literal["json", "console"],
) -> None:
    stream = io.StringIO()
    configure_logging(ObservabilitySettings(log_format=log_format, log_level="INFO"), stream=stream)
    async with InMemoryRepository():
        pass
    lines = [line for line in stream.getvalue().splitlines() if "repository.connected" in line]
    assert len(lines) == 1
    if log_format == "json":
        record = json.loads(lines[0])
        assert (record["event"], record["backend"], record["url"]) == (
            "repository.connected",
            "memory",
            "memory://",
        )
    else:
        assert "backend=memory" in lines[0] and "url=memory://" in lines[0]
