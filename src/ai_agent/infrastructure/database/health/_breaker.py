"""The circuit breaker that decides when traffic leaves the primary and when it may return.

A plain state machine with an injectable clock, driven by the monitor (health checks, call
failures) and never by a timer of its own::

    CLOSED --(consecutive failures reach the threshold)--> OPEN
    OPEN --(recovery_timeout elapsed; the monitor begins a trial)--> HALF_OPEN
    HALF_OPEN --(enough good probes in a row, journal replayed)--> CLOSED
    HALF_OPEN --(a failed probe or replay)--> OPEN (the recovery timeout starts again)

Failed calls and failed health checks add to one count of consecutive failures (any success
resets it); a failed call opens the breaker once the count reaches the policy's
``failure_threshold``, a failed check once it reaches the check threshold
(``ObservabilitySettings.health_check_failure_threshold``). A trial needs
``half_open_max_calls`` good probes, or ``health_check_recovery_threshold`` if that is more.

With the ``circuit_breakers`` feature flag off the breaker follows the latest result
directly: the first failure opens it, and the next good health check begins the trial at
once with a single probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from ai_agent.config.sections import CircuitBreakerPolicy
from ai_agent.infrastructure.database.features import PROCESS_FLAGS, Features

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where the breaker stands: ``closed`` serves from the primary, the others do not."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of the primary and times the recovery trials."""

    def __init__(
        self,
        policy: CircuitBreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        *,
        check_failure_threshold: int | None = None,
        recovery_checks: int = 1,
        features: Features = PROCESS_FLAGS,
    ) -> None:
        self.policy = policy
        self.features = features
        self.check_failure_threshold = check_failure_threshold or policy.failure_threshold
        self.recovery_checks = recovery_checks
        self._clock = clock
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._opened_at = 0.0
        self._trial_successes = 0

    def _enabled(self) -> bool:
        return self.features("circuit_breakers")

    def threshold(self, *, check: bool = False) -> int:
        """Consecutive failures that open the breaker, when the last one is a call or a check."""
        if not self._enabled():
            return 1
        return self.check_failure_threshold if check else self.policy.failure_threshold

    @property
    def trial_probes(self) -> int:
        """How many consecutive good probes a trial needs before the primary is retried."""
        if not self._enabled():
            return 1
        return max(self.policy.half_open_max_calls, self.recovery_checks)

    def seconds_until_trial(self) -> float:
        """Time left before an open breaker may begin a trial (0 when due or not open)."""
        if self.state is not BreakerState.OPEN or not self._enabled():
            return 0.0
        elapsed = self._clock() - self._opened_at
        return max(0.0, self.policy.recovery_timeout - elapsed)

    def record_success(self) -> None:
        """A good answer from the primary while closed resets the failure count."""
        if self.state is BreakerState.CLOSED:
            self.consecutive_failures = 0

    def record_failure(self, *, check: bool = False) -> bool:
        """Count a failed call (or ``check``); return whether this one opened the breaker.

        Only a closed breaker counts: a failure reported by a call that started before the
        breaker opened says nothing new, and a trial judges its own probes.
        """
        if self.state is not BreakerState.CLOSED:
            return False
        self.consecutive_failures += 1
        if self.consecutive_failures < self.threshold(check=check):
            return False
        self.trip()
        return True

    def trip(self) -> None:
        """Open now, whatever the count (the primary is known to be unusable)."""
        self.state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._trial_successes = 0

    def trial_due(self) -> bool:
        return self.state is BreakerState.OPEN and self.seconds_until_trial() == 0.0

    def begin_trial(self) -> None:
        self.state = BreakerState.HALF_OPEN
        self._trial_successes = 0

    def probe_passed(self) -> bool:
        """Count a good probe in a trial; return whether the trial has enough of them."""
        self._trial_successes += 1
        return self._trial_successes >= self.trial_probes

    def trial_failed(self) -> None:
        self.trip()

    def close(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._trial_successes = 0
