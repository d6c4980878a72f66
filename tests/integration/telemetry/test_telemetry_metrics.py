"""Prometheus metrics after real operations on every backend, scraped from the registry:
exact counts per operation and outcome, error classes, nothing when disabled, pool gauges,
and the failover gauges through a monitor during an outage."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import StorageBackend
from ai_agent.config.sections import ObservabilitySettings
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    NotFoundError,
    PostgreSQLRepository,
    Repository,
    RepositoryFactory,
    RepositoryHealthMonitor,
    RepositoryValidationError,
    SQLiteRepository,
)
from ai_agent.infrastructure.database.telemetry import (
    DURATION,
    ERRORS,
    FAILOVER_ACTIVE,
    JOURNAL_PENDING,
    POOL_CONNECTIONS,
    Telemetry,
)
from contract.factories import make_message, make_session
from integration.telemetry._support import recording, sample
from unit.health.support import Clock, OutageRepository, fail_over, recover, settings


def counts(registry: CollectorRegistry, backend: str) -> dict[tuple[str, str], float]:
    """``(operation, outcome) -> calls`` recorded for ``backend``."""
    found: dict[tuple[str, str], float] = {}
    for metric in registry.collect():
        for s in metric.samples:
            if s.name == f"{DURATION}_count" and s.labels["backend"] == backend:
                found[(s.labels["operation"], s.labels["outcome"])] = s.value
    return found


async def test_each_call_is_one_sample_of_its_operation_and_outcome(
    repository: Repository, registry: CollectorRegistry
) -> None:
    backend = recording(repository, Telemetry(registry=registry))
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    for _ in range(2):
        await repository.get_session(session.id)
    assert [m.id async for m in repository.iter_messages(session.id)] != []
    with pytest.raises(NotFoundError):
        await repository.update_session(make_session())  # never created
    with pytest.raises(RepositoryValidationError):
        await repository.get_session("not-a-uuid")  # type: ignore[arg-type]

    assert counts(registry, backend) == {
        ("create_session", "ok"): 1,
        ("create_message", "ok"): 1,
        ("get_session", "ok"): 2,
        ("iter_messages", "ok"): 1,  # one page
        ("update_session", "NotFoundError"): 1,
        ("get_session", "RepositoryValidationError"): 1,
    }
    errors = {"backend": backend, "operation": "update_session", "error": "NotFoundError"}
    assert sample(registry, ERRORS, **errors) == 1
    assert sample(registry, ERRORS, **{**errors, "operation": "create_session"}) is None
    ok = {"backend": backend, "operation": "get_session", "outcome": "ok"}
    assert sample(registry, f"{DURATION}_bucket", **ok, le="+Inf") == 2
    assert 0 < (sample(registry, f"{DURATION}_sum", **ok) or 0) < 10


async def test_disabled_metrics_record_nothing_anywhere(
    repository: Repository, registry: CollectorRegistry
) -> None:
    backend = recording(repository, Telemetry(registry=registry, metrics_enabled=False))
    labels = {"backend": backend, "operation": "get_session", "outcome": "ok"}
    before = sample(REGISTRY, f"{DURATION}_count", **labels)
    session = await repository.create_session(make_session())
    await repository.get_session(session.id)
    with pytest.raises(NotFoundError):
        await repository.update_session(make_session())

    assert list(registry.collect()) == []  # not even the families were registered
    assert sample(REGISTRY, f"{DURATION}_count", **labels) == before


async def test_pool_gauges_show_the_connections_of_server_backends(
    repository: Repository, registry: CollectorRegistry
) -> None:
    backend = recording(repository, Telemetry(registry=registry))
    await repository.create_session(make_session())
    in_use = sample(registry, POOL_CONNECTIONS, backend=backend, state="in_use")
    idle = sample(registry, POOL_CONNECTIONS, backend=backend, state="idle")
    if isinstance(repository, InMemoryRepository):
        assert (in_use, idle) == (None, None)  # no pool
        return
    assert in_use == 0  # nothing runs between calls
    assert idle is not None and idle >= 1
    if isinstance(repository, SQLiteRepository):
        assert idle == 1  # its one connection
        async with repository.transaction():
            assert sample(registry, POOL_CONNECTIONS, backend=backend, state="in_use") == 1
    if isinstance(repository, PostgreSQLRepository):
        assert repository.pool is not None
        async with repository.pool.acquire():
            busy = sample(registry, POOL_CONNECTIONS, backend=backend, state="in_use")
            assert busy == 1
    await repository.disconnect()
    assert sample(registry, POOL_CONNECTIONS, backend=backend, state="idle") is None
    await repository.connect()  # the fixture cleans up through it


@pytest.mark.memory
async def test_failover_gauges_follow_an_outage_and_its_replay(registry: CollectorRegistry) -> None:
    primary, fallback, clock = OutageRepository(), InMemoryRepository(), Clock()
    monitor = RepositoryHealthMonitor(primary, fallback, settings(), clock=clock, registry=registry)
    sides = {"primary": "memory", "fallback": "memory"}
    async with monitor:
        repository = await monitor.get_healthy_repository()
        assert sample(registry, FAILOVER_ACTIVE, **sides) == 0
        assert sample(registry, JOURNAL_PENDING, **sides) == 0

        await fail_over(repository, primary)
        assert sample(registry, FAILOVER_ACTIVE, **sides) == 1
        session = await repository.create_session(make_session())
        await repository.create_message(make_message(session))
        assert sample(registry, JOURNAL_PENDING, **sides) == 2

        await recover(monitor, primary, clock)
        assert sample(registry, FAILOVER_ACTIVE, **sides) == 0
        assert sample(registry, JOURNAL_PENDING, **sides) == 0
        assert await primary.get_session(session.id) is not None

        routed = counts(registry, "failover")
        assert routed[("get_session", "RepositoryConnectionError")] == 2
        assert routed[("create_session", "ok")] == routed[("create_message", "ok")] == 1
    assert sample(registry, FAILOVER_ACTIVE, **sides) == 0  # stopped: not routing anywhere


@pytest.mark.memory
async def test_repositories_on_one_registry_share_its_families() -> None:
    registry = CollectorRegistry()
    first, second = InMemoryRepository(), InMemoryRepository()
    for repository in (first, second):
        recording(repository, Telemetry(registry=registry))
        async with repository:
            await repository.get_session(uuid4())
    labels = {"backend": "memory", "operation": "get_session", "outcome": "ok"}
    assert sample(registry, f"{DURATION}_count", **labels) == 2


@pytest.mark.memory
def test_the_factory_and_the_monitor_follow_the_observability_settings(
    registry: CollectorRegistry,
) -> None:
    observability = ObservabilitySettings(
        metrics_enabled=False, tracing_enabled=True, tracing_sample_rate=0.5
    )
    chosen = ApplicationSettings(storage_backend=StorageBackend.MEMORY, observability=observability)
    expected = Telemetry(
        registry=registry, metrics_enabled=False, tracing_enabled=True, sample_rate=0.5
    )
    assert RepositoryFactory.create_repository(chosen, registry=registry).telemetry == expected
    given = Telemetry(registry=registry)
    assert RepositoryFactory.from_url("memory://", telemetry=given).telemetry is given
    assert RepositoryFactory.from_url("memory://").telemetry == Telemetry()
    monitor = RepositoryHealthMonitor(InMemoryRepository(), settings=chosen, registry=registry)
    assert monitor._router.telemetry == expected
