"""Fixtures of the failover unit tests: a monitor over an in-memory primary that can fail
(``OutageRepository``) and an in-memory fallback, driven by a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ai_agent.config import feature_flags
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    RepositoryHealthMonitor,
)
from unit.health.support import Clock, OutageRepository, settings


@pytest.fixture(autouse=True)
def _flags() -> Iterator[None]:
    feature_flags.reset()
    yield
    feature_flags.reset()


@pytest.fixture
async def primary() -> AsyncIterator[OutageRepository]:
    async with OutageRepository() as repository:
        yield repository


@pytest.fixture
async def fallback() -> AsyncIterator[InMemoryRepository]:
    async with InMemoryRepository() as repository:
        yield repository


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def monitor(
    primary: OutageRepository, fallback: InMemoryRepository, clock: Clock
) -> AsyncIterator[RepositoryHealthMonitor]:
    # The background checks are an hour apart: each test drives them with check().
    async with RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=settings(), clock=clock
    ) as started:
        yield started


@pytest.fixture
async def repo(monitor: RepositoryHealthMonitor) -> Repository:
    return await monitor.get_healthy_repository()
