"""Fault tests of issue 6: the server goes away under 20 concurrent writers, then comes back.

PostgreSQL is stopped in ``immediate`` mode (SIGQUIT: no checkpoint, every connection cut)
and Redis is SIGKILLed (its AOF, ``appendfsync always``, holds every acknowledged write);
each is started again on the same port about two seconds later. Retries are on, with a
budget that either outlasts the outage (nothing may fail) or does not (writes during the
outage fail). Either way, read back through a fresh repository: every acknowledged write is
stored exactly once, each session's ``message_count`` equals its stored messages, and every
failure is a ``RepositoryConnectionError`` that gave up after the whole budget.

Run with ``-s`` to see the figures; they are also recorded as the ``figures`` property.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from ai_agent.config.sections import RetryPolicy
from ai_agent.infrastructure.database import RepositoryConnectionError
from integration.faults._load import Figures, Phases, Tally, audit, run_load
from integration.faults._targets import Target, policy

pytestmark = pytest.mark.slow

RecordProperty = Callable[[str, object], None]

PHASES = Phases(before=1.0, outage=2.0, after=1.5)
# 13 waits with ceilings 0.1 + 0.2 + 0.4 + 0.8 + 9 x 1.5 = 15 s, and equal jitter waits at
# least half of each: 7.5 s or more, beyond the 2 s outage plus a restart, which takes 1-4 s
# under this load (PostgreSQL replays its WAL, and forks a process to refuse each connection
# attempt until it is ready).
RIDES_OUT = policy(max_attempts=14, base_delay=0.1, max_delay=1.5)
# 2 waits of at most 0.05 + 0.1 s: far less than the outage.
RUNS_OUT = policy(max_attempts=3, base_delay=0.05, max_delay=0.1)


async def _outage(target: Target, retry: RetryPolicy) -> tuple[Tally, Figures, list[str]]:
    """Run the load through one repository, then audit it through a fresh one."""
    async with target.make() as repository:
        repository.retry_policy = retry
        tally = await run_load(repository, target.down, target.up, PHASES)
    async with target.make() as fresh:
        figures = await audit(fresh, tally)
        raw = await target.audit(fresh, tally.acknowledged())
    return tally, figures, raw


def _unexpected_failures(tally: Tally, retry: RetryPolicy) -> list[str]:
    gave_up = f"gave up after {retry.max_attempts} attempts"
    return [
        f"{kind.__name__}: {message}"
        for kind, message in tally.failures
        if kind is not RepositoryConnectionError or gave_up not in message
    ]


Outage = Callable[[RetryPolicy, str], Awaitable[tuple[Tally, Figures]]]


@pytest.fixture
def outage(
    target: Target, record_property: RecordProperty, capsys: pytest.CaptureFixture[str]
) -> Outage:
    """Run the load through an outage under a retry policy, show its figures, and check what
    holds whatever the budget: every acknowledged write stored once, no damaged row, and
    every failure a connection error that gave up after the whole budget."""

    async def run(retry: RetryPolicy, label: str) -> tuple[Tally, Figures]:
        tally, figures, raw = await _outage(target, retry)
        line = figures.line(f"{target.name}, {label}", tally)
        record_property("figures", line)
        with capsys.disabled():
            print(f"\n{line}")
        assert figures.problems == [] and raw == []
        assert figures.found == figures.acknowledged and figures.duplicated == 0
        assert _unexpected_failures(tally, retry) == []
        return tally, figures

    return run


async def test_an_outage_within_the_retry_budget_loses_and_fails_nothing(outage: Outage) -> None:
    tally, figures = await outage(RIDES_OUT, "outage within the budget")
    assert figures.failed == 0, "the budget outlasts the outage: no write may fail"
    # Some call was in flight for (nearly) the whole outage and was still acknowledged.
    assert tally.slowest >= 0.9 * (tally.up_at - tally.down_at)
    assert tally.acknowledged_after_restart() > 0


async def test_an_outage_beyond_the_retry_budget_fails_with_connection_errors_only(
    outage: Outage,
) -> None:
    tally, figures = await outage(RUNS_OUT, "outage beyond the budget")
    assert figures.failed > 0, "the outage outlasts the budget: writes during it must fail"
    assert tally.acknowledged_after_restart() > 0, "writes must succeed again after the restart"
