"""Health monitoring and failover that loses no acknowledged write.

``RepositoryHealthMonitor`` watches a primary repository and, while it is down, serves calls
from a fallback through ``FailoverRepository``, journaling every write the fallback accepts
and replaying the journal into the primary before calls return to it. What is served during
an outage, the breaker, the journal and replay: ``docs/architecture.md``, section "Health
and failover".
"""

from __future__ import annotations

from ai_agent.infrastructure.database.health._breaker import BreakerState, CircuitBreaker
from ai_agent.infrastructure.database.health._journal import journal_path_for
from ai_agent.infrastructure.database.health._monitor import HealthStatus, RepositoryHealthMonitor
from ai_agent.infrastructure.database.health._offline import (
    JournalState,
    ReplayOutcome,
    read_journal,
    replay_journal,
)
from ai_agent.infrastructure.database.health._repository import FailoverRepository

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "FailoverRepository",
    "HealthStatus",
    "JournalState",
    "ReplayOutcome",
    "RepositoryHealthMonitor",
    "journal_path_for",
    "read_journal",
    "replay_journal",
]
