"""The fault test of issue 7: PostgreSQL stops under 20 writers; nothing acknowledged is lost.

A private PostgreSQL server is the primary and a SQLite file the fallback. Twenty writers
create sessions and messages through ``get_healthy_repository()`` (and read back each message
they wrote) while the server is stopped with ``immediate`` mode (``pg_ctl stop -m immediate``:
no checkpoint, every connection cut) for several seconds and started again. Afterwards every
acknowledged write must be in PostgreSQL exactly once, each session's ``message_count`` must
match its stored messages, and the journal must be empty.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest

from _servers import PostgresFactory, PostgresServer
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.sections import RetryPolicy
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    Repository,
    RepositoryConnectionError,
    RepositoryHealthMonitor,
    migrations,
)
from ai_agent.infrastructure.database.health import BreakerState
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from ai_agent.infrastructure.database.sqlite import SQLiteRepository

pytestmark = [pytest.mark.slow, pytest.mark.postgresql, pytest.mark.sqlite]

WRITERS = 20
MESSAGES_PER_SESSION = 8
BEFORE_OUTAGE = 1.5  # seconds of normal traffic
OUTAGE = 4.0  # seconds the server is down
AFTER_RECOVERY = 1.0  # seconds of traffic once calls are back on PostgreSQL
PACE = 0.005  # seconds a writer waits between calls


@dataclass
class Tally:
    sessions: set[UUID] = field(default_factory=set)
    messages: dict[UUID, UUID] = field(default_factory=dict)  # message id -> session id
    refused: int = 0
    false_answers: list[str] = field(default_factory=list)
    journal_peak: int = 0
    states: set[BreakerState] = field(default_factory=set)


async def write(repository: Repository, writer: int, tally: Tally, stop: asyncio.Event) -> None:
    """Sessions of a few messages each; a refused call ends the session, as a client would."""
    while not stop.is_set():
        try:
            session = await repository.create_session(Session(user_id=f"writer-{writer}"))
        except RepositoryConnectionError:
            tally.refused += 1
            await asyncio.sleep(0.05)
            continue
        tally.sessions.add(session.id)
        for index in range(MESSAGES_PER_SESSION):
            await asyncio.sleep(PACE)
            tag = f"{session.id}/{index}"
            try:
                message = await repository.create_message(
                    Message(session_id=session.id, role=MessageRole.USER, content=tag)
                )
            except RepositoryConnectionError:
                tally.refused += 1
                await asyncio.sleep(0.05)
                break
            tally.messages[message.id] = session.id
            await read_back(repository, message, tally)


async def read_back(repository: Repository, message: Message, tally: Tally) -> None:
    """An acknowledged message is returned, or the read is refused: never a false ``None``."""
    try:
        found = await repository.get_message(message.id)
    except RepositoryConnectionError:
        return
    if found != message:
        tally.false_answers.append(f"get_message({message.id}) returned {found!r}")


async def watch(monitor: RepositoryHealthMonitor, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        status = monitor.status()
        tally.journal_peak = max(tally.journal_peak, status.journal_length)
        tally.states.add(status.state)
        await asyncio.sleep(0.01)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"{what} not reached within {timeout:g}s"
        await asyncio.sleep(0.05)


def repositories(
    server: PostgresServer, fallback_path: Path
) -> tuple[PostgreSQLRepository, SQLiteRepository]:
    primary = PostgreSQLRepository.from_url(
        server.url,
        min_pool_size=2,
        max_pool_size=10,
        pool_timeout=5,
        connect_timeout=2,
        command_timeout=5,
    )
    # Short retries, so that calls caught by the stop fail over within a second.
    primary.retry_policy = RetryPolicy(
        max_attempts=2, base_delay=0.05, max_delay=0.2, exponential_base=2.0, jitter=False
    )
    return primary, SQLiteRepository(fallback_path)


async def traffic_through_outage(
    server: PostgresServer, monitor: RepositoryHealthMonitor, tally: Tally
) -> tuple[float, float]:
    """Writers run, the server stops and starts; returns (seconds down, seconds to failback)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    repository = await monitor.get_healthy_repository()
    tasks = [asyncio.create_task(write(repository, n, tally, stop)) for n in range(WRITERS)]
    tasks.append(asyncio.create_task(watch(monitor, tally, stop)))
    try:
        await asyncio.sleep(BEFORE_OUTAGE)
        started = loop.time()
        await asyncio.to_thread(server.stop, "immediate")
        await asyncio.sleep(OUTAGE)
        await asyncio.to_thread(server.start)
        down_for = loop.time() - started
        await wait_until(
            lambda: monitor.state is BreakerState.CLOSED and monitor.status().journal_length == 0,
            timeout=40,
            what="failback with an empty journal",
        )
        back_after = loop.time() - started - down_for
        await asyncio.sleep(AFTER_RECOVERY)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return down_for, back_after


@dataclass
class Stored:
    """What PostgreSQL holds afterwards, read with plain SQL."""

    sessions: dict[UUID, int]  # id -> message_count
    messages: dict[UUID, UUID]  # id -> session id
    per_session: Counter[UUID]
    duplicated: int  # messages whose content (unique per written message) is stored twice


async def stored_in(primary: PostgreSQLRepository) -> Stored:
    assert primary.pool is not None
    sessions = await primary.pool.fetch("SELECT id, message_count FROM sessions")
    rows = await primary.pool.fetch("SELECT id, session_id, content FROM messages")
    contents = Counter(row["content"] for row in rows)
    return Stored(
        sessions={row["id"]: row["message_count"] for row in sessions},
        messages={row["id"]: row["session_id"] for row in rows},
        per_session=Counter(row["session_id"] for row in rows),
        duplicated=sum(count - 1 for count in contents.values()),
    )


async def test_postgresql_outage_under_twenty_writers_loses_nothing(
    postgres_server_factory: PostgresFactory,
    sqlite_database: Callable[[str], Awaitable[Path]],
    quick_settings: Callable[..., ApplicationSettings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = postgres_server_factory()
    await migrations.upgrade(server.url)
    primary, fallback = repositories(server, await sqlite_database("fallback.db"))
    tally = Tally()
    async with RepositoryHealthMonitor(
        primary_repository=primary,
        fallback_repository=fallback,
        settings=quick_settings(interval=0.1, recovery=0.5, threshold=3),
    ) as monitor:
        down_for, back_after = await traffic_through_outage(server, monitor, tally)
        status = monitor.status()
        stored = await stored_in(primary)
        left_in_fallback = await fallback.list_sessions(limit=1000)

    lost = (tally.sessions - stored.sessions.keys()) | {
        message
        for message, owner in tally.messages.items()
        if stored.messages.get(message) != owner
    }
    acknowledged = len(tally.sessions) + len(tally.messages)
    unacknowledged = len(stored.sessions) + len(stored.messages) - (acknowledged - len(lost))
    miscounted = [s for s, count in stored.sessions.items() if count != stored.per_session[s]]
    with capsys.disabled():
        print(
            f"\n[failover fault test] server down {down_for:.1f}s, calls back on PostgreSQL "
            f"{back_after:.1f}s after restart; failovers {status.failover_count}, journal peak "
            f"{tally.journal_peak}; acknowledged {acknowledged} ({len(tally.sessions)} sessions, "
            f"{len(tally.messages)} messages), found {acknowledged - len(lost)}, duplicated "
            f"{stored.duplicated}, refused {tally.refused}, lost {len(lost)}, stored without "
            f"acknowledgement {unacknowledged}"
        )
    assert status.failover_count >= 1 and tally.journal_peak > 0, "the fallback never served"
    assert not lost
    assert stored.duplicated == 0
    assert not miscounted, f"message_count differs from the stored messages for {miscounted[:5]}"
    assert not tally.false_answers, tally.false_answers[:5]
    assert (status.state, status.journal_length, status.rejected_writes) == (
        BreakerState.CLOSED,
        0,
        0,
    )
    assert left_in_fallback == []
