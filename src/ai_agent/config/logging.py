"""Logging set-up for entry points: structlog over the standard library, secrets redacted.

``configure_logging(settings.observability)`` routes structlog and standard-library
records (asyncpg, alembic, ...) through one formatter: JSON or console rendering, the
configured level, stderr plus an optional file. Every record passes
:func:`redact_secrets` first, so ``SecretStr`` values, URL passwords and values under
secret-looking keys never reach the output. Tracebacks are rendered as plain text
(never with local variables, which may hold secrets) and redacted too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from ai_agent.config.redaction import REDACTED, is_secret_key, redact
from ai_agent.config.sections import ObservabilitySettings

__all__ = ["configure_logging", "redact_secrets", "reset_logging"]

_HANDLER_MARK = "_ai_agent_handler"
# The root level before the first configure_logging, restored by reset_logging.
_saved_root_level: list[int] = []


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every value of the event."""
    redacted: MutableMapping[str, Any] = {}
    for key, value in event_dict.items():
        if is_secret_key(key) and value is not None:
            redacted[key] = REDACTED
        else:
            redacted[key] = redact(value)
    return redacted


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderer(log_format: str, *, colors: bool) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(
        colors=colors, exception_formatter=structlog.dev.plain_traceback
    )


def _formatter(log_format: str, *, colors: bool) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            _renderer(log_format, colors=colors),
        ],
    )


def _handler(handler: logging.Handler, log_format: str, *, colors: bool) -> logging.Handler:
    handler.setFormatter(_formatter(log_format, colors=colors))
    setattr(handler, _HANDLER_MARK, True)
    return handler


def reset_logging() -> None:
    """Undo ``configure_logging``: close its handlers and restore structlog's defaults."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    if _saved_root_level:
        root.setLevel(_saved_root_level.pop())
    structlog.reset_defaults()


def configure_logging(
    observability: ObservabilitySettings, *, stream: TextIO | None = None
) -> None:
    """Configure structlog and the root logger from ``observability`` (idempotent).

    Args:
        observability: level, format (``json``/``console``) and optional log file.
        stream: where to write besides the file; default ``sys.stderr``.
    """
    reset_logging()
    output = stream if stream is not None else sys.stderr
    log_format = observability.log_format
    root = logging.getLogger()
    _saved_root_level.append(root.level)
    root.setLevel(logging.getLevelNamesMapping()[observability.log_level])
    colors = log_format == "console" and output.isatty()
    root.addHandler(_handler(logging.StreamHandler(output), log_format, colors=colors))
    if observability.log_file is not None:
        file_handler = logging.FileHandler(observability.log_file, encoding="utf-8")
        root.addHandler(_handler(file_handler, log_format, colors=False))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
