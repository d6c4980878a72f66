"""The failover circuit breaker and the failover journal, on their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ai_agent.config import feature_flags
from ai_agent.config.sections import CircuitBreakerPolicy
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.health import BreakerState, CircuitBreaker
from ai_agent.infrastructure.database.health._journal import (
    Journal,
    MemoryJournal,
    SQLiteJournal,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(
    clock: Clock, threshold: int = 3, timeout: float = 10.0, probes: int = 1
) -> CircuitBreaker:
    return CircuitBreaker(CircuitBreakerPolicy(threshold, timeout, probes), clock)


def state(cb: CircuitBreaker) -> BreakerState:
    return cb.state  # read through a call, so that type checkers do not narrow it


def test_opens_after_threshold_consecutive_failures() -> None:
    cb = breaker(Clock())
    assert [cb.record_failure(), cb.record_failure()] == [False, False]
    assert state(cb) is BreakerState.CLOSED
    assert cb.record_failure() is True
    assert state(cb) is BreakerState.OPEN


def test_checks_have_their_own_threshold_on_the_shared_count() -> None:
    cb = CircuitBreaker(CircuitBreakerPolicy(2, 10.0, 1), Clock(), check_failure_threshold=4)
    assert not cb.record_failure(check=True)
    assert not cb.record_failure(check=True)
    assert not cb.record_failure(check=True)
    assert cb.record_failure(check=True)
    cb = CircuitBreaker(CircuitBreakerPolicy(2, 10.0, 1), Clock(), check_failure_threshold=4)
    assert not cb.record_failure(check=True)
    assert cb.record_failure()  # a failed call after a failed check: 2 for calls


def test_a_trial_needs_the_larger_of_the_two_probe_counts() -> None:
    cb = CircuitBreaker(CircuitBreakerPolicy(1, 1.0, 2), Clock(), recovery_checks=3)
    assert cb.trial_probes == 3
    cb = CircuitBreaker(CircuitBreakerPolicy(1, 1.0, 2), Clock(), recovery_checks=1)
    assert cb.trial_probes == 2


def test_a_success_resets_the_count() -> None:
    cb = breaker(Clock())
    cb.record_failure()
    cb.record_failure()
    cb.record_success()
    assert not cb.record_failure()
    assert not cb.record_failure()
    assert cb.state is BreakerState.CLOSED


def test_recovery_timeout_then_half_open_trial() -> None:
    clock = Clock()
    cb = breaker(clock, threshold=1, timeout=10.0, probes=2)
    cb.record_failure()
    assert not cb.trial_due()
    assert cb.seconds_until_trial() == pytest.approx(10.0)
    clock.now += 9.5
    assert not cb.trial_due()
    clock.now += 0.5
    assert cb.trial_due()
    cb.begin_trial()
    assert state(cb) is BreakerState.HALF_OPEN
    assert cb.probe_passed() is False  # two good probes needed
    assert cb.probe_passed() is True
    cb.close()
    assert state(cb) is BreakerState.CLOSED
    assert cb.consecutive_failures == 0


def test_a_failed_trial_reopens_and_restarts_the_timeout() -> None:
    clock = Clock()
    cb = breaker(clock, threshold=1, timeout=5.0)
    cb.record_failure()
    clock.now += 5
    cb.begin_trial()
    cb.trial_failed()
    assert cb.state is BreakerState.OPEN
    assert cb.seconds_until_trial() == pytest.approx(5.0)


def test_failures_count_only_while_closed() -> None:
    cb = breaker(Clock(), threshold=1)
    assert cb.record_failure()
    assert not cb.record_failure()  # a late failure of a call started before the opening
    cb.begin_trial()
    assert not cb.record_failure()
    assert cb.state is BreakerState.HALF_OPEN


def test_without_the_circuit_breakers_flag_it_follows_the_latest_result() -> None:
    clock = Clock()
    cb = breaker(clock, threshold=5, timeout=60.0, probes=3)
    with feature_flags.override("circuit_breakers", False):
        assert cb.record_failure() is True  # the first failure switches
        assert cb.trial_due()  # no recovery timeout
        cb.begin_trial()
        assert cb.probe_passed() is True  # one good probe is enough


# -- the journal -----------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Journal]:
    made: Journal = (
        MemoryJournal() if request.param == "memory" else SQLiteJournal(tmp_path / "j.journal")
    )
    await made.open()
    yield made
    await made.close()


async def test_journal_keeps_order_and_counts(journal: Journal) -> None:
    seqs = [await journal.append(f"op{index}", f'"{index}"') for index in range(5)]
    assert seqs == sorted(seqs)
    assert journal.pending_count == 5
    first_two = await journal.pending(2)
    assert [entry.operation for entry in first_two] == ["op0", "op1"]
    await journal.mark_applied(first_two[:1])
    await journal.reject(first_two[1], "different record under the same id")
    assert (journal.pending_count, journal.applied_count, journal.rejected_count) == (3, 2, 1)
    assert [entry.operation for entry in await journal.pending(10)] == ["op2", "op3", "op4"]
    assert [entry.operation for entry in await journal.applied()] == ["op0", "op1"]
    await journal.forget_applied()
    assert journal.applied_count == 0
    assert await journal.applied() == []
    assert journal.pending_count == 3


async def test_sqlite_journal_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "fallback.db.failover-journal"
    first = SQLiteJournal(path)
    await first.open()
    for index in range(3):
        await first.append("create_session", f'{{"n": {index}}}')
    await first.mark_applied(await first.pending(1))
    await first.close()

    second = SQLiteJournal(path)
    await second.open()
    try:
        assert (second.pending_count, second.applied_count) == (2, 1)
        assert [entry.payload for entry in await second.pending(10)] == ['{"n": 1}', '{"n": 2}']
        assert (await second.pending(1))[0].recorded_at.tzinfo is not None
    finally:
        await second.close()


async def test_sqlite_journal_refuses_a_newer_format(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "newer.failover-journal"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    journal = SQLiteJournal(path)
    with pytest.raises(RepositoryError, match="format 99"):
        await journal.open()


async def test_a_closed_sqlite_journal_says_so(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "closed.failover-journal")
    with pytest.raises(RepositoryError, match="not open"):
        await journal.append("create_session", "{}")
