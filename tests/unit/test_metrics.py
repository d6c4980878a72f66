"""RepositoryMetrics: buckets, quantiles, errors by type, snapshots that do not move."""

from __future__ import annotations

import math

import pytest

from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.metrics import LATENCY_BUCKETS, OPERATIONS, RepositoryMetrics


def test_each_latency_lands_in_the_first_bucket_that_holds_it() -> None:
    metrics = RepositoryMetrics()
    for seconds in (0.0, LATENCY_BUCKETS[0], 0.0003, 0.001, 0.0011, 60.0):
        metrics.record("get_session", seconds)
    counts = metrics.snapshot()["get_session"].bucket_counts
    assert len(counts) == len(LATENCY_BUCKETS) + 1
    index = LATENCY_BUCKETS.index
    assert counts[0] == 2  # 0 and exactly the first bound
    assert counts[index(0.0005)] == 1  # 0.0003
    assert counts[index(0.001)] == 1  # exactly 1 ms
    assert counts[index(0.0025)] == 1  # 1.1 ms
    assert counts[-1] == 1  # beyond the last bound
    assert sum(counts) == 6


def test_quantiles_are_bucket_bounds_capped_by_the_slowest_call() -> None:
    metrics = RepositoryMetrics()
    for _ in range(99):
        metrics.record("create_message", 0.0004)
    metrics.record("create_message", 7.0)
    stats = metrics.snapshot()["create_message"]
    assert stats.quantile(0.5) == 0.0005
    assert stats.quantile(0.99) == 0.0005
    assert stats.quantile(1.0) == 7.0  # its bucket bound (10 s) capped by the slowest call
    assert stats.max_seconds == 7.0
    assert math.isclose(stats.total_seconds, 99 * 0.0004 + 7.0)
    metrics.record("create_message", 30.0)
    assert metrics.snapshot()["create_message"].quantile(1.0) == 30.0  # the unbounded bucket
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.quantile(1.5)


def test_errors_are_counted_by_type_and_snapshots_do_not_move() -> None:
    metrics = RepositoryMetrics()
    metrics.record("delete_session", 0.01, KeyError("x"))
    metrics.record("delete_session", 0.01, TimeoutError())
    metrics.record("delete_session", 0.01, TimeoutError())
    before = metrics.snapshot()["delete_session"]
    metrics.record("delete_session", 0.01)
    assert (before.calls, before.errors) == (3, 3)
    assert dict(before.errors_by_type) == {"KeyError": 1, "TimeoutError": 2}
    assert metrics.snapshot()["delete_session"].calls == 4
    assert repr(metrics) == "RepositoryMetrics(1 operations, 4 calls)"


def test_no_calls_no_figures() -> None:
    metrics = RepositoryMetrics()
    assert metrics.snapshot() == {}
    metrics.record("list_agents", 0.002)
    metrics.reset()
    assert metrics.snapshot() == {}


def test_operations_are_the_contracts_data_methods() -> None:
    assert len(OPERATIONS) == 32  # 6 entities x create/get/update/delete, 8 lists and extras
    assert {"create_messages", "get_recent_messages", "list_sessions"} <= set(OPERATIONS)
    assert not {"connect", "disconnect", "health_check"} & set(OPERATIONS)
    assert all(callable(getattr(Repository, name)) for name in OPERATIONS)
