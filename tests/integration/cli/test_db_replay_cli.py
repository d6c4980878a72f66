"""``ai-agent health`` only looks; ``ai-agent db replay`` replays.

The pending journal is built by the real monitor: its SQLite primary's file does not exist
yet, so the primary is down and writes go to the SQLite fallback and its journal. The
primary is then migrated (it comes back), and the commands are run on the two.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from ai_agent.cli.app import app
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    RepositoryHealthMonitor,
    SQLiteRepository,
    migrations,
)
from ai_agent.infrastructure.database.health import BreakerState, read_journal

pytestmark = pytest.mark.sqlite


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(app, list(arguments))


def fields(result: Result) -> dict[str, str]:
    pairs = (line.partition(":") for line in result.stdout.splitlines())
    return {name: value.strip() for name, _, value in pairs}


def listing(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


async def journal_an_outage(primary: Path, fallback: Path) -> tuple[UUID, list[UUID]]:
    """A session and two messages written through the monitor while the primary is down."""
    await migrations.upgrade(f"sqlite:///{fallback}")
    monitor = RepositoryHealthMonitor(
        primary_repository=SQLiteRepository(primary), fallback_repository=SQLiteRepository(fallback)
    )
    async with monitor:
        assert monitor.state is BreakerState.OPEN  # the primary's file is missing: it is down
        repository = await monitor.get_healthy_repository()
        session = await repository.create_session(Session(user_id="outage"))
        messages = [
            await repository.create_message(
                Message(session_id=session.id, role=MessageRole.USER, content=text)
            )
            for text in ("first", "second")
        ]
    return session.id, [message.id for message in messages]


async def stored(path: Path, session_id: UUID) -> tuple[Session | None, list[str]]:
    async with SQLiteRepository(path) as repository:
        session = await repository.get_session(session_id)
        messages = await repository.get_messages_by_session(session_id)
    return session, [message.content for message in messages]


@pytest.fixture
def outage(tmp_path: Path) -> tuple[Path, Path, UUID]:
    """A journal of 3 pending writes, and a primary that is back (migrated, empty)."""
    primary, fallback = tmp_path / "primary.db", tmp_path / "fallback.db"
    session_id, _ = asyncio.run(journal_an_outage(primary, fallback))
    asyncio.run(migrations.upgrade(f"sqlite:///{primary}"))
    return primary, fallback, session_id


def test_health_reports_a_pending_journal_and_replays_nothing(
    outage: tuple[Path, Path, UUID], tmp_path: Path
) -> None:
    primary, fallback, session_id = outage
    before = listing(tmp_path)
    result = invoke(
        "health", "--url", f"sqlite:///{primary}", "--fallback", f"sqlite:///{fallback}"
    )
    assert result.exit_code == 0, result.output  # the fallback serves: degraded, not down
    report = fields(result)
    journal = Path(f"{fallback}.failover-journal")
    assert report["Failover state"] == "open"
    assert report["Active side"] == "fallback"
    assert report["Failover reason"] == (
        "3 journaled write(s) await replay; run `ai-agent db replay`"
    )
    assert report["Journal"] == f"3 pending write(s) at {journal}"
    assert report["Status"] == (
        "degraded: journaled writes await replay; the fallback serves calls"
    )
    assert listing(tmp_path) == before
    state = read_journal(SQLiteRepository(fallback))
    assert state is not None and state.pending == 3
    assert asyncio.run(stored(primary, session_id)) == (None, [])


def test_health_creates_no_fallback_or_journal_file(tmp_path: Path) -> None:
    primary, fallback = tmp_path / "primary.db", tmp_path / "fallback.db"
    asyncio.run(migrations.upgrade(f"sqlite:///{primary}"))
    before = listing(tmp_path)
    result = invoke(
        "health", "--url", f"sqlite:///{primary}", "--fallback", f"sqlite:///{fallback}"
    )
    assert result.exit_code == 1, result.output
    report = fields(result)
    assert report["Fallback healthy"] == "no"
    assert report["Journal"] == f"none at {fallback}.failover-journal"
    assert result.stderr.strip() == (
        f"Unhealthy: the fallback cannot take over: the sqlite backend at sqlite:///{fallback}: "
        "no database file yet; run `ai-agent db migrate`"
    )
    assert listing(tmp_path) == before


def test_db_replay_applies_the_journal_and_clears_the_fallback(
    outage: tuple[Path, Path, UUID],
) -> None:
    primary, fallback, session_id = outage
    urls = ("--url", f"sqlite:///{primary}", "--fallback", f"sqlite:///{fallback}")
    result = invoke("db", "replay", *urls)
    assert result.exit_code == 0, result.output
    journal = Path(f"{fallback}.failover-journal")
    assert result.stdout.splitlines() == [
        f"Replayed 3 journaled write(s) from {journal} into sqlite:///{primary}.",
        f"Cleared the replayed writes' copies from sqlite:///{fallback}.",
    ]
    session, contents = asyncio.run(stored(primary, session_id))
    assert session is not None and session.message_count == 2
    assert contents == ["first", "second"]
    assert asyncio.run(stored(fallback, session_id)) == (None, [])
    again = invoke("db", "replay", *urls)
    assert again.exit_code == 0, again.output
    assert again.stdout == f"Nothing to replay: the journal at {journal} holds no pending write.\n"
    healthy = invoke("health", *urls)
    assert healthy.exit_code == 0, healthy.output
    assert fields(healthy)["Failover state"] == "closed"


def test_db_replay_into_an_unmigrated_primary_changes_nothing(tmp_path: Path) -> None:
    primary, fallback = tmp_path / "primary.db", tmp_path / "fallback.db"
    asyncio.run(journal_an_outage(primary, fallback))
    result = invoke(
        "db", "replay", "--url", f"sqlite:///{primary}", "--fallback", f"sqlite:///{fallback}"
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().endswith(f"run `ai-agent db migrate --url sqlite:///{primary}`")
    state = read_journal(SQLiteRepository(fallback))
    assert state is not None and state.pending == 3 and state.rejected == 0
    assert not primary.exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ((), "Error: give the fallback whose journal to replay"),
        (("--fallback", "memory://"), "Error: the memory fallback keeps its journal in the memory"),
        (("--fallback", "sqlite://fallback.db"), "did you mean 'sqlite:///fallback.db'?"),
    ],
)
def test_db_replay_usage_errors_exit_2(arguments: tuple[str, ...], expected: str) -> None:
    result = invoke("db", "replay", *arguments)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_db_replay_without_a_journal_has_nothing_to_do(tmp_path: Path) -> None:
    fallback = tmp_path / "fallback.db"
    result = invoke("db", "replay", "--fallback", f"sqlite:///{fallback}")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Nothing to replay: there is no failover journal at {fallback}.failover-journal.\n"
    )
    assert listing(tmp_path) == set()
