"""Per-operation metrics of a repository, recorded while the ``detailed_metrics`` flag is on.

Every public call of a :class:`~.base.BaseRepository` is one sample of its operation
(``create_session``, ``get_recent_messages``, ...): its latency, from the first attempt to
the last (retries and their waits included), and, when it failed, the error's class::

    feature_flags.set_flag("detailed_metrics", True)      # or FEATURE_ENABLE_DETAILED_METRICS
    await repository.create_session(Session(user_id="u1"))
    stats = repository.metrics.snapshot()["create_session"]
    stats.calls, stats.errors, stats.mean_seconds, stats.quantile(0.99)

``BaseRepository`` and the failover router both get this from :func:`timed_operations`;
a call rejected for bad arguments is a sample too (with its error type). With the flag off
(the default) nothing is timed or stored: a call pays one flag lookup.
Latencies go into fixed buckets, as a Prometheus histogram does, so that memory stays
constant however many calls there are; :meth:`OperationStats.quantile` answers with the
upper bound of the bucket the quantile falls in (exact enough to see a slow path, cheap
enough to leave on). Metrics belong to one repository object and one event loop; they are
not shared across processes.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from ai_agent.config.feature_flags import is_enabled
from ai_agent.infrastructure.database.contract import Repository

__all__ = [
    "LATENCY_BUCKETS",
    "OPERATIONS",
    "OperationStats",
    "RepositoryMetrics",
    "timed_operations",
]

#: The contract's data operations: every public coroutine method of the protocol but the
#: lifecycle (``iter_messages`` returns an iterator; its pages are not timed one by one).
OPERATIONS: tuple[str, ...] = tuple(
    sorted(
        name
        for name, member in vars(Repository).items()
        if not name.startswith("_")
        and inspect.iscoroutinefunction(member)
        and name not in {"connect", "disconnect", "health_check"}
    )
)

#: Upper bounds (seconds) of the latency buckets; a last, unbounded one catches the rest.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


@dataclass(frozen=True, slots=True)
class OperationStats:
    """What one operation's calls came to (a snapshot; later calls do not change it)."""

    calls: int
    errors: int
    errors_by_type: Mapping[str, int]
    total_seconds: float
    max_seconds: float
    #: Calls per bucket: ``bucket_counts[i]`` took at most ``LATENCY_BUCKETS[i]`` seconds
    #: (and more than the bound before it); the last entry counts the slower calls.
    bucket_counts: tuple[int, ...]

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.calls if self.calls else 0.0

    def quantile(self, q: float) -> float:
        """The bucket bound at or below which a fraction ``q`` (0..1) of the calls finished.

        ``max_seconds`` stands in for the unbounded last bucket; 0.0 when there are no calls.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be between 0 and 1, got {q}")
        if not self.calls:
            return 0.0
        wanted = max(1, math.ceil(q * self.calls))
        seen = 0
        for bound, count in zip((*LATENCY_BUCKETS, math.inf), self.bucket_counts, strict=True):
            seen += count
            if seen >= wanted:
                return min(bound, self.max_seconds)
        return self.max_seconds  # pragma: no cover - the counts add up to calls


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))

    def add(self, seconds: float, error: BaseException | None) -> None:
        self.calls += 1
        self.total_seconds += seconds
        self.max_seconds = max(self.max_seconds, seconds)
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        if error is not None:
            self.errors[type(error).__name__] += 1

    def stats(self) -> OperationStats:
        return OperationStats(
            calls=self.calls,
            errors=sum(self.errors.values()),
            errors_by_type=MappingProxyType(dict(self.errors)),
            total_seconds=self.total_seconds,
            max_seconds=self.max_seconds,
            bucket_counts=tuple(self.buckets),
        )


class RepositoryMetrics:
    """The per-operation tallies of one repository."""

    __slots__ = ("_tallies",)

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}

    def record(self, operation: str, seconds: float, error: BaseException | None = None) -> None:
        """Count one finished call of ``operation`` that took ``seconds`` (failed: ``error``)."""
        tally = self._tallies.get(operation)
        if tally is None:
            tally = self._tallies[operation] = _Tally()
        tally.add(seconds, error)

    def snapshot(self) -> dict[str, OperationStats]:
        """Every operation called so far, by name, as it stands now."""
        return {name: tally.stats() for name, tally in sorted(self._tallies.items())}

    def reset(self) -> None:
        """Forget every sample (e.g. after exporting them)."""
        self._tallies.clear()

    def __repr__(self) -> str:
        calls = sum(tally.calls for tally in self._tallies.values())
        return f"RepositoryMetrics({len(self._tallies)} operations, {calls} calls)"


class _Measured(Protocol):
    metrics: RepositoryMetrics


C = TypeVar("C", bound=type)


def timed_operations(cls: C) -> C:
    """Class decorator: each of :data:`OPERATIONS` on ``cls`` records into ``self.metrics``.

    A subclass inherits the timed methods; one that overrode a public operation would have to
    be decorated again (the backends implement only the private ``_<operation>`` methods).
    """
    for name in OPERATIONS:
        setattr(cls, name, _timed(name, getattr(cls, name)))
    return cls


def _timed(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def timed(self: _Measured, *args: Any, **kwargs: Any) -> Any:
        if not is_enabled("detailed_metrics"):
            return await method(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            result = await method(self, *args, **kwargs)
        except BaseException as exc:
            self.metrics.record(name, time.perf_counter() - started, exc)
            raise
        self.metrics.record(name, time.perf_counter() - started)
        return result

    return timed
