"""What is stored never reaches telemetry: a unique marker written in message content,
metadata, tool arguments and credentials, through successes and failures, appears in no
label, no span attribute or span event, and no log event."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from ai_agent.config import feature_flags
from ai_agent.domain.models import Message
from ai_agent.infrastructure.database import (
    NotFoundError,
    Repository,
    RepositoryError,
)
from contract.factories import make_external_service, make_message, make_session, make_tool
from integration.telemetry._support import Spans


def telemetry_text(registry: CollectorRegistry, spans: Spans, events: list[Any]) -> str:
    """Every label, span name, attribute and event attribute, and every log event, as text."""
    parts: list[str] = [repr(events)]
    for metric in registry.collect():
        parts.extend(repr(sample.labels) for sample in metric.samples)
    for span in spans.finished():
        parts.append(span.name)
        parts.append(repr(dict(span.attributes or {})))
        parts.extend(repr(dict(event.attributes or {})) for event in span.events)
        parts.append(repr(span.status.description))
    return "\n".join(parts)


async def test_stored_data_never_reaches_labels_spans_or_events(
    repository: Repository, registry: CollectorRegistry, traced: Spans
) -> None:
    marker = f"marker-{uuid4().hex}"
    feature_flags.set_flag("detailed_metrics", True)
    try:
        with capture_logs() as events:
            await _operations(repository, marker)
    finally:
        feature_flags.reset()
    assert traced.finished(), "the operations made no span"
    text = telemetry_text(registry, traced, events)
    assert "create_message" in text and "NotFoundError" in text  # the telemetry is there
    assert marker not in text


async def _operations(repository: Repository, marker: str) -> None:
    session = await repository.create_session(make_session(title=marker, metadata={"m": marker}))
    message = make_message(
        session,
        content=marker,
        metadata={"note": marker},
        tool_calls=[{"id": "c1", "type": "function", "function": {"arguments": marker}}],
    )
    await repository.create_message(message)
    await repository.get_recent_messages(session.id)
    await repository.create_tool(make_tool(description=marker, tool_schema={"x": marker}))
    await repository.create_external_service(
        make_external_service(authentication={"api_key": marker})
    )
    with pytest.raises(NotFoundError):  # a failure about a message holding the marker
        await repository.update_message(make_message(session, content=marker))
    bad = Message.model_construct(**{**message.model_dump(), "role": marker, "content": marker})
    with pytest.raises(RepositoryError):  # a validation failure: the input is not quoted
        await repository.create_message(bad)
    await repository.disconnect()
    await repository.connect()
