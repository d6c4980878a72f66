"""Helpers of the telemetry tests: point a repository at a registry, read samples, spans.

OpenTelemetry's global tracer provider can be set once per process, so one SDK provider with
an in-memory exporter is installed on first use (or, should something have installed an SDK
provider already, the exporter joins that one).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from ai_agent.infrastructure.database.telemetry import Measured, Telemetry

__all__ = ["Spans", "installed_exporter", "recording", "sample"]


def recording(repository: object, telemetry: Telemetry) -> str:
    """Give ``repository`` (a repository or the failover router) ``telemetry``; return its
    ``backend`` label."""
    assert isinstance(repository, Measured)  # not in the Repository protocol
    repository.telemetry = telemetry
    return repository.backend_name


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


_exporter: list[InMemorySpanExporter] = []


def installed_exporter() -> InMemorySpanExporter:
    if not _exporter:
        exporter = InMemorySpanExporter()
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        _exporter.append(exporter)
    return _exporter[0]


class Spans:
    """The spans finished during one test."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        found = self._exporter.get_finished_spans()
        return [span for span in found if name is None or span.name == name]

    def clear(self) -> None:
        self._exporter.clear()
