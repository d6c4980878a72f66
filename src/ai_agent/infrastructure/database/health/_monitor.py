"""``RepositoryHealthMonitor``: background checks, the breaker's transitions, replay."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Self

from ai_agent.config.sections import CircuitBreakerSettings, ObservabilitySettings
from ai_agent.domain.models import utc_now
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.health._breaker import BreakerState, CircuitBreaker
from ai_agent.infrastructure.database.health._failover import Failover, backend_name, describe
from ai_agent.infrastructure.database.health._journal import journal_for
from ai_agent.infrastructure.database.health._replay import drain
from ai_agent.infrastructure.database.health._repository import FailoverRepository
from ai_agent.infrastructure.database.telemetry import HEALTH_LOGGER, Telemetry, event_logger

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ai_agent.config.application import ApplicationSettings

__all__ = ["HealthStatus", "RepositoryHealthMonitor"]

events = event_logger(HEALTH_LOGGER)

# Replay runs without the write lock while the journal is longer than this, then takes the
# lock for the rest, so new fallback writes wait only for a short tail.
_UNLOCKED_TAIL = 32
_UNLOCKED_PASSES = 3
_DEFAULT_OBSERVABILITY = ObservabilitySettings.model_construct()
_DEFAULT_BREAKERS = CircuitBreakerSettings.model_construct()


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """A snapshot of the monitor, for code and for ``ai-agent health``."""

    state: BreakerState
    active: Literal["primary", "fallback"]
    running: bool
    primary_healthy: bool | None
    fallback_healthy: bool | None
    last_error: str | None
    failover_count: int
    journal_length: int
    rejected_writes: int
    journal_location: str
    last_check: datetime | None


class RepositoryHealthMonitor:
    """Watches a primary repository and fails over to a fallback without losing writes.

    What is served during an outage, and how replay works: docs/architecture.md, "Health
    and failover".
    ``settings`` (an ``ApplicationSettings``) supplies the check interval, timeout and
    thresholds (``observability.health_check_*``) and the breaker policy
    (``circuit_breaker.policy("db")``); without it the class defaults apply (the environment
    is not read). ``journal_path`` overrides where the journal is kept; ``clock`` (monotonic
    seconds) is for tests. The routing repository's calls, and the failover and journal
    gauges, are recorded on ``registry`` (default: prometheus_client's) as
    ``settings.observability`` says (without settings: metrics, no tracing).

    The monitor connects both repositories (idempotently, and again after an outage) and on
    ``stop()`` disconnects only those it found unconnected at ``start()``.
    """

    def __init__(
        self,
        primary_repository: Repository,
        fallback_repository: Repository | None = None,
        settings: ApplicationSettings | None = None,
        *,
        journal_path: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        registry: CollectorRegistry | None = None,
    ) -> None:
        # Without settings, the class defaults (model_construct reads no environment).
        observability = settings.observability if settings else _DEFAULT_OBSERVABILITY
        breakers = settings.circuit_breaker if settings else _DEFAULT_BREAKERS
        self.interval = observability.health_check_interval
        self.check_timeout = observability.health_check_timeout
        self._failover = Failover(
            primary_repository,
            fallback_repository,
            CircuitBreaker(
                breakers.policy("db"),
                clock,
                check_failure_threshold=observability.health_check_failure_threshold,
                recovery_checks=observability.health_check_recovery_threshold,
            ),
            journal_for(fallback_repository, journal_path),
        )
        telemetry = (
            Telemetry.from_settings(settings.observability, registry)
            if settings is not None
            else Telemetry(registry=registry)
        )
        self._router = FailoverRepository(self._failover, self, telemetry)
        self._task: asyncio.Task[None] | None = None
        self._lifecycle_lock = asyncio.Lock()
        self._check_lock = asyncio.Lock()
        self._opened: list[Repository] = []
        self._primary_healthy: bool | None = None
        self._fallback_healthy: bool | None = None
        self._last_check: datetime | None = None

    # -- reading the state -------------------------------------------------------------------

    @property
    def primary_repository(self) -> Repository:
        return self._failover.primary

    @property
    def fallback_repository(self) -> Repository | None:
        return self._failover.fallback

    @property
    def state(self) -> BreakerState:
        return self._failover.breaker.state

    @property
    def running(self) -> bool:
        return self._task is not None

    def status(self) -> HealthStatus:
        failover = self._failover
        journal = failover.journal
        return HealthStatus(
            state=failover.breaker.state,
            active="primary" if failover.serves_primary() else "fallback",
            running=self.running,
            primary_healthy=self._primary_healthy,
            fallback_healthy=self._fallback_healthy,
            last_error=failover.last_error,
            failover_count=failover.failover_count,
            journal_length=journal.pending_count,
            rejected_writes=journal.rejected_count,
            journal_location=journal.location,
            last_check=self._last_check,
        )

    async def get_healthy_repository(self) -> Repository:
        """The routing repository; starts the monitor on first use.

        Raises:
            RepositoryConnectionError: the primary is down and no fallback can serve (none
                given, fallbacks disabled, or the fallback failed its last check).
        """
        if self._task is None:
            await self.start()
        failover = self._failover
        if failover.breaker.state is BreakerState.CLOSED:
            return self._router
        if not failover.fallback_allowed():
            raise failover.unavailable("and no fallback may serve (none, or fallbacks are off)")
        if self._fallback_healthy is False:
            raise failover.unavailable("and the fallback failed its last health check too")
        return self._router

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the journal, connect both repositories, assess them, start checking.

        Idempotent. A journal left by an earlier run keeps calls on the fallback until it
        has been replayed into the primary.
        """
        async with self._lifecycle_lock:
            if self._task is not None:
                return
            failover = self._failover
            await failover.journal.open()
            self._opened = [
                repository
                for repository in (failover.primary, failover.fallback)
                if repository is not None and getattr(repository, "is_connected", True) is False
            ]
            journal = failover.journal
            # Replayed entries left by a crash after the switch to the primary: their fallback
            # copies may be stale. (Cut short before the switch, replay left them current;
            # they are cleared with the rest once the journal is drained.)
            failover.needs_clear = journal.applied_count > 0 and journal.pending_count == 0
            failover.running = True
            await self._assess_at_start()
            self._task = asyncio.create_task(self._run(), name="repository-health-monitor")

    async def _assess_at_start(self) -> None:
        failover = self._failover
        primary_ok, error = await self._probe_both()
        waiting = failover.journal.pending_count
        if waiting:
            failover.trip(f"{waiting} journaled writes from an earlier run await replay")
        elif not primary_ok:
            failover.trip(error or "primary unavailable at start")

    async def stop(self) -> None:
        """Stop checking, close the journal, disconnect what the monitor connected."""
        async with self._lifecycle_lock:
            task, self._task = self._task, None
            if task is None:
                return
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            failover = self._failover
            async with failover.write_lock:  # let a fallback write finish with its journal entry
                failover.running = False
                await failover.journal.close()
            for repository in self._opened:
                with contextlib.suppress(RepositoryError):
                    await repository.disconnect()
            self._opened = []

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- checking ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._delay())
            try:
                await self.check()
            except Exception as exc:  # the loop outlives any one bad round
                events.exception("health_check.round_failed", error=type(exc).__name__)

    def _delay(self) -> float:
        breaker = self._failover.breaker
        until_trial = breaker.seconds_until_trial()
        if breaker.state is BreakerState.OPEN and until_trial > 0:
            return min(self.interval, until_trial)
        return self.interval

    async def _probe(self, repository: Repository) -> tuple[bool, str | None]:
        name = backend_name(repository)
        try:
            async with asyncio.timeout(self.check_timeout):
                await repository.connect()  # idempotent; reopens a primary that was down
                if await repository.health_check():
                    return True, None
                return False, f"{name} health check failed"
        except TimeoutError:
            return False, f"{name} health check timed out after {self.check_timeout:g}s"
        except RepositoryError as exc:
            return False, describe(exc)

    async def _probe_both(self) -> tuple[bool, str | None]:
        """Probe both repositories and record the outcome; the primary's result and error."""
        primary_ok, error = await self._probe(self._failover.primary)
        fallback = self._failover.fallback
        self._primary_healthy = primary_ok
        self._fallback_healthy = None if fallback is None else (await self._probe(fallback))[0]
        self._last_check = utc_now()
        return primary_ok, error

    async def check(self) -> HealthStatus:
        """Run one round of checks now (the background task does this every interval)."""
        async with self._check_lock:
            await self._react(*await self._probe_both())
        return self.status()

    async def _react(self, primary_ok: bool, error: str | None) -> None:
        failover = self._failover
        breaker = failover.breaker
        if breaker.state is BreakerState.CLOSED:
            if not primary_ok:
                failover.primary_failed(error or "primary health check failed", check=True)
                return
            breaker.record_success()
            if failover.needs_clear:
                async with failover.write_lock:
                    with contextlib.suppress(RepositoryError):
                        await failover.clear_fallback()
            return
        if breaker.trial_due():
            breaker.begin_trial()
        if breaker.state is BreakerState.HALF_OPEN:
            await self._trial(primary_ok, error)

    async def _trial(self, primary_ok: bool, error: str | None) -> None:
        failover = self._failover
        breaker = failover.breaker
        passed = False
        while primary_ok and not passed:
            passed = breaker.probe_passed()
            if not passed:
                primary_ok, error = await self._probe(failover.primary)
        if not primary_ok:
            failover.last_error = error
            breaker.trial_failed()
            return
        try:
            await self._fail_back()
        except Exception as exc:
            failover.last_error = f"replay into the primary failed: {describe(exc)}"
            breaker.trial_failed()
            if not isinstance(exc, RepositoryError):
                raise
            events.warning(
                "failover.replay_failed",
                primary=backend_name(failover.primary),
                error=type(exc).__name__,
                reason=failover.last_error,
                pending=failover.journal.pending_count,
            )

    async def _fail_back(self) -> None:
        """Replay the journal into the primary, then route calls to it again.

        New writes keep going to the fallback (and the journal) while the bulk is replayed;
        the write lock is taken only for the last stretch, the switch and the clearing.
        """
        failover = self._failover
        journal = failover.journal
        started = time.perf_counter()
        replayed = 0
        for _ in range(_UNLOCKED_PASSES):
            before = journal.pending_count
            if before <= _UNLOCKED_TAIL:
                break
            replayed += await drain(failover.primary, journal, budget=before)
            if journal.pending_count > before // 2:
                break  # new writes keep pace with replay: hold them for the rest
        async with failover.write_lock:
            replayed += await drain(failover.primary, journal)
            if failover.breaker.state is not BreakerState.HALF_OPEN:
                return
            failover.breaker.close()  # last_error stays: it says why the last outage began
            primary = backend_name(failover.primary)
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            events.info("journal.replayed", primary=primary, entries=replayed, duration_ms=elapsed)
            events.info("failover.recovered", primary=primary, replayed=replayed)
            with contextlib.suppress(RepositoryError):  # retried before the next fallback write
                await failover.clear_fallback()
