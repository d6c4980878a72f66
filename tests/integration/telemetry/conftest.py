"""Telemetry runs on every backend: the contract suite's ``backend`` and ``repository``
fixtures, reused as they are. Each test records on a ``CollectorRegistry`` of its own, and
``spans`` holds only the spans finished during the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from ai_agent.infrastructure.database import Repository
from ai_agent.infrastructure.database.telemetry import Telemetry
from contract.conftest import backend, repository
from integration.telemetry._support import Spans, installed_exporter, recording

__all__ = ["backend", "registry", "repository", "spans", "traced"]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def spans() -> Iterator[Spans]:
    exporter = installed_exporter()
    exporter.clear()
    yield Spans(exporter)
    exporter.clear()


@pytest.fixture
def traced(repository: Repository, registry: CollectorRegistry, spans: Spans) -> Spans:
    """``repository`` traced at sample rate 1, its metrics on ``registry``."""
    recording(repository, Telemetry(registry=registry, tracing_enabled=True, sample_rate=1.0))
    return spans
