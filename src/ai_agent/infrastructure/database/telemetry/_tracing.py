"""One OpenTelemetry span per repository operation (imported only when tracing is on).

Spans go through the global tracer provider (``opentelemetry.trace.set_tracer_provider``;
until one is set they are no-ops) and nest under the caller's current span. Each is named
after the operation, of kind CLIENT, with the database semantic conventions:
``db.system.name`` (the backend), ``db.operation.name``, ``db.collection.name`` and, for
server backends, ``server.address`` and ``server.port``. A failure sets ``error.type`` and
the ERROR status and records the exception, whose message is kept only for the project's
own errors (they never hold stored data; URL passwords are masked) and whose stack trace
holds frames only, not the messages of chained driver errors.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from ai_agent import __version__
from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.telemetry._operations import COLLECTIONS

if TYPE_CHECKING:
    from ai_agent.infrastructure.database.features import Features
    from ai_agent.infrastructure.database.telemetry._metrics import Recorder

__all__ = ["TRACER_NAME", "Spans"]

TRACER_NAME = "ai_agent.infrastructure.database"
# A proxy until the application sets a provider, then that provider's tracer.
_tracer = trace.get_tracer(TRACER_NAME, __version__)


class Traced(Protocol):
    """What a span reads from the repository it measures (``Measured`` provides it)."""

    backend_name: ClassVar[str]
    features: Features
    _recorder: Recorder | None

    def _server_endpoint(self) -> tuple[str, int] | None: ...


class Spans:
    """The spans of one repository (its sample rate; its attributes, built once)."""

    __slots__ = ("_attributes", "_rate")

    def __init__(self, sample_rate: float) -> None:
        self._rate = sample_rate
        self._attributes: dict[str, dict[str, AttributeValue]] = {}

    def sampled(self) -> bool:
        """Whether this call gets a span: always inside a recording span of the caller,
        else with probability ``sample_rate`` (a rate of 0 never traces)."""
        rate = self._rate
        if rate >= 1.0:
            return True
        if trace.get_current_span().is_recording():
            return True
        return random.random() < rate

    async def run(
        self,
        operation: str,
        owner: Traced,
        method: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        attributes = self._attributes.get(operation) or self._describe(operation, owner)
        recorder = owner._recorder
        span = _tracer.start_span(operation, kind=SpanKind.CLIENT, attributes=attributes)
        # Made current by hand: cheaper than start_as_current_span's context managers.
        token = context.attach(trace.set_span_in_context(span))
        started = perf_counter()
        try:
            result = await method(owner, *args, **kwargs)
        except BaseException as exc:
            _failed(span, exc)
            if recorder is not None:
                recorder.failed(operation, perf_counter() - started, exc)
            raise
        finally:
            context.detach(token)
            span.end()
        if recorder is not None:
            elapsed = perf_counter() - started
            recorder.succeeded(operation, elapsed, result, rows=owner.features("detailed_metrics"))
        return result

    def _describe(self, operation: str, owner: Traced) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            "db.system.name": owner.backend_name,
            "db.operation.name": operation,
            "db.collection.name": COLLECTIONS[operation],
        }
        endpoint = owner._server_endpoint()
        if endpoint is not None:
            attributes["server.address"], attributes["server.port"] = endpoint
        self._attributes[operation] = attributes
        return attributes


def _failed(span: Span, exc: BaseException) -> None:
    name = type(exc).__name__
    span.set_attribute("error.type", name)
    span.record_exception(
        exc,
        attributes={
            "exception.message": redact_text(str(exc))
            if isinstance(exc, RepositoryError)
            else name,
            "exception.stacktrace": "".join(traceback.format_tb(exc.__traceback__)),
        },
    )
    span.set_status(Status(StatusCode.ERROR, name))
