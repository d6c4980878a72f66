"""Retention: delete old sessions and trim long ones, in bounded batches.

A library call for applications that schedule it (``ai-agent db prune`` runs the same)::

    from ai_agent.infrastructure.database.retention import RetentionPolicy, prune

    policy = RetentionPolicy.from_settings(settings.retention)   # or RetentionPolicy(30, 500)
    report = await prune(repository, policy)                     # dry_run=True only counts
    print(report.sessions_deleted, report.messages_deleted)

Sessions inactive for longer than ``session_max_age_days`` go first (with their messages),
then every session holding more than ``max_messages_per_session`` messages loses its oldest
ones. Each batch removes about ``batch_size`` messages (old sessions are deleted a few at a
time, as many as hold that many messages; one session holding more goes alone) in one
short atomic step of the backend (see
:class:`~.maintenance.MaintenanceOperations`), so appends keep flowing while a prune runs,
``message_count`` stays exact and the newest messages keep their order. On Redis, sessions
also expire by their TTL (``REDIS_SESSION_TTL``); pruning by age there deletes earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ai_agent.domain.models import utc_now
from ai_agent.infrastructure.database.errors import RepositoryValidationError
from ai_agent.infrastructure.database.maintenance import MaintenanceOperations

if TYPE_CHECKING:
    from ai_agent.config.sections import RetentionSettings

__all__ = ["PruneReport", "RetentionPolicy", "prune"]

#: ``progress(step, n)``: ``n`` more sessions ("sessions") or messages ("messages") handled.
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RetentionPolicy:
    """What to keep; ``None`` turns a rule off."""

    session_max_age_days: int | None = None
    max_messages_per_session: int | None = None

    def __post_init__(self) -> None:
        age, keep = self.session_max_age_days, self.max_messages_per_session
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or age < 1):
            raise RepositoryValidationError(
                f"session_max_age_days must be an integer >= 1, got {age!r}"
            )
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 0):
            raise RepositoryValidationError(
                f"max_messages_per_session must be an integer >= 0, got {keep!r}"
            )

    @classmethod
    def from_settings(cls, settings: RetentionSettings) -> RetentionPolicy:
        return cls(settings.session_max_age_days, settings.max_messages_per_session)

    @property
    def is_empty(self) -> bool:
        return self.session_max_age_days is None and self.max_messages_per_session is None

    def cutoff(self, now: datetime) -> datetime | None:
        """Sessions last active before this instant are too old (``None``: no age rule)."""
        if self.session_max_age_days is None:
            return None
        return now - timedelta(days=self.session_max_age_days)


@dataclass(frozen=True)
class PruneReport:
    """What a prune deleted (or, for a dry run, would delete)."""

    sessions_deleted: int
    messages_deleted: int
    sessions_trimmed: int
    dry_run: bool


async def prune(
    repository: MaintenanceOperations,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> PruneReport:
    """Apply ``policy`` to ``repository`` (any backend repository; not the failover router,
    whose fallback could not vouch for what the primary holds)."""
    if not isinstance(repository, MaintenanceOperations):
        raise RepositoryValidationError(
            f"prune needs a backend repository, got {type(repository).__name__}"
        )
    cutoff = policy.cutoff(now or utc_now())
    sessions = messages = 0
    if cutoff is not None:
        sessions, messages = await _prune_old(repository, cutoff, dry_run, batch_size, progress)
    trimmed = 0
    if policy.max_messages_per_session is not None:
        trimmed, removed = await _trim_long(
            repository, policy.max_messages_per_session, dry_run, batch_size, progress
        )
        messages += removed
    return PruneReport(sessions, messages, trimmed, dry_run)


async def _prune_old(
    repository: MaintenanceOperations,
    cutoff: datetime,
    dry_run: bool,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, int]:
    if dry_run:
        return await repository.count_inactive_sessions(cutoff)
    sessions = messages = 0
    per_call = 1  # sessions per delete, sized so that each removes about batch_size messages
    while True:
        batch, held = await repository.prune_sessions(cutoff, per_call)
        if not batch:
            return sessions, messages
        sessions += batch
        messages += held
        if progress is not None:
            progress("sessions", batch)
        per_call = max(1, min(batch_size, batch * batch_size // max(held, 1)))


async def _trim_long(
    repository: MaintenanceOperations,
    keep: int,
    dry_run: bool,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, int]:
    trimmed = removed = 0
    after = None
    while page := await repository.long_sessions(keep, after, batch_size):
        for session_id, count in page:
            trimmed += 1
            if dry_run:
                removed += count - keep
                continue
            while deleted := await repository.trim_messages(session_id, keep, batch_size):
                removed += deleted
                if progress is not None:
                    progress("messages", deleted)
        after = page[-1][0]
    return trimmed, removed
