"""Retries of transient failures, with exponential backoff and jitter (tenacity).

A repository call that fails with :class:`RepositoryConnectionError` (connection refused or
reset, server starting up, pool timeout) or :class:`ConflictError` is tried again, while the
``retries`` feature flag is on, up to the policy's ``max_attempts`` in all. The first attempt
runs outside tenacity, so a healthy call pays nothing for the machinery.

Ids are chosen by the client, which makes creates safe to retry: when an earlier attempt
did commit but its answer was lost, the next attempt meets its own record as a duplicate;
``recover`` then looks the record up and, if it is identical to what was written, the call
succeeds with that one stored copy. Outside a retry loop a duplicate id is still an error.
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

if TYPE_CHECKING:
    from ai_agent.config.sections import RetryPolicy

__all__ = ["TRANSIENT_ERRORS", "retry_transient"]

T = TypeVar("T")

TRANSIENT_ERRORS = (RepositoryConnectionError, ConflictError)


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """``base_delay * exponential_base ** n`` plus up to ``base_delay`` of jitter, capped.

    Written out rather than ``wait_exponential_jitter``: its ``initial`` argument is
    deprecated in tenacity 9.2 (a DeprecationWarning on every retry) and its replacement,
    ``multiplier``, is missing from the tenacity 8.2 that we still accept.
    """

    def wait(state: RetryCallState) -> float:
        try:
            delay = policy.base_delay * policy.exponential_base ** (state.attempt_number - 1)
        except OverflowError:
            delay = policy.max_delay
        if policy.jitter:
            delay += random.uniform(0, policy.base_delay)
        return min(delay, policy.max_delay)

    return wait


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    first_error: Exception,
    recover: Callable[[], Awaitable[T | None]] | None = None,
) -> T:
    """Attempts 2..``max_attempts`` of a call whose first attempt failed with ``first_error``.

    Raises the last transient error, noting how many attempts were made, once the budget is
    spent; any other error at once.
    """
    await asyncio.sleep(min(policy.base_delay, policy.max_delay))
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts - 1),
        wait=_wait(policy),
        retry=retry_if_exception_type(TRANSIENT_ERRORS),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await _recovering(call, recover)
    except TRANSIENT_ERRORS as exc:
        raise type(exc)(f"{exc} (gave up after {policy.max_attempts} attempts)") from exc
    raise first_error  # pragma: no cover - tenacity either returns or raises


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
