"""The failover state the monitor drives and the router reads: one object, one event loop.

Every decision the router takes per call is a read of plain attributes (breaker state, two
feature flags); nothing here awaits I/O except the clearing of fallback copies, which runs
under the write lock.
"""

from __future__ import annotations

import asyncio

from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import RepositoryConnectionError, RepositoryError
from ai_agent.infrastructure.database.features import PROCESS_FLAGS, Features
from ai_agent.infrastructure.database.health._breaker import BreakerState, CircuitBreaker
from ai_agent.infrastructure.database.health._journal import Journal
from ai_agent.infrastructure.database.health._replay import clear_copies
from ai_agent.infrastructure.database.telemetry import HEALTH_LOGGER, event_logger

__all__ = ["Failover", "backend_name", "describe"]

events = event_logger(HEALTH_LOGGER)


def describe(exc: BaseException) -> str:
    """An error as one line for status and logs: its message, with URL passwords masked."""
    lines = str(exc).strip().splitlines()
    return redact_text(lines[0]) if lines else type(exc).__name__


def backend_name(repository: Repository) -> str:
    return str(getattr(repository, "backend_name", type(repository).__name__))


class Failover:
    """Which repository serves calls, the journal of fallback writes, and the write lock.

    The write lock is held by every write served by the fallback (the write and its journal
    entry are one step, so the journal order is the order the fallback applied them) and by
    the last stretch of replay and the clearing of fallback copies, so neither can interleave
    with a fallback write.
    """

    def __init__(
        self,
        primary: Repository,
        fallback: Repository | None,
        breaker: CircuitBreaker,
        journal: Journal,
        features: Features = PROCESS_FLAGS,
    ) -> None:
        self.primary = primary
        self.features = features
        self.fallback = fallback
        self.breaker = breaker
        self.journal = journal
        self.write_lock = asyncio.Lock()
        self.running = False
        self.needs_clear = False
        self.last_error: str | None = None
        self.failover_count = 0

    # -- routing -----------------------------------------------------------------------------

    def fallback_allowed(self) -> bool:
        return self.fallback is not None and self.features("fallbacks")

    def serves_primary(self) -> bool:
        """Whether calls go to the primary now (closed breaker, or no failover allowed)."""
        return self.breaker.state is BreakerState.CLOSED or not self.fallback_allowed()

    def ensure_running(self) -> None:
        if not self.running:
            raise RepositoryConnectionError(
                "failover repository is not connected (its health monitor is stopped); "
                "call connect() or the monitor's start() first"
            )

    def unavailable(self, detail: str) -> RepositoryConnectionError:
        name = backend_name(self.primary)
        return RepositoryConnectionError(f"primary unavailable ({name}): {detail}")

    # -- breaker accounting ------------------------------------------------------------------

    def primary_failed(self, exc: BaseException | str, *, check: bool = False) -> None:
        """A call (or a health ``check``) of the primary failed."""
        self.last_error = exc if isinstance(exc, str) else describe(exc)
        if self.breaker.record_failure(check=check):
            self._count_failover()

    def primary_succeeded(self) -> None:
        self.breaker.record_success()

    def trip(self, reason: str) -> None:
        """Leave the primary now (at start-up: it is down, or a journal awaits replay)."""
        was_closed = self.breaker.state is BreakerState.CLOSED
        self.last_error = reason
        self.breaker.trip()
        if was_closed:
            self._count_failover()

    def _count_failover(self) -> None:
        self.failover_count += 1
        allowed = self.fallback_allowed()
        events.warning(
            "failover.activated",
            primary=backend_name(self.primary),
            fallback=backend_name(self.fallback) if allowed and self.fallback else None,
            reason=self.last_error,
            failovers=self.failover_count,
        )

    # -- fallback copies ---------------------------------------------------------------------

    async def clear_fallback(self) -> None:
        """Delete the replayed writes' copies from the fallback (caller holds the write lock)."""
        if self.fallback is None:
            self.needs_clear = False
            return
        self.needs_clear = True
        entries = await self.journal.applied()
        try:
            removed = await clear_copies(self.fallback, entries)
        except RepositoryError as exc:
            events.warning(
                "fallback.clear_failed",
                fallback=backend_name(self.fallback),
                error=type(exc).__name__,
                reason=describe(exc),
            )
            raise
        await self.journal.forget_applied()
        self.needs_clear = False
        if entries:
            events.info("fallback.cleared", fallback=backend_name(self.fallback), entities=removed)
