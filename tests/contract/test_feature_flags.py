"""The feature flags this layer consults besides ``retries`` and ``fallbacks``:
``bulk_operations`` (off: ``create_messages`` is refused, nothing stored) and
``detailed_metrics`` (on: the rows of every call go to ``ai_agent_repository_operation_rows``
besides the latency every call records). Each metrics test records on a registry of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from ai_agent.config import feature_flags
from ai_agent.infrastructure.database import (
    DuplicateError,
    OperationDisabledError,
    Repository,
)
from ai_agent.infrastructure.database.telemetry import DURATION, ROWS, Measured, Telemetry

from .checks import unchanged
from .factories import make_message, make_session


@pytest.fixture(autouse=True)
def _flags() -> Iterator[None]:
    feature_flags.reset()
    yield
    feature_flags.reset()


def recording(repository: Repository) -> tuple[CollectorRegistry, str]:
    """Point ``repository`` at a fresh registry; return it and the ``backend`` label."""
    # Not in the Repository protocol: BaseRepository and the failover router both carry it.
    assert isinstance(repository, Measured)
    registry = CollectorRegistry()
    repository.telemetry = Telemetry(registry=registry)
    return registry, repository.backend_name


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_bulk_operations_off_refuses_create_messages(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    batch = [make_message(session, content=f"m{index}") for index in range(3)]
    with feature_flags.override("bulk_operations", False):
        async with unchanged(repository, session.id):
            with pytest.raises(OperationDisabledError, match="FEATURE_ENABLE_BULK_OPERATIONS"):
                await repository.create_messages(batch)
        # One at a time is still allowed.
        assert await repository.create_message(batch[0]) == batch[0]
    assert await repository.create_messages(batch[1:]) == batch[1:]
    stored = await repository.get_session(session.id)
    assert stored is not None and stored.message_count == 3


async def test_detailed_metrics_off_records_latency_but_no_rows(repository: Repository) -> None:
    registry, backend = recording(repository)
    session = await repository.create_session(make_session())
    with pytest.raises(DuplicateError):
        await repository.create_session(session)
    for _ in range(3):
        assert await repository.get_session(session.id) == session

    count = f"{DURATION}_count"
    created = {"backend": backend, "operation": "create_session"}
    assert sample(registry, count, **created, outcome="ok") == 1
    assert sample(registry, count, **created, outcome="DuplicateError") == 1
    reads = {"backend": backend, "operation": "get_session", "outcome": "ok"}
    assert sample(registry, count, **reads) == 3
    assert 0 < (sample(registry, f"{DURATION}_sum", **reads) or 0) < 60
    assert sample(registry, f"{ROWS}_count", backend=backend, operation="get_session") is None


async def test_detailed_metrics_on_records_rows_per_call(repository: Repository) -> None:
    feature_flags.set_flag("detailed_metrics", True)
    registry, backend = recording(repository)
    session = await repository.create_session(make_session())
    await repository.create_messages([make_message(session) for _ in range(3)])
    assert len(await repository.get_recent_messages(session.id, limit=2)) == 2
    assert await repository.get_session(make_session().id) is None

    def rows(operation: str) -> tuple[float | None, float | None]:
        labels = {"backend": backend, "operation": operation}
        return sample(registry, f"{ROWS}_count", **labels), sample(
            registry, f"{ROWS}_sum", **labels
        )

    assert rows("create_session") == (1, 1)
    assert rows("create_messages") == (1, 3)
    assert rows("get_recent_messages") == (1, 2)
    assert rows("get_session") == (1, 0)  # nothing found: no row
