"""What ``ai-agent health`` measures: the backend, its schema and the failover monitor.

Kept apart from the command (:mod:`ai_agent.cli.health`) so that the probing reads as one
story: connect, time the health check, read the schema revision, then (with a fallback)
start a ``RepositoryHealthMonitor``, run one round of checks and read its status.
Nothing here prints; every text it returns is redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.health import HealthStatus, RepositoryHealthMonitor

__all__ = [
    "BackendProbe",
    "HealthReport",
    "Schema",
    "one_line",
    "probe_backend",
    "probe_monitor",
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


@dataclass
class HealthReport:
    """Everything ``ai-agent health`` shows."""

    primary: BackendProbe
    fallback: BackendProbe | None = None
    monitor: HealthStatus | None = None
    serving: bool = False  # with a monitor: whether get_healthy_repository() succeeded
    monitor_error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def active(self) -> str:
        return self.monitor.active if self.monitor is not None else "primary"

    def problem(self) -> str | None:
        """The one line that says why the configured storage cannot serve, or ``None``."""
        if self.monitor is None:
            return self.monitor_error or self.primary.problem()
        if not self.serving:
            return self.monitor_error or self.primary.problem() or "no repository can serve"
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
            "monitor": None,
        }
        if self.monitor is not None:
            monitor = asdict(self.monitor)
            monitor["state"] = str(self.monitor.state)
            last_check = self.monitor.last_check
            monitor["last_check"] = last_check.isoformat() if last_check else None
            monitor["serving"] = self.serving
            data["monitor"] = monitor
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


async def probe_monitor(
    report: HealthReport,
    primary: BaseRepository,
    fallback: BaseRepository,
    settings: ApplicationSettings,
    seconds: float,
) -> None:
    """Start a monitor over ``primary`` and ``fallback``, run one round, record its status."""
    monitor = RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=settings
    )
    monitor.check_timeout = seconds  # each of its probes; start() and check() make four
    bound = 4 * seconds + 5
    try:
        async with asyncio.timeout(bound):
            await monitor.start()
            await monitor.check()
            try:
                await monitor.get_healthy_repository()
                report.serving = True
            except RepositoryError as exc:
                report.monitor_error = one_line(exc)
    except TimeoutError:
        report.monitor_error = f"the health monitor did not finish within {bound:g} s"
    except RepositoryError as exc:
        report.monitor_error = f"the health monitor could not start: {one_line(exc)}"
    finally:
        report.monitor = monitor.status()
        with contextlib.suppress(RepositoryError, TimeoutError):
            await monitor.stop()
