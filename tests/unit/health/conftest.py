"""Fixtures of the failover unit tests: a monitor over an in-memory primary that can fail
(``OutageRepository``) and an in-memory fallback, driven by a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ai_agent.infrastructure.database import InMemoryRepository, Repository, RepositoryHealthMonitor
from unit.health.support import Clock, OutageRepository, Rig, settings


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


@pytest.fixture
def rig(
    monitor: RepositoryHealthMonitor,
    repo: Repository,
    primary: OutageRepository,
    fallback: InMemoryRepository,
    clock: Clock,
) -> Rig:
    return Rig(monitor, repo, primary, fallback, clock)
