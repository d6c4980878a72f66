"""A durable fallback's journal survives the process: kill -9 during an outage, replay on start."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest

from ai_agent.config.application import ApplicationSettings
from ai_agent.infrastructure.database import RepositoryHealthMonitor
from ai_agent.infrastructure.database.health import BreakerState
from ai_agent.infrastructure.database.sqlite import SQLiteRepository

pytestmark = pytest.mark.sqlite

WRITER = Path(__file__).with_name("_crash_writer.py")
ACKNOWLEDGED_BEFORE_KILL = 150


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def parse(line: bytes, sessions: set[UUID], messages: dict[UUID, UUID]) -> None:
    parts = line.decode().split()
    if len(parts) == 2 and parts[0] == "session":
        sessions.add(UUID(parts[1]))
    elif len(parts) == 3 and parts[0] == "message":
        messages[UUID(parts[1])] = UUID(parts[2])


async def run_and_kill(primary: Path, fallback: Path) -> tuple[set[UUID], dict[UUID, UUID]]:
    """Run the writer process until it has acknowledged enough writes, then SIGKILL it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(primary),
        str(fallback),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    sessions: set[UUID] = set()
    messages: dict[UUID, UUID] = {}
    try:
        while len(sessions) + len(messages) < ACKNOWLEDGED_BEFORE_KILL:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            if not line:
                error = await process.stderr.read()
                pytest.fail(f"writer exited early: {error.decode()[-2000:]}")
            parse(line, sessions, messages)
    finally:
        process.kill()
        await process.wait()
    rest = await process.stdout.read()
    for line in rest.splitlines(keepends=True):
        if line.endswith(b"\n"):  # a line cut by the kill is not counted
            parse(line, sessions, messages)
    return sessions, messages


async def assert_stored(
    primary: SQLiteRepository, sessions: set[UUID], messages: dict[UUID, UUID]
) -> None:
    """Every acknowledged write is in the primary, and message counts match."""
    for session_id in sessions:
        stored = await primary.get_session(session_id)
        assert stored is not None, f"acknowledged session {session_id} lost"
        stored_messages = await primary.get_messages_by_session(session_id)
        assert stored.message_count == len(stored_messages)
    for message_id, session_id in messages.items():
        stored_message = await primary.get_message(message_id)
        assert stored_message is not None, f"acknowledged message {message_id} lost"
        assert stored_message.session_id == session_id


async def test_journal_survives_a_killed_process_and_is_replayed_on_the_next_start(
    sqlite_database: Callable[[str], Awaitable[Path]],
    quick_settings: Callable[..., ApplicationSettings],
) -> None:
    primary_path = await sqlite_database("primary.db")
    fallback_path = await sqlite_database("fallback.db")
    sessions, messages = await run_and_kill(primary_path, fallback_path)
    journal = fallback_path.with_name("fallback.db.failover-journal")
    assert journal.exists()

    clock = Clock()
    async with (
        SQLiteRepository(primary_path) as primary,
        SQLiteRepository(fallback_path) as fallback,
    ):
        monitor = RepositoryHealthMonitor(
            primary_repository=primary,
            fallback_repository=fallback,
            settings=quick_settings(interval=3600, recovery=5),
            clock=clock,
        )
        async with monitor:
            status = monitor.status()
            # The primary is up, but the journal comes first: calls stay on the fallback.
            assert (status.state, status.active) == (BreakerState.OPEN, "fallback")
            assert status.journal_location == str(journal)
            assert status.journal_length >= len(sessions) + len(messages)
            clock.now += 5
            status = await monitor.check()
            assert (status.state, status.journal_length, status.rejected_writes) == (
                BreakerState.CLOSED,
                0,
                0,
            )

        await assert_stored(primary, sessions, messages)
        # Replayed copies are cleared. A write cut by the kill between its fallback write and
        # its journal entry was never acknowledged; at most that one copy may remain.
        leftovers = await fallback.list_sessions(limit=1000)
        assert len(leftovers) <= 1
        assert not {session.id for session in leftovers} & sessions
