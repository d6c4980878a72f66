"""Retries of transient failures, with exponential backoff and jitter (tenacity).

A repository call that fails with :class:`RepositoryConnectionError` (connection refused or
reset, server starting up, pool timeout) or :class:`ConflictError` is tried again, while the
``retries`` feature flag is on, up to the policy's ``max_attempts`` in all. The first attempt
runs outside tenacity, so a healthy call pays nothing for the machinery.

**Waits.** Retry ``n`` (``n = 1`` before the second attempt) waits up to
``min(max_delay, base_delay * exponential_base ** (n - 1))``. With ``jitter`` every wait,
the first included, is "equal jitter" from the AWS Architecture Blog's *Exponential Backoff
And Jitter*: half of that ceiling plus a uniformly random share of the other half. Without
``jitter`` it is exactly the ceiling. Equal rather than full jitter (uniform from 0): the
callers still spread out, yet a budget keeps a floor. ``max_attempts`` attempts wait at
least half the sum of their ceilings, so a policy can be sized to outlast an outage, where
full jitter may retry at once every time.

**Writes whose answer was lost.** A connection error after a write was sent leaves the
caller unable to tell whether it was applied; the next attempt may meet the earlier one's
effect. Ids are chosen by the client, which makes creates safe to retry: the next attempt
meets its own record as a duplicate, and ``recover`` then looks the record up; if it is
identical to what was written, the call succeeds with that one stored copy. Outside a retry
loop a duplicate id is still an error. For other writes, ``maybe_applied`` says how a later
attempt's result reads once an earlier attempt may have been applied: a delete that finds
nothing left to delete then reports ``True``, the earlier attempt having deleted it. Like
``recover``, this gives the call the benefit of the doubt: a connection error does not say
whether the request was sent, so a record that a concurrent caller deleted meanwhile (or
that never existed, when the first attempt never reached the server) is reported as deleted
too.

**Events.** Each retry is a ``repository.retry`` event (backend, the attempt that failed, the
error's class, the wait), and a spent budget a ``repository.retries_exhausted`` warning.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from ai_agent.infrastructure.database.errors import (
    ConflictError,
    DuplicateError,
    RepositoryConnectionError,
)
from ai_agent.infrastructure.database.telemetry import events

if TYPE_CHECKING:
    from ai_agent.config.sections import RetryPolicy

__all__ = ["TRANSIENT_ERRORS", "backoff", "retry_transient"]

T = TypeVar("T")

TRANSIENT_ERRORS = (RepositoryConnectionError, ConflictError)


def backoff(policy: RetryPolicy, retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1: before the second attempt).

    Written out rather than tenacity's ``wait_exponential_jitter``, which adds up to a fixed
    ``jitter`` on top of the delay (so ``max_delay`` is the only bound); its ``initial``
    argument is also deprecated in tenacity 9.2, and ``multiplier`` is missing from 8.2.
    """
    ceiling = _ceiling(policy, retry)
    if not policy.jitter:
        return ceiling
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _ceiling(policy: RetryPolicy, retry: int) -> float:
    if policy.base_delay <= 0:  # no waiting, however large the exponent
        return 0.0
    try:
        return min(policy.max_delay, policy.base_delay * policy.exponential_base ** (retry - 1))
    except OverflowError:  # float ** int overflows where float * float gives inf
        return policy.max_delay


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    first_error: Exception,
    recover: Callable[[], Awaitable[T | None]] | None = None,
    maybe_applied: Callable[[T], T] | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    backend: str = "repository",
) -> T:
    """Attempts 2..``max_attempts`` of a call whose first attempt failed with ``first_error``.

    ``recover`` turns a duplicate into the caller's own earlier create, and ``maybe_applied``
    maps the result once an attempt failed with a connection error (see the module
    docstring). Raises the last transient error, noting how many attempts were made, once the
    budget is spent; any other error at once. Every wait goes through ``sleep``; ``backend``
    names the repository in the events.
    """
    lost = isinstance(first_error, RepositoryConnectionError)
    first_wait = backoff(policy, 1)
    _retrying(backend, policy, 1, first_error, first_wait)
    await sleep(first_wait)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        # Tenacity counts its own attempts; its first is the call's second.
        _retrying(backend, policy, state.attempt_number + 1, error, wait)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts - 1),
        wait=_wait(policy),
        retry=retry_if_exception_type(TRANSIENT_ERRORS),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                try:
                    result = await _recovering(call, recover)
                except RepositoryConnectionError:
                    lost = True
                    raise
                return maybe_applied(result) if lost and maybe_applied else result
    except TRANSIENT_ERRORS as exc:
        events.warning(
            "repository.retries_exhausted",
            backend=backend,
            attempts=policy.max_attempts,
            error=type(exc).__name__,
        )
        raise type(exc)(f"{exc} (gave up after {policy.max_attempts} attempts)") from exc
    raise first_error  # pragma: no cover - tenacity either returns or raises


def _retrying(
    backend: str, policy: RetryPolicy, failed: int, error: BaseException | None, wait: float
) -> None:
    events.info(
        "repository.retry",
        backend=backend,
        attempt=failed,
        max_attempts=policy.max_attempts,
        error=type(error).__name__ if error is not None else None,
        wait_s=round(wait, 4),
    )


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    # Tenacity numbers its own attempts; its first is the call's second (retry 1 came before).
    return lambda state: backoff(policy, state.attempt_number + 1)


async def _recovering(
    call: Callable[[], Awaitable[T]], recover: Callable[[], Awaitable[T | None]] | None
) -> T:
    try:
        return await call()
    except DuplicateError:
        if recover is None:
            raise
        recovered = await recover()
        if recovered is None:
            raise
        return recovered
