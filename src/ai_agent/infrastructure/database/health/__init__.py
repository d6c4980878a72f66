"""Health monitoring and failover that loses no acknowledged write.

``RepositoryHealthMonitor`` watches a primary repository in the background and, when it
fails, serves calls from a fallback repository, journaling every write the fallback
accepts; when the primary is back it replays the journal into it before calls return::

    monitor = RepositoryHealthMonitor(
        primary_repository=PostgreSQLRepository(settings.database),
        fallback_repository=SQLiteRepository("fallback.db"),
        settings=settings,
    )
    async with monitor:                                   # or: await monitor.start() / stop()
        repository = await monitor.get_healthy_repository()
        await repository.create_session(Session(user_id="user-1"))
        print(monitor.status())       # breaker state, active side, journal length, last error

**Lifecycle.** ``start()`` (or ``async with monitor``, or the first
``get_healthy_repository()``) opens the journal, connects both repositories and checks them
once; ``stop()`` ends the checks and disconnects the repositories the monitor found
unconnected. The routing repository's ``connect()``/``disconnect()`` are the monitor's
``start()``/``stop()``, and its calls raise ``RepositoryConnectionError`` while the monitor is
stopped.

**Checks and the breaker.** Every ``observability.health_check_interval`` seconds a
background task connects (idempotently) and health-checks both repositories, each bounded by
``health_check_timeout``. Requests never probe. Failed calls (``RepositoryConnectionError``
from the primary) and failed checks add to one count of consecutive failures, which any
success resets; the breaker opens when a failed call brings it to
``circuit_breaker.policy("db").failure_threshold``, or a failed check to
``health_check_failure_threshold``. The call that opens it is served as an outage call. After
``recovery_timeout`` seconds the breaker goes half-open: the monitor probes the primary
(``half_open_max_calls`` good probes in a row, or ``health_check_recovery_threshold`` if
more), replays the journal, and closes. A failed probe or replay opens it again for another
``recovery_timeout``. Requests are never used as trial calls: until the journal is replayed,
the primary lacks the outage's writes. At start, a primary that is down, or a journal left
by an earlier run, opens the breaker at once.

**Feature flags.** ``fallbacks`` off: calls always go to the primary and its errors surface
(the journal of an earlier outage is still replayed once the primary is healthy; until then
the primary lacks those writes).
``circuit_breakers`` off: the breaker follows the latest result directly: the first failure
opens it, and the first good health check starts a one-probe trial with no recovery timeout.

**During an outage** (breaker open or half-open) calls go to the fallback, under these rules:

* Served: ``create_session``, ``create_external_service``; ``create_message(s)`` for sessions
  created during the outage; updates and deletes of entities created during the outage; reads
  by id of entities the fallback holds; a session's messages (``get_messages_by_session``,
  ``get_recent_messages``) when the session was created during the outage (then the fallback
  holds all of them).
* Refused with ``RepositoryConnectionError`` ("primary unavailable ..."): anything the
  fallback cannot answer truthfully or check safely. A read of an id the fallback does not
  hold (never a false ``None``); every listing (``list_*``: it would be incomplete); a
  write about an entity the fallback does not hold, such as a message for a session only the
  primary has, or an update or delete of an older entity (never a false ``NotFoundError`` or
  ``False``); creating an agent, tool or MCP server (unique names, and a tool's MCP server,
  can only be checked in the primary); scoped state (``get_states``, and
  ``create_session_with_state`` / ``append_message_with_state`` carrying any state or an
  ``if_last_activity``: a scope is shared with sessions older than the outage, so the
  fallback can vouch for none; without state they are a plain create, served and
  journaled). Bad input is still rejected as the primary would
  (``RepositoryValidationError``), and a ``NotFoundError`` the fallback can vouch for (a
  missing parent message in a session created during the outage) is raised as such.

**The journal** records each write the fallback accepted, in the order the fallback applied
it (the write and its entry are one step under a lock): the method name and the entity as
stored (creates, updates), the batch (``create_messages``) or the id (deletes). With a SQLite
fallback it is a SQLite file next to the fallback's database
(``<database>.failover-journal``) and every entry is committed before the call returns, so it
survives a restart: the next start keeps calls on the fallback and replays it first. With
any other fallback it is kept in memory, like the fallback's data (``journal_path=`` chooses
a file explicitly).

**Replay** applies the entries to the primary in journal order (a run of consecutive message
creates goes in as one ``create_messages`` batch, in the same order), idempotently by id: a
create meeting an identical record counts as done (its first attempt may have reached the
primary), updates and deletes are applied again. Each entry (or batch) is marked applied as
soon as it is, so replay cut short by a failure or a crash resumes from the first entry not
applied. ``updated_at`` of a replayed update is the primary's time of replay, as the
repository owns that field. An entry the primary refuses for good (a different record under
the same id) is set aside in the journal's ``rejected`` table, logged, and counted in
``status().rejected_writes``; replay goes on. While the bulk is replayed, new writes keep
going to the fallback and the journal (as long as each pass at least halves the backlog);
then new fallback writes are held while the last entries are replayed, calls switch to the
primary, and the fallback's copies of the replayed entities are deleted. Until they are
(should the fallback fail then, or the process stop), the fallback neither answers nor
accepts a write: the primary may have changed those entities since. Reads that were on their
way to the fallback during the switch are answered by the primary.

**Without a monitor.** ``read_journal(fallback)`` reads a journal's counts without creating
or changing anything (``ai-agent health``); ``await replay_journal(primary, fallback)``
replays a pending journal and clears the fallback's copies, as fail-back does, for when the
application is stopped (``ai-agent db replay``).

Known limits. The fallback should be dedicated to failover: the monitor serves what it holds
as current. A create during an outage is taken to be new (ids are client-chosen UUIDs): one
that re-creates an id the primary already holds is reconciled at replay (identical: done;
different: set aside), but until then the fallback answers for that id from its own copy. A
write cut by a crash of the process between its fallback write and its journal entry was
never acknowledged and is not replayed; its copy may stay in the fallback.
"""

from __future__ import annotations

from ai_agent.infrastructure.database.health._breaker import BreakerState, CircuitBreaker
from ai_agent.infrastructure.database.health._monitor import (
    HealthStatus,
    RepositoryHealthMonitor,
    journal_path_for,
)
from ai_agent.infrastructure.database.health._offline import (
    JournalState,
    ReplayOutcome,
    read_journal,
    replay_journal,
)
from ai_agent.infrastructure.database.health._router import FailoverRepository

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
