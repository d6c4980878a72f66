"""RepositoryHealthMonitor and its routing repository on in-memory stores: routing, outage
rules, feature flags and lifecycle. (Failing back: ``test_replay.py``.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from ai_agent.config import feature_flags
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.sections import CircuitBreakerSettings, ObservabilitySettings
from ai_agent.domain.models import (
    Agent,
    Tool,
)
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    NotFoundError,
    Repository,
    RepositoryConnectionError,
    RepositoryHealthMonitor,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.health import BreakerState, FailoverRepository
from unit.health.support import (
    Clock,
    OutageRepository,
    Rig,
    message,
    recover,
    session,
    settings,
    unavailable,
    wait_for,
)

# -- healthy -------------------------------------------------------------------------------


async def test_healthy_calls_go_to_the_primary_without_probing(rig: Rig) -> None:
    assert isinstance(rig.repo, Repository)
    assert isinstance(rig.repo, FailoverRepository)
    pings = rig.primary.pings
    stored = await rig.repo.create_session(session())
    for index in range(50):
        await rig.repo.create_message(message(stored.id, f"m{index}"))
    assert rig.primary.pings == pings  # no health probe on the request path
    assert (await rig.primary.get_session(stored.id)).message_count == 50  # type: ignore[union-attr]
    assert await rig.fallback.get_session(stored.id) is None
    assert len(await rig.repo.list_sessions()) == 1


async def test_status_is_a_frozen_snapshot(monitor: RepositoryHealthMonitor) -> None:
    status = monitor.status()
    assert status.state is BreakerState.CLOSED and monitor.state is BreakerState.CLOSED
    assert status.active == "primary"
    assert status.running and status.primary_healthy and status.fallback_healthy
    assert (status.failover_count, status.journal_length, status.rejected_writes) == (0, 0, 0)
    assert status.journal_location == "memory"
    assert status.last_check is not None and status.last_check.tzinfo is not None
    with pytest.raises(AttributeError):
        status.state = BreakerState.OPEN  # type: ignore[misc]


# -- failing over ----------------------------------------------------------------------------


async def test_failures_below_the_threshold_surface(rig: Rig) -> None:
    rig.primary.down = True
    with pytest.raises(RepositoryConnectionError, match="simulated outage"):
        await rig.repo.create_session(session())
    rig.primary.down = False
    assert await rig.repo.create_session(session())  # a success resets the count
    rig.primary.down = True
    with pytest.raises(RepositoryConnectionError, match="simulated outage"):
        await rig.repo.create_session(session())


async def test_the_call_that_opens_the_breaker_is_served_by_the_fallback(rig: Rig) -> None:
    rig.primary.down = True
    with pytest.raises(RepositoryConnectionError):
        await rig.repo.create_session(session())
    created = await rig.repo.create_session(session(title="during the outage"))
    assert await rig.fallback.get_session(created.id) == created
    status = rig.monitor.status()
    assert (status.state, status.active, status.failover_count) == (
        BreakerState.OPEN,
        "fallback",
        1,
    )
    assert status.journal_length == 1
    assert status.last_error is not None and "simulated outage" in status.last_error


async def test_a_failed_health_check_counts_too(rig: Rig) -> None:
    rig.primary.down = True
    # health_check_failure_threshold is 3 (calls: 2); calls and checks share one count.
    assert (await rig.monitor.check()).state is BreakerState.CLOSED
    assert (await rig.monitor.check()).state is BreakerState.CLOSED
    status = await rig.monitor.check()
    assert status.state is BreakerState.OPEN
    assert status.primary_healthy is False and status.active == "fallback"


async def test_outage_serves_what_the_fallback_can_answer_truthfully(rig: Rig) -> None:
    old = await rig.repo.create_session(session())
    old_message = await rig.repo.create_message(message(old.id))
    await rig.fail_over()

    new = await rig.repo.create_session(session(title="new"))
    first = await rig.repo.create_message(message(new.id, "first"))
    reply = await rig.repo.create_message(message(new.id, "reply", parent_message_id=first.id))
    assert (await rig.repo.get_session(new.id)).message_count == 2  # type: ignore[union-attr]
    assert await rig.repo.get_message(reply.id) == reply
    assert [m.content for m in await rig.repo.get_messages_by_session(new.id)] == ["first", "reply"]
    assert [m.content for m in await rig.repo.get_recent_messages(new.id, 1)] == ["reply"]
    assert await rig.repo.get_messages_by_session(new.id, offset=5) == []  # a real empty page
    renamed = await rig.repo.update_session(new.model_copy(update={"title": "renamed"}))
    assert renamed.title == "renamed"

    with unavailable():
        await rig.repo.get_session(old.id)  # never a false None
    with unavailable():
        await rig.repo.get_message(old_message.id)
    with unavailable():
        await rig.repo.get_messages_by_session(old.id)  # never a false []
    with unavailable():
        await rig.repo.create_message(message(old.id))  # never a false NotFoundError
    with unavailable():
        await rig.repo.update_session(old)
    with unavailable():
        await rig.repo.delete_session(old.id)  # never a false False
    with unavailable():
        await rig.repo.list_sessions()  # it would be incomplete
    with unavailable():
        await rig.repo.create_agent(Agent(name="planner"))  # the name is checked in the primary
    with unavailable():
        await rig.repo.create_tool(Tool(name="search"))
    with unavailable():
        await rig.repo.list_external_services(enabled_only=False)


async def test_outage_errors_the_fallback_can_vouch_for_stay_what_they_are(rig: Rig) -> None:
    await rig.fail_over()
    new = await rig.repo.create_session(session())
    with pytest.raises(NotFoundError, match="not found"):
        # Its session was created during the outage, so the parent would be in the fallback.
        await rig.repo.create_message(message(new.id, parent_message_id=session().id))


async def test_bad_input_is_rejected_the_same_way_in_every_state(rig: Rig) -> None:
    bad_agent = Agent.model_construct(name="", id=session().id)
    checks: list[Callable[[], Awaitable[object]]] = [
        lambda: rig.repo.list_sessions(limit=0),
        lambda: rig.repo.list_tools(enabled_only="yes"),  # type: ignore[arg-type]
        lambda: rig.repo.list_sessions(user_id=5),  # type: ignore[arg-type]
        lambda: rig.repo.create_agent(bad_agent),
        lambda: rig.repo.get_session("not-a-uuid"),  # type: ignore[arg-type]
        lambda: rig.repo.create_session("a session"),  # type: ignore[arg-type]
    ]
    healthy = []
    for check in checks:
        with pytest.raises(RepositoryValidationError) as caught:
            await check()
        healthy.append(str(caught.value))
    await rig.fail_over()
    for check, expected in zip(checks, healthy, strict=True):
        with pytest.raises(RepositoryValidationError) as caught:
            await check()
        assert str(caught.value) == expected


async def test_neither_available() -> None:
    primary, fallback = OutageRepository(), OutageRepository()
    primary.down = fallback.down = True
    monitor = RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=settings()
    )
    try:
        with pytest.raises(RepositoryConnectionError, match="fallback failed its last health"):
            await monitor.get_healthy_repository()
        assert monitor.running and monitor.status().fallback_healthy is False
        fallback.down = False
        await monitor.check()
        repo = await monitor.get_healthy_repository()
        assert await repo.create_session(session())
    finally:
        await monitor.stop()


# -- flags, lifecycle ------------------------------------------------------------------------


async def test_without_fallbacks_errors_surface(rig: Rig) -> None:
    with feature_flags.override("fallbacks", False):
        rig.primary.down = True
        for _ in range(4):
            with pytest.raises(RepositoryConnectionError, match="simulated outage"):
                await rig.repo.create_session(session())
        assert rig.monitor.state is BreakerState.OPEN
        assert rig.monitor.status().active == "primary"
        with pytest.raises(RepositoryConnectionError, match="fallbacks are off"):
            await rig.monitor.get_healthy_repository()


async def test_without_circuit_breakers_the_first_result_switches(rig: Rig) -> None:
    with feature_flags.override("circuit_breakers", False):
        rig.primary.down = True
        created = await rig.repo.create_session(session())  # the first failure fails over
        assert rig.monitor.state is BreakerState.OPEN
        rig.primary.down = False
        assert (await rig.monitor.check()).state is BreakerState.CLOSED  # no recovery timeout
        assert await rig.primary.get_session(created.id) is not None


async def test_a_primary_down_at_start_opens_at_once(
    fallback: InMemoryRepository, clock: Clock
) -> None:
    primary = OutageRepository()
    primary.down = True
    monitor = RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=settings(), clock=clock
    )
    repo = await monitor.get_healthy_repository()  # starts the monitor, as the seed shows
    try:
        assert monitor.running and monitor.state is BreakerState.OPEN
        assert monitor.status().failover_count == 1
        created = await repo.create_session(session())
        await recover(monitor, primary, clock)  # the monitor connects the primary itself
        assert primary.is_connected and await primary.get_session(created.id) is not None
    finally:
        await monitor.stop()
    assert not primary.is_connected  # the monitor opened it, so the monitor closed it
    assert fallback.is_connected  # the caller's


async def test_a_stopped_monitor_refuses_calls_until_started_again(rig: Rig) -> None:
    await rig.monitor.stop()
    await rig.monitor.stop()  # idempotent
    with pytest.raises(RepositoryConnectionError, match="health monitor is stopped"):
        await rig.repo.create_session(session())
    assert not await rig.repo.health_check()
    assert await rig.monitor.get_healthy_repository() is rig.repo
    assert await rig.repo.health_check()
    assert await rig.repo.create_session(session())
    async with rig.repo:  # the routing repository's lifecycle is the monitor's
        assert rig.monitor.running
    assert not rig.monitor.running


async def test_the_background_task_fails_over_and_back(fallback: InMemoryRepository) -> None:
    primary = OutageRepository()
    fast = ApplicationSettings(
        observability=ObservabilitySettings(health_check_interval=0.02, health_check_timeout=1),
        circuit_breaker=CircuitBreakerSettings(db_failure_threshold=2, db_recovery_timeout=0.05),
    )
    async with RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=fast
    ) as monitor:
        repo = await monitor.get_healthy_repository()
        primary.down = True
        await wait_for(lambda: monitor.state is BreakerState.OPEN)
        created = await repo.create_session(session())
        primary.down = False
        await wait_for(lambda: monitor.state is BreakerState.CLOSED)
        assert await primary.get_session(created.id) is not None
        assert monitor.status().failover_count == 1


async def test_last_error_never_shows_a_password(rig: Rig) -> None:
    rig.primary.error = "cannot reach postgresql://app:s3cr3t@db.internal/agent: refused"
    rig.primary.down = True
    with pytest.raises(RepositoryConnectionError):
        await rig.repo.list_agents()
    last_error = rig.monitor.status().last_error
    assert last_error is not None and "s3cr3t" not in last_error and "***" in last_error


async def test_without_a_fallback_it_only_monitors(primary: OutageRepository) -> None:
    async with RepositoryHealthMonitor(primary_repository=primary, settings=settings()) as monitor:
        repo = await monitor.get_healthy_repository()
        primary.down = True
        for _ in range(3):
            with pytest.raises(RepositoryConnectionError, match="simulated outage"):
                await repo.create_session(session())
        status = monitor.status()
        assert (status.state, status.active, status.fallback_healthy) == (
            BreakerState.OPEN,
            "primary",
            None,
        )
        with pytest.raises(RepositoryConnectionError, match="no fallback may serve"):
            await monitor.get_healthy_repository()
