"""The conversation helpers through the routing repository during an outage: what the
fallback can answer, what it must refuse, and the journal replaying pops and clears."""

from __future__ import annotations

from unit.health.support import Rig, message, session, unavailable


async def test_outage_pops_and_clears_replay_into_the_primary(rig: Rig) -> None:
    await rig.fail_over()
    popped_from = await rig.repo.create_session(session(title="popped"))
    cleared = await rig.repo.create_session(session(title="cleared"))
    kept = [await rig.repo.create_message(message(popped_from.id, f"m{i}")) for i in range(3)]
    await rig.repo.create_message(message(cleared.id, "gone"))

    popped = await rig.repo.pop_message(popped_from.id)
    assert popped is not None and popped.id == kept[2].id
    assert await rig.repo.clear_messages(cleared.id) == 1
    assert [m.id async for m in rig.repo.iter_messages(popped_from.id, 1)] == [
        m.id for m in kept[:2]
    ]
    assert await rig.repo.get_or_create_session(session(id=popped_from.id)) == (
        await rig.fallback.get_session(popped_from.id),
        False,
    )
    await rig.recover()

    assert [m.id for m in await rig.primary.get_messages_by_session(popped_from.id)] == [
        m.id for m in kept[:2]
    ]
    assert await rig.primary.get_messages_by_session(cleared.id) == []
    counts = [await rig.primary.get_session(s.id) for s in (popped_from, cleared)]
    assert [s.message_count if s else None for s in counts] == [2, 0]
    assert rig.monitor.status().journal_length == 0


async def test_outage_refuses_what_only_the_primary_can_answer(rig: Rig) -> None:
    before = await rig.repo.create_session(session())
    await rig.repo.create_message(message(before.id))
    await rig.fail_over()

    for unknown in (before, session()):  # the fallback cannot tell that either is new
        with unavailable():
            await rig.repo.get_or_create_session(session(id=unknown.id))
    with unavailable():
        await rig.repo.pop_message(before.id)
    with unavailable():
        await rig.repo.clear_messages(before.id)
    assert await rig.fallback.get_session(before.id) is None  # nothing invented in the fallback
    rig.primary.down = False
    stored = await rig.primary.get_session(before.id)
    assert stored is not None and stored.message_count == 1
