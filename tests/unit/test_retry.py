"""The retry loop of ``BaseRepository._run`` (``database/retry.py``), without any server.

Waits are recorded by the ``sleep`` the loop is given (and not slept); the calls are plain
coroutines that fail as a lost connection or a conflict would.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import pytest

from ai_agent.config.sections import RetryPolicy
from ai_agent.infrastructure.database import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    RepositoryConnectionError,
)
from ai_agent.infrastructure.database.retry import backoff, retry_transient

LOST = RepositoryConnectionError("connection lost")


def policy(
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 3.0,
    exponential_base: float = 2.0,
    jitter: bool = False,
) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=base_delay,
        max_delay=max_delay,
        exponential_base=exponential_base,
        jitter=jitter,
    )


class Script:
    """A call that raises the given errors in turn, then returns ``result``; records waits."""

    def __init__(self, *errors: Exception, result: object = "done") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0
        self.waits: list[float] = []

    async def __call__(self) -> object:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def run(
        self,
        retry: RetryPolicy,
        first: Exception = LOST,
        recover: Callable[[], Awaitable[object]] | None = None,
        maybe_applied: Callable[[object], object] | None = None,
    ) -> object:
        return await retry_transient(self, retry, first, recover, maybe_applied, sleep=self.sleep)


# -- the wait before each retry ------------------------------------------------------------------


def test_without_jitter_each_wait_is_exactly_the_capped_exponential() -> None:
    waits = [backoff(policy(), retry) for retry in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_with_jitter_each_wait_is_equal_jitter_within_half_and_all_of_its_ceiling() -> None:
    jittered = policy(jitter=True)
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 3.0, 3.0], start=1):
        samples = [backoff(jittered, retry) for _ in range(500)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in samples), retry
        # Spread over the whole upper half (a miss here has odds below 1e-40).
        assert min(samples) < 0.6 * ceiling and max(samples) > 0.9 * ceiling, retry


def test_a_huge_exponent_waits_max_delay() -> None:
    assert backoff(policy(exponential_base=1e10), 10_000) == 3.0
    assert backoff(policy(base_delay=0.0), 10_000) == 0.0
    assert not math.isnan(backoff(policy(exponential_base=1e10, jitter=True), 10_000))


# -- the loop ------------------------------------------------------------------------------------


async def test_every_wait_follows_the_policy_the_first_included() -> None:
    call = Script(LOST, ConflictError("busy"))
    assert await call.run(policy()) == "done"
    assert call.calls == 3  # the first attempt was the caller's
    assert call.waits == [0.5, 1.0, 2.0]


async def test_the_first_wait_is_jittered_like_the_others() -> None:
    firsts = set()
    for _ in range(20):
        call = Script()
        await call.run(policy(jitter=True))
        [wait] = call.waits
        assert 0.25 <= wait <= 0.5
        firsts.add(wait)
    assert len(firsts) > 1


async def test_the_budget_spent_raises_the_last_error_saying_so() -> None:
    call = Script(*[RepositoryConnectionError("refused")] * 10)
    with pytest.raises(RepositoryConnectionError, match=r"refused \(gave up after 4 attempts\)"):
        await call.run(policy(max_attempts=4))
    assert call.calls == 3
    assert call.waits == [0.5, 1.0, 2.0]


async def test_an_error_that_is_not_transient_is_raised_at_once() -> None:
    call = Script(NotFoundError("session", "1"), LOST)
    with pytest.raises(NotFoundError):
        await call.run(policy())
    assert call.calls == 1 and call.waits == [0.5]


# -- writes whose answer was lost ----------------------------------------------------------------


async def test_recover_turns_a_duplicate_of_the_callers_own_write_into_success() -> None:
    async def mine() -> object:
        return "stored copy"

    async def someone_elses() -> object:
        return None

    duplicate = DuplicateError("session", "id", "1")
    assert await Script(duplicate).run(policy(), recover=mine) == "stored copy"
    with pytest.raises(DuplicateError):
        await Script(duplicate).run(policy(), recover=someone_elses)
    with pytest.raises(DuplicateError):
        await Script(duplicate).run(policy())


def report_deleted(found: object) -> object:
    return True  # what BaseRepository passes for deletes


@pytest.mark.parametrize(
    ("first", "then", "reported"),
    [
        (LOST, [], True),  # the first attempt may have deleted it
        (ConflictError("busy"), [LOST], True),  # ... or the second
        (ConflictError("busy"), [], False),  # a conflict applied nothing
    ],
)
async def test_a_delete_that_finds_nothing_after_a_lost_connection_reports_deleted(
    first: Exception, then: list[Exception], reported: bool
) -> None:
    call = Script(*then, result=False)
    assert await call.run(policy(), first, maybe_applied=report_deleted) is reported
