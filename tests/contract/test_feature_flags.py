"""The feature flags this layer consults besides ``retries`` and ``fallbacks``:
``bulk_operations`` (off: ``create_messages`` is refused, nothing stored) and
``detailed_metrics`` (on: every call is a sample in ``repository.metrics``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_agent.config import feature_flags
from ai_agent.infrastructure.database import (
    DuplicateError,
    OperationDisabledError,
    Repository,
    RepositoryMetrics,
)

from .checks import unchanged
from .factories import make_message, make_session


@pytest.fixture(autouse=True)
def _flags() -> Iterator[None]:
    feature_flags.reset()
    yield
    feature_flags.reset()


def metrics_of(repository: Repository) -> RepositoryMetrics:
    # Not in the Repository protocol: BaseRepository and the failover router both carry it.
    metrics = getattr(repository, "metrics", None)
    assert isinstance(metrics, RepositoryMetrics)
    return metrics


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


async def test_detailed_metrics_off_records_nothing(repository: Repository) -> None:
    await repository.create_session(make_session())
    assert metrics_of(repository).snapshot() == {}


async def test_detailed_metrics_count_calls_errors_and_latency(repository: Repository) -> None:
    feature_flags.set_flag("detailed_metrics", True)
    session = await repository.create_session(make_session())
    with pytest.raises(DuplicateError):
        await repository.create_session(session)
    for _ in range(3):
        assert await repository.get_session(session.id) == session
    await repository.create_message(make_message(session))

    stats = metrics_of(repository).snapshot()
    assert set(stats) == {"create_session", "get_session", "create_message"}
    created = stats["create_session"]
    assert (created.calls, created.errors) == (2, 1)
    assert dict(created.errors_by_type) == {"DuplicateError": 1}
    reads = stats["get_session"]
    assert (reads.calls, reads.errors, sum(reads.bucket_counts)) == (3, 0, 3)
    assert 0 < reads.quantile(0.5) <= reads.max_seconds <= reads.total_seconds
    assert reads.mean_seconds == pytest.approx(reads.total_seconds / 3)

    metrics_of(repository).reset()
    assert metrics_of(repository).snapshot() == {}
