"""Helpers of the failover unit tests: an in-memory store with an outage switch, and more.

``OutageRepository`` is a real ``InMemoryRepository``: while ``down`` is set, every call fails
with ``RepositoryConnectionError`` before touching the data, and connecting and health checks
fail too, as with a server that stopped answering. (No tests here.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.sections import CircuitBreakerSettings, ObservabilitySettings
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    RepositoryConnectionError,
    RepositoryHealthMonitor,
)
from ai_agent.infrastructure.database.health import BreakerState

__all__ = [
    "RECOVERY",
    "Clock",
    "OutageRepository",
    "Rig",
    "fail_over",
    "message",
    "recover",
    "routing_over_memory",
    "session",
    "settings",
    "unavailable",
    "wait_for",
]


class OutageRepository(InMemoryRepository):
    """An in-memory store that can be switched off like a server (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.pings = 0
        self.latency = 0.0
        self.error = "memory store unreachable (simulated outage)"
        #: Go down instead of storing the n-th message from now on (None: never).
        self.down_at_message: int | None = None

    def _ensure_open(self) -> None:
        if self.down:
            raise RepositoryConnectionError(self.error)
        super()._ensure_open()

    async def _connect(self) -> None:
        if self.down:
            raise RepositoryConnectionError(self.error)

    async def _ping(self) -> bool:
        self.pings += 1
        return not self.down

    def _count_messages(self, count: int) -> None:
        if self.down_at_message is None:
            return
        self.down_at_message -= count
        if self.down_at_message <= 0:
            self.down_at_message = None
            self.down = True
            raise RepositoryConnectionError("connection reset (simulated outage)")

    async def _create_message(self, message: Message) -> Message:
        await asyncio.sleep(self.latency)
        self._count_messages(1)
        return await super()._create_message(message)

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        await asyncio.sleep(self.latency)
        self._count_messages(len(messages))  # all or nothing, like the real thing
        return await super()._create_messages(messages)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


RECOVERY = 10.0


def settings(interval: float = 3600.0) -> ApplicationSettings:
    """Checks an hour apart (tests drive them with ``check()``); 2 failed calls or 3 failed
    checks open the breaker; a trial after ``RECOVERY`` seconds with one good probe."""
    return ApplicationSettings(
        observability=ObservabilitySettings(
            health_check_interval=interval,
            health_check_timeout=2,
            health_check_failure_threshold=3,
            health_check_recovery_threshold=1,
        ),
        circuit_breaker=CircuitBreakerSettings(
            db_failure_threshold=2, db_recovery_timeout=RECOVERY, db_half_open_max_calls=1
        ),
    )


def session(**fields: object) -> Session:
    return Session(user_id="user-1", **fields)  # type: ignore[arg-type]


def message(session_id: object, content: str = "hi", **fields: object) -> Message:
    return Message(session_id=session_id, role=MessageRole.USER, content=content, **fields)  # type: ignore[arg-type]


def unavailable() -> AbstractContextManager[pytest.ExceptionInfo[RepositoryConnectionError]]:
    return pytest.raises(RepositoryConnectionError, match="primary unavailable")


async def fail_over(repo: Repository, primary: OutageRepository) -> None:
    """Take the primary down and make calls until the breaker opens (threshold 2)."""
    primary.down = True
    with pytest.raises(RepositoryConnectionError, match="simulated outage"):
        await repo.get_session(session().id)
    with pytest.raises(RepositoryConnectionError, match="primary unavailable"):
        await repo.get_session(session().id)


async def recover(
    monitor: RepositoryHealthMonitor, primary: OutageRepository, clock: Clock
) -> None:
    primary.down = False
    clock.now += RECOVERY
    status = await monitor.check()
    assert status.state is BreakerState.CLOSED, status


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class Rig:
    """What a failover test drives: a started monitor, its routing repository, the primary
    that can fail, the fallback and the fake clock of the monitor."""

    monitor: RepositoryHealthMonitor
    repo: Repository
    primary: OutageRepository
    fallback: InMemoryRepository
    clock: Clock

    async def fail_over(self) -> None:
        await fail_over(self.repo, self.primary)

    async def recover(self) -> None:
        await recover(self.monitor, self.primary, self.clock)


@asynccontextmanager
async def routing_over_memory() -> AsyncIterator[Repository]:
    """The health monitor's routing repository over two healthy in-memory stores."""
    monitor = RepositoryHealthMonitor(
        primary_repository=InMemoryRepository(), fallback_repository=InMemoryRepository()
    )
    async with monitor:
        yield await monitor.get_healthy_repository()
