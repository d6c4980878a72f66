"""``Measured`` (what ``BaseRepository`` and the failover router share) and the one decorator.

Each of :data:`OPERATIONS` is wrapped by :func:`measured`: with tracing on and the call
sampled it runs inside a span (:mod:`._tracing`); with metrics on its latency and outcome go
to the owner's :class:`~._metrics.Recorder`; with both off the call pays two attribute
reads. prometheus_client and OpenTelemetry load only once a repository needs them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from ai_agent.infrastructure.database.features import PROCESS_FLAGS, Features
from ai_agent.infrastructure.database.telemetry._config import Telemetry
from ai_agent.infrastructure.database.telemetry._operations import OPERATIONS

if TYPE_CHECKING:
    from ai_agent.infrastructure.database.telemetry._metrics import Recorder
    from ai_agent.infrastructure.database.telemetry._tracing import Spans

__all__ = ["Measured", "instrumented", "measured"]

_DEFAULT = Telemetry()


class Measured:
    """What records: the ``telemetry`` property, and what the gauges and spans read."""

    backend_name: ClassVar[str]
    #: The flags this object consults (``detailed_metrics`` here); the factory may set it.
    features: Features = PROCESS_FLAGS
    _telemetry: Telemetry = _DEFAULT
    _recorder: Recorder | None = None
    _spans: Spans | None = None

    @property
    def telemetry(self) -> Telemetry:
        """What this repository records (see :class:`Telemetry`); assign to change it."""
        return self._telemetry

    @telemetry.setter
    def telemetry(self, telemetry: Telemetry) -> None:
        if not isinstance(telemetry, Telemetry):
            raise TypeError(f"telemetry must be a Telemetry, got {type(telemetry).__name__}")
        recorder = spans = None
        if telemetry.metrics_enabled:
            from ai_agent.infrastructure.database.telemetry._metrics import instruments

            found = instruments(telemetry.resolved_registry())
            recorder = found.recorder(self.backend_name)
            found.watch(self)  # its gauges are read at scrape time
        if telemetry.traces:
            spans = _spans(telemetry.sample_rate)
        self._telemetry, self._recorder, self._spans = telemetry, recorder, spans

    def pool_connections(self) -> tuple[int, int] | None:
        """Connections of this repository's pool now: ``(in_use, idle)``.

        ``None`` when it has no pool (in-memory) or is not connected. Read at scrape time
        (possibly from another thread), so it only reads counters.
        """
        return None

    def _server_endpoint(self) -> tuple[str, int] | None:
        """The server's host and port, for spans (``None``: no server)."""
        return None

    def _failover_state(self) -> tuple[str, str, bool, int] | None:
        """Primary and fallback names, routing to the fallback, journal backlog (routers)."""
        return None


def _spans(sample_rate: float) -> Spans | None:
    try:
        from ai_agent.infrastructure.database.telemetry._tracing import Spans
    except ImportError as exc:
        if not (exc.name or "").startswith("opentelemetry"):
            raise
        return None  # no `otel` extra: tracing stays off (documented)
    return Spans(sample_rate)


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def measured(operation: str) -> Callable[[F], F]:
    """Method decorator: calls of the method count as ``operation`` of the owner."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        async def call(self: Measured, *args: Any, **kwargs: Any) -> Any:
            spans = self._spans
            if spans is not None and spans.sampled():
                return await spans.run(operation, self, method, args, kwargs)
            recorder = self._recorder
            if recorder is None:
                return await method(self, *args, **kwargs)
            started = perf_counter()
            try:
                result = await method(self, *args, **kwargs)
            except BaseException as exc:  # a cancelled call is an outcome too
                recorder.failed(operation, perf_counter() - started, exc)
                raise
            elapsed = perf_counter() - started
            recorder.succeeded(operation, elapsed, result, rows=self.features("detailed_metrics"))
            return result

        return cast(F, call)

    return wrap


C = TypeVar("C", bound=type[Measured])


def instrumented(cls: C) -> C:
    """Class decorator: each of :data:`OPERATIONS` on ``cls`` is :func:`measured`.

    A subclass inherits the measured methods; one that overrode a public operation would
    have to be decorated again (the backends implement only the private ``_<operation>``).
    """
    for name in OPERATIONS:
        method = getattr(cls, name, None)
        if method is not None:  # (a class lacking one fails the protocol's type check)
            setattr(cls, name, measured(name)(method))
    return cls
