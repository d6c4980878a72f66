"""What ``ai-agent health`` measures: the backend, its schema and the failover set-up.

Kept apart from the command (:mod:`ai_agent.cli.health`) so that the probing reads as one
story: connect, time the health check, read the schema revision, then (with a fallback)
work out what a failover monitor started now would do: the same decisions it makes at
start-up, from the two probes and the journal's pending count, read without starting one.
``health`` is a diagnostic: it creates no database or journal file and replays nothing
(``ai-agent db replay`` does, on request). Nothing here prints; every text it returns is
redacted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.health import JournalState, read_journal

__all__ = [
    "BackendProbe",
    "FailoverView",
    "HealthReport",
    "Schema",
    "assess_failover",
    "one_line",
    "probe_backend",
    "scrub",
]

SchemaState = Literal["up to date", "behind", "none", "unknown", "unread", "n/a"]


@dataclass(frozen=True)
class Schema:
    """A database's schema revision against the newest one this version ships."""

    current: str | None
    head: str | None
    state: SchemaState
    missing: str = ""  # why there is no revision ("no database file yet"), if none

    @property
    def ok(self) -> bool:
        return self.state in ("up to date", "n/a")

    def describe(self) -> str:
        if self.state == "n/a":
            return "n/a (schemaless)"
        if self.state == "unread":
            return f"not read (the database did not answer); head is {self.head}"
        if self.state == "up to date":
            return f"{self.current} (head)"
        if self.state == "none":
            return f"none ({self.missing or 'empty database'}); head is {self.head}"
        if self.state == "unknown":
            return f"{self.current} (unknown to this version; head is {self.head})"
        return f"{self.current} (behind head {self.head})"


SCHEMALESS = Schema(None, None, "n/a")


@dataclass
class BackendProbe:
    """One repository: where it is, whether it answered, how fast, at what revision."""

    backend: str
    url: str
    reachable: bool = False
    latency_ms: float | None = None
    schema: Schema = SCHEMALESS
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.reachable and self.schema.ok

    def problem(self) -> str | None:
        """Why this repository cannot serve, as one sentence naming it; ``None`` if it can."""
        where = f"the {self.backend} backend at {self.url}"
        if self.schema.missing:
            return f"{where}: {self.schema.missing}; run `ai-agent db migrate`"
        if not self.reachable:
            return f"{where} is unreachable: {self._reason()}"
        if not self.schema.ok:
            return (
                f"{where} is at schema revision {self.schema.describe()}; run `ai-agent db migrate`"
            )
        return None

    def _reason(self) -> str:
        # Repository errors name the URL again ("cannot reach X at <url>: why"): keep the why.
        error = self.error or "its health check failed"
        after_url = error.partition(self.url)[2]
        return after_url.partition(": ")[2] or error


@dataclass(frozen=True)
class FailoverView:
    """What a failover monitor started now would do (see :func:`assess_failover`)."""

    state: Literal["closed", "open"]  # its breaker after the start-up assessment
    active: Literal["primary", "fallback"]  # where calls would go
    primary_healthy: bool
    fallback_healthy: bool
    reason: str | None  # why calls would leave the primary
    journal: JournalState | None  # None: kept in memory by the process running the monitor
    fallbacks_enabled: bool
    unavailable: str | None = None  # why no side could serve, if none could
    journal_error: str | None = None

    @property
    def serving(self) -> bool:
        return self.unavailable is None and self.journal_error is None

    def describe_journal(self) -> str:
        journal = self.journal
        if self.journal_error is not None:
            return f"unreadable: {self.journal_error}"
        if journal is None:
            return "in the memory of the process running the monitor (nothing on disk)"
        if not journal.exists:
            return f"none at {journal.location}"
        return f"{journal.pending} pending write(s) at {journal.location}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["serving"] = self.serving
        if self.journal is not None:
            data["journal"]["location"] = str(self.journal.location)
        return data


def assess_failover(
    primary: BackendProbe,
    fallback: BackendProbe,
    fallback_repository: BaseRepository,
    *,
    fallbacks_enabled: bool,
) -> FailoverView:
    """The monitor's start-up decisions, without starting it: a journal left by an earlier
    run, or a primary that does not answer, sends calls to the fallback (when fallbacks are
    on and it answers). The journal is only read; a missing one is reported, not created."""
    journal: JournalState | None = None
    journal_error: str | None = None
    try:
        journal = read_journal(fallback_repository)
    except RepositoryError as exc:
        journal_error = one_line(exc)
    pending = journal.pending if journal is not None else 0
    reason: str | None = None
    if pending:
        reason = f"{pending} journaled write(s) await replay; run `ai-agent db replay`"
    elif not primary.reachable:
        reason = primary.problem() or "the primary does not answer"
    unavailable: str | None = None
    if reason is not None and not fallbacks_enabled:
        unavailable = f"primary unavailable: {reason}, and fallbacks are off"
    elif reason is not None and not fallback.reachable:
        unavailable = f"primary unavailable: {reason}, and the fallback does not answer either"
    return FailoverView(
        state="closed" if reason is None else "open",
        active="fallback" if reason is not None and fallbacks_enabled else "primary",
        primary_healthy=primary.reachable,
        fallback_healthy=fallback.reachable,
        reason=reason,
        journal=journal,
        fallbacks_enabled=fallbacks_enabled,
        unavailable=unavailable,
        journal_error=journal_error,
    )


@dataclass
class HealthReport:
    """Everything ``ai-agent health`` shows."""

    primary: BackendProbe
    fallback: BackendProbe | None = None
    failover: FailoverView | None = None

    @property
    def active(self) -> str:
        return self.failover.active if self.failover is not None else "primary"

    def problem(self) -> str | None:
        """The one line that says why the configured storage cannot serve, or ``None``."""
        view = self.failover
        if view is None:
            return self.primary.problem()
        if view.journal_error is not None:
            return f"cannot read the failover journal: {view.journal_error}"
        if view.unavailable is not None:
            return view.unavailable
        side = self.primary if self.active == "primary" else self.fallback
        problem = side.problem() if side is not None else None
        if problem is None and side is self.primary and self.fallback is not None:
            # A standby that could not take over (unmigrated, unreachable) is a failover
            # set-up that would fail at the next outage: say so now, not then.
            standby = self.fallback.problem()
            return f"the fallback cannot take over: {standby}" if standby else None
        return problem

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "healthy": self.problem() is None,
            "problem": self.problem(),
            **_probe_dict(self.primary),
            "fallback": _probe_dict(self.fallback) if self.fallback else None,
            "failover": self.failover.as_dict() if self.failover is not None else None,
        }
        return data


def _probe_dict(probe: BackendProbe) -> dict[str, Any]:
    schema = probe.schema
    return {
        "backend": probe.backend,
        "url": probe.url,
        "reachable": probe.reachable,
        "latency_ms": None if probe.latency_ms is None else round(probe.latency_ms, 3),
        "schema": {"current": schema.current, "head": schema.head, "state": schema.state},
        "error": probe.error,
    }


# Shorter secrets are not searched for: masking every "p" would garble the report, and
# messages never quote a password anyway (this is a second line of defence).
_MIN_SCRUBBED = 4


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every URL password masked, and each of ``secrets`` (raw or
    percent-escaped) replaced by ``***``."""
    text = redact_text(text)
    for secret in secrets:
        if len(secret) >= _MIN_SCRUBBED:
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, "***")
    return text


def one_line(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """An exception as one line: first line of its message, every password masked."""
    text = scrub(str(exc), secrets).strip()
    first = text.splitlines()[0] if text else ""
    return first or type(exc).__name__


def _missing_file(repository: BaseRepository) -> bool:
    path = getattr(repository, "path", None)
    return repository.backend_name == "sqlite" and isinstance(path, Path) and not path.exists()


async def _schema(repository: BaseRepository) -> Schema:
    read = getattr(repository, "schema_revision", None)
    if read is None:
        return SCHEMALESS
    current: str | None = await read()
    head = migrations.head_revision()
    if current == head:
        return Schema(current, head, "up to date")
    if current is None:
        return Schema(None, head, "none")
    return Schema(current, head, "behind" if migrations.is_known_revision(current) else "unknown")


async def probe_backend(
    repository: BaseRepository, seconds: float, secrets: tuple[str, ...] = ()
) -> BackendProbe:
    """Connect ``repository`` (left connected when it answers), time its health check and
    read its schema revision, all within ``seconds``. Never raises a RepositoryError.

    A SQLite file that does not exist is reported, not created (connecting would create it).
    """
    probe = BackendProbe(repository.backend_name, repository.display_url)
    if hasattr(repository, "schema_revision"):
        probe.schema = Schema(None, migrations.head_revision(), "unread")
    if _missing_file(repository):
        probe.schema = Schema(None, probe.schema.head, "none", "no database file yet")
        probe.error = "the database file does not exist yet"
        return probe
    try:
        async with asyncio.timeout(seconds):
            await repository.connect()
            began = time.perf_counter()
            probe.reachable = await repository.health_check()
            probe.latency_ms = (time.perf_counter() - began) * 1000
            if probe.reachable:
                probe.schema = await _schema(repository)
    except TimeoutError:
        probe.reachable = False
        probe.error = f"no answer within {seconds:g} s"
    except RepositoryError as exc:
        probe.reachable = False
        probe.error = one_line(exc, secrets)
        if _database_missing(exc):  # the server answered: `db migrate` creates the database
            probe.schema = Schema(None, probe.schema.head, "none", "the database does not exist")
    return probe


def _database_missing(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "InvalidCatalogNameError":  # asyncpg's, not imported here
            return True
        seen = seen.__cause__ or seen.__context__
    return False
