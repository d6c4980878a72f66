"""``Telemetry``: what a repository records about its operations, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # prometheus_client loads with the first repository that records
    from prometheus_client import CollectorRegistry

    from ai_agent.config.sections import ObservabilitySettings

__all__ = ["Telemetry"]


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Metrics and tracing of one repository (``repository.telemetry``).

    The default records metrics on ``prometheus_client.REGISTRY`` and makes no spans; the
    factory and ``RepositoryHealthMonitor`` build theirs from ``settings.observability``
    (:meth:`from_settings`). Assigning ``repository.telemetry`` takes effect at the next call.

    Attributes:
        registry: the Prometheus registry to record on; ``None`` for the default one.
        metrics_enabled: record the Prometheus metrics (off: a call pays one attribute read).
        tracing_enabled: one OpenTelemetry span per operation, when the ``otel`` extra is
            installed (without it tracing stays off, silently).
        sample_rate: fraction of operations traced, 0 to 1; an operation inside a recording
            span of the caller is always traced unless the rate is 0.
    """

    registry: CollectorRegistry | None = None
    metrics_enabled: bool = True
    tracing_enabled: bool = False
    sample_rate: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.sample_rate, int | float) and 0 <= self.sample_rate <= 1):
            # (NaN fails the comparison too)
            raise ValueError(f"sample_rate must be between 0 and 1, got {self.sample_rate!r}")

    @classmethod
    def from_settings(
        cls, observability: ObservabilitySettings, registry: CollectorRegistry | None = None
    ) -> Telemetry:
        """``OBSERVABILITY_METRICS_ENABLED``, ``_TRACING_ENABLED``, ``_TRACING_SAMPLE_RATE``."""
        return cls(
            registry=registry,
            metrics_enabled=observability.metrics_enabled,
            tracing_enabled=observability.tracing_enabled,
            sample_rate=observability.tracing_sample_rate,
        )

    @property
    def traces(self) -> bool:
        """Whether spans may be made at all (enabled, and a rate above 0)."""
        return self.tracing_enabled and self.sample_rate > 0

    def resolved_registry(self) -> CollectorRegistry:
        """The registry recorded on: the one given, else prometheus_client's default."""
        if self.registry is not None:
            return self.registry
        from prometheus_client import REGISTRY

        return REGISTRY
