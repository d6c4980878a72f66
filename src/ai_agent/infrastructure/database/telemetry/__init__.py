"""Metrics and spans around every repository operation, from one decorator, and events.

Every operation of every backend and of the failover router (``create_session``,
``get_recent_messages``, ...; each page ``iter_messages`` reads counts as ``iter_messages``)
is measured in Prometheus (prometheus-client), on the registry in ``repository.telemetry``
(default: ``prometheus_client.REGISTRY``)::

    ai_agent_repository_operation_duration_seconds{backend, operation, outcome}  histogram
    ai_agent_repository_errors_total{backend, operation, error}                  counter
    ai_agent_repository_pool_connections{backend, state="in_use"|"idle"}         gauge
    ai_agent_repository_failover_active{primary, fallback}                       gauge
    ai_agent_repository_journal_pending{primary, fallback}                       gauge
    ai_agent_repository_operation_rows{backend, operation}     histogram (detailed_metrics)

``outcome`` is ``ok`` or the error's class (``NotFoundError``); a call's latency runs from its
first attempt to its last, retries included; calls rejected for bad arguments count too. The
gauges are read from the live repositories and monitors when the registry is scraped. With
the ``otel`` extra and tracing on, each operation is also an OpenTelemetry span (see
:mod:`._tracing`). Usage::

    from prometheus_client import CollectorRegistry
    from ai_agent.infrastructure.database import RepositoryFactory, SQLiteRepository
    from ai_agent.infrastructure.database.telemetry import Telemetry, start_metrics_server

    registry = CollectorRegistry()                       # or leave the default one
    repository = RepositoryFactory.create_repository(settings, registry=registry)
    other = SQLiteRepository("agent.db")                 # built directly: the default
    other.telemetry = Telemetry(registry=registry, tracing_enabled=True, sample_rate=0.1)
    server = start_metrics_server(settings.observability, registry)   # GET :9090/metrics

``OBSERVABILITY_METRICS_ENABLED=false`` (``Telemetry(metrics_enabled=False)``) records nothing;
``OBSERVABILITY_TRACING_ENABLED`` and ``_SAMPLE_RATE`` drive the spans. Neither label nor span
attribute nor event holds message content, metadata, tool arguments or secrets.

Events (structlog, see :mod:`._events`): ``repository.connected``,
``repository.connect_failed``, ``repository.disconnected``, ``repository.retry``,
``repository.retries_exhausted``, ``failover.activated``, ``failover.recovered``,
``failover.replay_failed``, ``journal.replayed``, ``journal.entry_rejected``,
``fallback.cleared``, ``fallback.clear_failed``, ``health_check.round_failed``,
``migration.applied``, ``migration.reverted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_agent.infrastructure.database.exports import lazy_exports
from ai_agent.infrastructure.database.telemetry._config import Telemetry
from ai_agent.infrastructure.database.telemetry._events import HEALTH_LOGGER, event_logger, events
from ai_agent.infrastructure.database.telemetry._measured import Measured, instrumented, measured
from ai_agent.infrastructure.database.telemetry._operations import COLLECTIONS, OPERATIONS

if TYPE_CHECKING:  # loaded on first use: the HTTP server and prometheus_client are heavy
    from ai_agent.infrastructure.database.telemetry._metrics import (
        DURATION,
        ERRORS,
        FAILOVER_ACTIVE,
        JOURNAL_PENDING,
        POOL_CONNECTIONS,
        ROWS,
    )
    from ai_agent.infrastructure.database.telemetry._server import (
        MetricsServer,
        start_metrics_server,
    )

__all__ = [
    "COLLECTIONS",
    "DURATION",
    "ERRORS",
    "FAILOVER_ACTIVE",
    "HEALTH_LOGGER",
    "JOURNAL_PENDING",
    "OPERATIONS",
    "POOL_CONNECTIONS",
    "ROWS",
    "Measured",
    "MetricsServer",
    "Telemetry",
    "event_logger",
    "events",
    "instrumented",
    "measured",
    "start_metrics_server",
]

_LAZY = {
    "MetricsServer": "_server",
    "start_metrics_server": "_server",
    **dict.fromkeys(
        ("DURATION", "ERRORS", "FAILOVER_ACTIVE", "JOURNAL_PENDING", "POOL_CONNECTIONS", "ROWS"),
        "_metrics",
    ),
}


__getattr__ = lazy_exports(__name__, _LAZY, globals())
