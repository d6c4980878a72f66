"""RepositoryHealthMonitor failing back: replay order, idempotence, interruptions, writes
arriving during replay, and the clearing of fallback copies (in-memory stores)."""

from __future__ import annotations

import asyncio

import pytest

from ai_agent.config import feature_flags
from ai_agent.domain.models import ExternalService, ExternalServiceType, Message
from ai_agent.infrastructure.database import OperationDisabledError, RepositoryHealthMonitor
from ai_agent.infrastructure.database.health import BreakerState
from unit.health.support import (
    RECOVERY,
    Clock,
    OutageRepository,
    Rig,
    fail_over,
    message,
    recover,
    session,
    settings,
    unavailable,
)

# -- failing back ----------------------------------------------------------------------------


async def test_recovery_replays_in_order_then_clears_the_fallback(rig: Rig) -> None:
    await rig.fail_over()
    kept = await rig.repo.create_session(session(title="kept"))
    gone = await rig.repo.create_session(session(title="gone"))
    messages = [await rig.repo.create_message(message(kept.id, f"m{index}")) for index in range(4)]
    await rig.repo.create_messages([message(kept.id, "batch-1"), message(gone.id, "batch-2")])
    await rig.repo.update_message(messages[1].model_copy(update={"content": "edited"}))
    assert await rig.repo.delete_message(messages[2].id)
    assert await rig.repo.delete_session(gone.id)
    service = await rig.repo.create_external_service(
        ExternalService(name="llm", service_type=ExternalServiceType.LLM_PROVIDER, endpoint="x")
    )
    expected_messages = await rig.fallback.get_messages_by_session(kept.id)
    expected_session = await rig.fallback.get_session(kept.id)
    assert rig.monitor.status().journal_length == 11

    rig.clock.now += RECOVERY - 1
    assert (await rig.monitor.check()).state is BreakerState.OPEN  # not before the timeout
    await rig.recover()

    stored = await rig.primary.get_session(kept.id)
    assert stored is not None and expected_session is not None
    assert stored.model_dump(exclude={"updated_at"}) == expected_session.model_dump(
        exclude={"updated_at"}
    )
    replayed = await rig.primary.get_messages_by_session(kept.id)
    assert [(m.id, m.content) for m in replayed] == [(m.id, m.content) for m in expected_messages]
    assert [m.content for m in replayed] == ["m0", "edited", "m3", "batch-1"]
    assert await rig.primary.get_session(gone.id) is None
    assert await rig.primary.get_external_service(service.id) == service
    # Calls are back on the primary, and the fallback holds nothing of the outage.
    assert await rig.fallback.get_session(kept.id) is None
    assert await rig.fallback.get_external_service(service.id) is None
    assert await rig.repo.get_session(kept.id) == stored
    status = rig.monitor.status()
    assert (status.state, status.active, status.journal_length) == (
        BreakerState.CLOSED,
        "primary",
        0,
    )


async def test_copies_the_fallback_could_not_clear_are_never_served_later(
    primary: OutageRepository, clock: Clock
) -> None:
    fallback = OutageRepository()
    async with RepositoryHealthMonitor(
        primary_repository=primary, fallback_repository=fallback, settings=settings(), clock=clock
    ) as monitor:
        repo = await monitor.get_healthy_repository()
        await fail_over(repo, primary)
        created = await repo.create_session(session(title="old"))
        fallback.down = True  # the failback cannot clear its copy
        await recover(monitor, primary, clock)
        fallback.down = False
        await repo.update_session(created.model_copy(update={"title": "new"}))
        await fail_over(repo, primary)
        with unavailable():  # not the stale copy titled "old"
            await repo.get_session(created.id)
        assert await fallback.get_session(created.id) is None


async def test_replay_is_idempotent_and_sets_aside_what_the_primary_refuses(rig: Rig) -> None:
    await rig.fail_over()
    reached = await rig.repo.create_session(session(title="reached the primary too"))
    clashing = await rig.repo.create_session(session(title="mine"))
    after = await rig.repo.create_message(message(reached.id))
    rig.primary.down = False
    # Its first attempt got through before the connection broke: the same record is there.
    await rig.primary.create_session(reached)
    # Someone else holds this id in the primary with other data: replay must not overwrite it.
    await rig.primary.create_session(clashing.model_copy(update={"title": "theirs"}))
    await rig.recover()

    assert (await rig.primary.get_session(reached.id)).message_count == 1  # type: ignore[union-attr]
    assert await rig.primary.get_message(after.id) == after
    assert (await rig.primary.get_session(clashing.id)).title == "theirs"  # type: ignore[union-attr]
    status = rig.monitor.status()
    assert (status.rejected_writes, status.journal_length) == (1, 0)


async def test_replay_interrupted_by_a_new_failure_resumes_where_it_stopped(rig: Rig) -> None:
    await rig.fail_over()
    target = await rig.repo.create_session(session())
    for index in range(6):
        if index == 2:
            target = await rig.repo.update_session(target.model_copy(update={"title": "t"}))
        await rig.repo.create_message(message(target.id, f"m{index}"))

    # Replayed as: session, [m0 m1] in one batch, the update, then [m2 m3 m4 m5], which
    # meets the failure: the primary goes down on storing its 3rd message from now.
    rig.primary.down = False
    rig.primary.down_at_message = 3
    rig.clock.now += RECOVERY
    status = await rig.monitor.check()
    assert status.state is BreakerState.OPEN
    assert status.last_error is not None and "replay" in status.last_error
    assert status.journal_length == 4  # the session, m0, m1 and the update made it

    rig.primary.down = False
    await rig.recover()
    contents = [m.content for m in await rig.primary.get_messages_by_session(target.id)]
    assert contents == [f"m{index}" for index in range(6)]
    assert (await rig.primary.get_session(target.id)).message_count == 6  # type: ignore[union-attr]


async def test_writes_during_replay_are_neither_lost_nor_reordered(rig: Rig) -> None:
    await rig.fail_over()
    target = await rig.repo.create_session(session())
    for index in range(100):
        await rig.repo.create_message(message(target.id, f"before-{index:03}"))
    rig.primary.latency = 0.001  # replay takes a while
    rig.primary.down = False
    rig.clock.now += RECOVERY

    acknowledged: list[Message] = []

    async def writer() -> None:
        for index in range(60):
            acknowledged.append(
                await rig.repo.create_message(message(target.id, f"during-{index:03}"))
            )
            await asyncio.sleep(0.001)

    check = asyncio.create_task(rig.monitor.check())
    await writer()
    assert (await check).state is BreakerState.CLOSED
    stored = await rig.primary.get_messages_by_session(target.id, limit=1000)
    contents = [m.content for m in stored]
    assert contents == sorted(contents, key=lambda c: (c.split("-")[0] != "before", c))
    assert {m.id for m in acknowledged} <= {m.id for m in stored}
    assert len(stored) == 160
    assert (await rig.primary.get_session(target.id)).message_count == 160  # type: ignore[union-attr]
    assert rig.monitor.status().journal_length == 0


async def test_after_a_restart_mid_replay_the_outage_copies_are_still_served(rig: Rig) -> None:
    await rig.fail_over()
    target = await rig.repo.create_session(session())
    first = await rig.repo.create_message(message(target.id, "m0"))
    rig.primary.down = False
    rig.primary.down_at_message = 1  # replay stores the session, then the primary goes down
    rig.clock.now += RECOVERY
    assert (await rig.monitor.check()).journal_length == 1
    await rig.monitor.stop()
    await rig.monitor.start()  # as a new process would, with the journal of the old one
    assert rig.monitor.state is BreakerState.OPEN
    # The primary was never served since the session reached it: the fallback's copy is
    # current, and stays readable until the journal is drained.
    assert await rig.repo.get_session(target.id) is not None
    assert await rig.repo.get_message(first.id) == first
    await rig.recover()
    assert await rig.primary.get_message(first.id) == first


async def test_replay_restores_an_accepted_batch_after_bulk_operations_went_off(rig: Rig) -> None:
    await rig.fail_over()
    kept = await rig.repo.create_session(session())
    await rig.repo.create_messages([message(kept.id, f"batch-{index}") for index in range(3)])
    for index in range(2):
        await rig.repo.create_message(message(kept.id, f"single-{index}"))
    # Switched off after the fallback accepted the batch: new batches are refused, but the
    # accepted one is the caller's acknowledged write and must reach the primary.
    feature_flags.set_flag("bulk_operations", False)
    with pytest.raises(OperationDisabledError):
        await rig.repo.create_messages([message(kept.id, "refused")])

    await rig.recover()

    replayed = await rig.primary.get_messages_by_session(kept.id)
    expected = ["batch-0", "batch-1", "batch-2", "single-0", "single-1"]
    assert [m.content for m in replayed] == expected
    status = rig.monitor.status()
    assert (status.journal_length, status.rejected_writes) == (0, 0)
    assert not feature_flags.is_enabled("bulk_operations")  # replay's override ended with it
