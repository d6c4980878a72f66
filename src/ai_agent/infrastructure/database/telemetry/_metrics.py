"""The Prometheus families of one registry, and what records into them.

Per registry, once (registering a name twice raises): the operation histogram, the error
counter, the rows histogram (``detailed_metrics``), and a collector that reads the gauges
(pool connections, failover state, journal backlog) from the live repositories and routers at
scrape time, so the hot path never updates a gauge. A :class:`Recorder` serves one backend
name: it keeps the labelled children it has used, so a call is a dict lookup and an
``observe``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ai_agent.infrastructure.database.telemetry._config import Telemetry

__all__ = [
    "DURATION",
    "ERRORS",
    "FAILOVER_ACTIVE",
    "JOURNAL_PENDING",
    "LATENCY_BUCKETS",
    "POOL_CONNECTIONS",
    "ROWS",
    "Recorder",
    "instruments",
]

DURATION = "ai_agent_repository_operation_duration_seconds"
ERRORS = "ai_agent_repository_errors_total"
ROWS = "ai_agent_repository_operation_rows"
POOL_CONNECTIONS = "ai_agent_repository_pool_connections"
FAILOVER_ACTIVE = "ai_agent_repository_failover_active"
JOURNAL_PENDING = "ai_agent_repository_journal_pending"

#: Upper bounds (seconds): in-memory calls and server round trips are both far quicker than
#: Prometheus's default buckets resolve, so these start much lower.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
ROW_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000)


def rows_of(result: object) -> int:
    """Rows a call returned or wrote: a list's length, 1 for an entity, 0 for None/False."""
    if result is None or result is False:
        return 0
    if result is True:
        return 1
    if isinstance(result, int):  # clear_messages: how many it deleted
        return result
    if isinstance(result, list):
        return len(result)
    if isinstance(result, tuple):  # (session, created), (page, position)
        return rows_of(result[0])
    return 1


class Gauged(Protocol):
    """What the gauges read from a repository or router (``Measured`` provides it)."""

    backend_name: ClassVar[str]

    @property
    def telemetry(self) -> Telemetry: ...

    def pool_connections(self) -> tuple[int, int] | None: ...

    def _failover_state(self) -> tuple[str, str, bool, int] | None: ...


class Instruments:
    """The families of one registry, and the children used so far per backend."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            DURATION,
            "Latency of repository operations, from the first attempt to the last "
            "(retries included), by outcome (ok, or the error's class).",
            ("backend", "operation", "outcome"),
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.errors = Counter(
            ERRORS,
            "Repository operations that failed, by the error's class.",
            ("backend", "operation", "error"),
            registry=registry,
        )
        self.rows = Histogram(
            ROWS,
            "Rows returned or written per repository operation (FEATURE_ENABLE_DETAILED_METRICS).",
            ("backend", "operation"),
            registry=registry,
            buckets=ROW_BUCKETS,
        )
        self._recorders: dict[str, Recorder] = {}
        self._watched: weakref.WeakSet[Gauged] = weakref.WeakSet()
        # A scrape reads the watched set from the metrics server's thread.
        self._lock = threading.Lock()
        registry.register(_GaugeCollector(registry, self))

    def recorder(self, backend: str) -> Recorder:
        with self._lock:
            recorder = self._recorders.get(backend)
            if recorder is None:
                recorder = self._recorders[backend] = Recorder(self, backend)
            return recorder

    def watch(self, source: Gauged) -> None:
        """Read ``source``'s gauges at each scrape, for as long as it lives."""
        with self._lock:
            self._watched.add(source)

    def watched(self) -> list[Gauged]:
        with self._lock:
            return list(self._watched)


_INSTRUMENTS: weakref.WeakKeyDictionary[CollectorRegistry, Instruments] = (
    weakref.WeakKeyDictionary()
)
_INSTRUMENTS_LOCK = threading.Lock()


def instruments(registry: CollectorRegistry) -> Instruments:
    """The families on ``registry``, registered on first use."""
    with _INSTRUMENTS_LOCK:
        found = _INSTRUMENTS.get(registry)
        if found is None:
            found = _INSTRUMENTS[registry] = Instruments(registry)
        return found


class Recorder:
    """Records the calls of one backend name; shared by every repository of that name."""

    __slots__ = ("_backend", "_failed", "_instruments", "_ok", "_rows")

    def __init__(self, instruments: Instruments, backend: str) -> None:
        self._instruments = instruments
        self._backend = backend
        # Labelled children by operation (and error): .labels() validates and locks.
        self._ok: dict[str, Histogram] = {}
        self._failed: dict[tuple[str, str], tuple[Histogram, Counter]] = {}
        self._rows: dict[str, Histogram] = {}

    def succeeded(self, operation: str, seconds: float, result: object, *, rows: bool) -> None:
        """Record a call's latency, and with ``rows`` (``detailed_metrics``) its row count."""
        child = self._ok.get(operation)
        if child is None:
            child = self._instruments.duration.labels(self._backend, operation, "ok")
            self._ok[operation] = child
        child.observe(seconds)
        if rows:
            counted = self._rows.get(operation)
            if counted is None:
                counted = self._rows[operation] = self._instruments.rows.labels(
                    self._backend, operation
                )
            counted.observe(rows_of(result))

    def failed(self, operation: str, seconds: float, error: BaseException) -> None:
        key = (operation, type(error).__name__)
        children = self._failed.get(key)
        if children is None:
            children = (
                self._instruments.duration.labels(self._backend, *key),
                self._instruments.errors.labels(self._backend, *key),
            )
            self._failed[key] = children
        children[0].observe(seconds)
        children[1].inc()


class _GaugeCollector(Collector):
    """Reads the gauges of the live repositories and routers recording on one registry."""

    def __init__(self, registry: CollectorRegistry, instruments: Instruments) -> None:
        self._registry = weakref.ref(registry)
        self._instruments = weakref.ref(instruments)

    def describe(self) -> Iterable[Metric]:
        # Names only: register() checks them for clashes without a first scrape.
        return list(_families())

    def collect(self) -> Iterable[Metric]:
        pool, failover, journal = _families()
        registry, instruments = self._registry(), self._instruments()
        pools: dict[tuple[str, str], int] = {}
        sides: dict[tuple[str, str], tuple[int, int]] = {}
        for measured in instruments.watched() if instruments is not None else ():
            telemetry = measured.telemetry
            if not telemetry.metrics_enabled or telemetry.resolved_registry() is not registry:
                continue
            _add_pool(pools, measured)
            _add_failover(sides, measured)
        for (backend, state), count in sorted(pools.items()):
            pool.add_metric([backend, state], count)
        for labels, (active, pending) in sorted(sides.items()):
            failover.add_metric(list(labels), active)
            journal.add_metric(list(labels), pending)
        return [pool, failover, journal]


def _families() -> Iterator[GaugeMetricFamily]:
    yield GaugeMetricFamily(
        POOL_CONNECTIONS,
        "Connections of the repositories' pools, in use or idle (server backends; SQLite: "
        "its one connection).",
        labels=["backend", "state"],
    )
    yield GaugeMetricFamily(
        FAILOVER_ACTIVE,
        "Health monitors routing calls to their fallback (1 during an outage).",
        labels=["primary", "fallback"],
    )
    yield GaugeMetricFamily(
        JOURNAL_PENDING,
        "Fallback writes journaled during an outage and not yet replayed into the primary.",
        labels=["primary", "fallback"],
    )


def _add_pool(pools: dict[tuple[str, str], int], measured: Gauged) -> None:
    counts = measured.pool_connections()
    if counts is None:
        return
    for state, count in zip(("in_use", "idle"), counts, strict=True):
        key = (measured.backend_name, state)
        pools[key] = pools.get(key, 0) + count


def _add_failover(sides: dict[tuple[str, str], tuple[int, int]], measured: Gauged) -> None:
    state = measured._failover_state()
    if state is None:
        return
    primary, fallback, active, pending = state
    known_active, known_pending = sides.get((primary, fallback), (0, 0))
    sides[(primary, fallback)] = (known_active + int(active), known_pending + pending)
