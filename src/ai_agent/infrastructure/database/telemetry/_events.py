"""structlog events of the storage layer, through standard-library loggers.

An event is a name (``repository.connected``) and fields; the name is the ``event`` key, the
same whichever renderer ``configure_logging`` chose (JSON or console). The events go through
a standard-library logger (``ai_agent.infrastructure.database``, and ``...database.health``
for failover), so an application that never configured logging gets Python's usual
behaviour (warnings and errors on stderr) and one that did gets its own rendering.

Fields are names, counts, durations, redacted URLs and error classes; never message content,
metadata, tool arguments or secrets.
"""

from __future__ import annotations

import logging
from typing import cast

import structlog

__all__ = ["HEALTH_LOGGER", "LOGGER", "event_logger", "events"]

LOGGER = "ai_agent.infrastructure.database"
HEALTH_LOGGER = "ai_agent.infrastructure.database.health"


def event_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger over the standard-library logger ``name`` (processors as configured
    when each event is logged, so ``structlog.testing.capture_logs`` sees them)."""
    proxy = structlog.wrap_logger(
        logging.getLogger(name), wrapper_class=structlog.stdlib.BoundLogger
    )
    return cast(structlog.stdlib.BoundLogger, proxy)


#: Repository, retry and migration events.
events = event_logger(LOGGER)
