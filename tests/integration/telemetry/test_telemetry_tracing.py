"""OpenTelemetry spans of repository operations, read from the in-memory exporter: names,
semantic-convention attributes, nesting under the caller's span, errors, sampling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

from ai_agent.infrastructure.database import (
    InMemoryRepository,
    NotFoundError,
    Repository,
    RepositoryHealthMonitor,
    SQLiteRepository,
)
from ai_agent.infrastructure.database.telemetry import DURATION, Telemetry
from contract.factories import make_external_service, make_message, make_session
from integration.telemetry._support import Spans, recording, sample


async def test_each_operation_is_a_client_span_with_the_database_conventions(
    repository: Repository, traced: Spans
) -> None:
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    await repository.get_recent_messages(session.id)
    await repository.create_external_service(make_external_service())

    names = [span.name for span in traced.finished()]
    assert names == [
        "create_session",
        "create_message",
        "get_recent_messages",
        "create_external_service",
    ]
    span = traced.finished("get_recent_messages")[0]
    backend = getattr(repository, "backend_name", "")
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    server = {
        key: attributes.pop(key) for key in ("server.address", "server.port") if key in attributes
    }
    assert attributes == {
        "db.system.name": backend,
        "db.operation.name": "get_recent_messages",
        "db.collection.name": "messages",
    }
    if isinstance(repository, InMemoryRepository | SQLiteRepository):
        assert server == {}
    else:
        assert isinstance(server["server.address"], str) and server["server.address"]
        assert isinstance(server["server.port"], int) and server["server.port"] > 0
    collection = traced.finished("create_external_service")[0].attributes or {}
    assert collection["db.collection.name"] == "external_services"


async def test_spans_nest_under_the_callers_current_span(
    repository: Repository, traced: Spans
) -> None:
    tracer = trace.get_tracer("tests")
    with tracer.start_as_current_span("handle request") as request:
        session = await repository.create_session(make_session())
        await repository.get_session(session.id)
    parent = request.get_span_context()
    for name in ("create_session", "get_session"):
        (span,) = traced.finished(name)
        assert span.parent is not None and span.parent.span_id == parent.span_id
        assert span.context is not None and span.context.trace_id == parent.trace_id


async def test_a_failure_is_recorded_on_its_span(repository: Repository, traced: Spans) -> None:
    missing = make_session()
    with pytest.raises(NotFoundError):
        await repository.update_session(missing)
    (span,) = traced.finished("update_session")
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "NotFoundError"
    (event,) = span.events
    assert event.name == "exception"
    attributes = event.attributes or {}
    assert attributes["exception.type"].endswith("NotFoundError")  # type: ignore[union-attr]
    assert str(missing.id) in str(attributes["exception.message"])


async def test_sample_rate_zero_makes_no_span_even_under_a_caller(
    repository: Repository, registry: CollectorRegistry, spans: Spans
) -> None:
    backend = recording(
        repository, Telemetry(registry=registry, tracing_enabled=True, sample_rate=0.0)
    )
    with trace.get_tracer("tests").start_as_current_span("request"):
        await repository.create_session(make_session())
    assert [span.name for span in spans.finished()] == ["request"]
    labels = {"backend": backend, "operation": "create_session", "outcome": "ok"}
    assert sample(registry, f"{DURATION}_count", **labels) == 1  # metrics still recorded


@pytest.mark.memory
async def test_a_partial_rate_samples_alone_but_follows_a_recording_caller(
    registry: CollectorRegistry, spans: Spans
) -> None:
    repository = InMemoryRepository()
    recording(repository, Telemetry(registry=registry, tracing_enabled=True, sample_rate=0.25))
    async with repository:
        for _ in range(400):
            await repository.get_session(make_session().id)
        alone = len(spans.finished("get_session"))
        assert 40 <= alone <= 160  # 100 expected; far outside by chance: < 1e-9
        spans.clear()
        with trace.get_tracer("tests").start_as_current_span("request"):
            for _ in range(20):
                await repository.get_session(make_session().id)
        assert len(spans.finished("get_session")) == 20


@pytest.mark.memory
async def test_tracing_off_makes_no_span(registry: CollectorRegistry, spans: Spans) -> None:
    async with InMemoryRepository() as repository:
        recording(repository, Telemetry(registry=registry))
        await repository.create_session(make_session())
    assert spans.finished() == []


@pytest.mark.memory
async def test_the_routers_span_holds_the_serving_repositorys(spans: Spans) -> None:
    primary, fallback = InMemoryRepository(), InMemoryRepository()
    traced = Telemetry(registry=CollectorRegistry(), tracing_enabled=True, sample_rate=1.0)
    recording(primary, traced)
    monitor = RepositoryHealthMonitor(primary, fallback)
    async with monitor:
        router = await monitor.get_healthy_repository()
        recording(router, traced)
        await router.create_session(make_session())
    outer, inner = sorted(spans.finished("create_session"), key=lambda s: s.start_time or 0)
    assert (outer.attributes or {})["db.system.name"] == "failover"
    assert (inner.attributes or {})["db.system.name"] == "memory"
    assert inner.parent is not None and outer.context is not None
    assert inner.parent.span_id == outer.context.span_id


PROGRAM = """
import asyncio, json, sys
if sys.argv[1] == "missing":  # as without the otel extra
    sys.modules["opentelemetry"] = None
from ai_agent.infrastructure.database import InMemoryRepository, Telemetry

async def main(tracing):
    async with InMemoryRepository() as repository:
        repository.telemetry = Telemetry(tracing_enabled=tracing)
        await repository.list_sessions()
        return repository._spans is not None

traced = asyncio.run(main(sys.argv[1] != "off"))
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry."))
print(json.dumps({"traced": traced, "loaded": loaded}))
"""


@pytest.mark.memory
@pytest.mark.parametrize(("tracing", "traced"), [("off", False), ("on", True), ("missing", False)])
def test_opentelemetry_is_imported_only_when_tracing_is_on(tracing: str, traced: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, tracing],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["traced"] is traced  # without the extra: silently off, calls still work
    assert ("opentelemetry.trace" in found["loaded"]) is traced
