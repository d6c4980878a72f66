"""Scoped state through the routing repository during an outage: refused (the fallback can
vouch for no scope), except when a call carries no state and is a plain create, which is
journaled and replayed as such; bad input still fails as the primary would."""

from __future__ import annotations

import pytest

from ai_agent.infrastructure.database import RepositoryValidationError
from unit.health.support import Rig, message, session, unavailable

SCOPE = '["adk","app","a"]'


async def test_state_calls_are_refused_during_an_outage(rig: Rig) -> None:
    await rig.repo.create_session_with_state(session(), state={SCOPE: {"x": 1}})
    await rig.fail_over()
    during = await rig.repo.create_session(session())
    with unavailable():
        await rig.repo.get_states([SCOPE])
    with unavailable():
        await rig.repo.create_session_with_state(session(), state={SCOPE: {"x": 2}})
    for kwargs in ({"state": {SCOPE: {"x": 2}}}, {"session_state": {"s": 1}}):
        with unavailable():
            await rig.repo.append_message_with_state(message(during.id), **kwargs)
    with unavailable():
        await rig.repo.append_message_with_state(
            message(during.id), if_last_activity=during.last_activity
        )
    assert await rig.fallback.get_messages_by_session(during.id) == []
    assert await rig.fallback.get_states([SCOPE]) == {SCOPE: {}}
    with pytest.raises(RepositoryValidationError):  # checked as the primary would
        await rig.repo.get_states([""])
    with pytest.raises(RepositoryValidationError):
        await rig.repo.append_message_with_state(message(during.id), state={SCOPE: {"x": {1}}})


async def test_stateless_calls_are_plain_creates_and_replay(rig: Rig) -> None:
    await rig.fail_over()
    created = await rig.repo.create_session_with_state(session(), state={SCOPE: {}})
    stored = await rig.repo.append_message_with_state(
        message(created.id), state={}, session_state={}
    )
    await rig.recover()
    assert await rig.primary.get_session(created.id) is not None
    assert await rig.primary.get_message(stored.id) == stored
    assert await rig.repo.get_states([SCOPE]) == {SCOPE: {}}


async def test_state_calls_reach_the_primary_when_healthy(rig: Rig) -> None:
    created = await rig.repo.create_session_with_state(session(), state={SCOPE: {"x": 1}})
    await rig.repo.append_message_with_state(
        message(created.id), state={SCOPE: {"y": 2}}, session_state={"s": 3}
    )
    assert await rig.primary.get_states([SCOPE]) == {SCOPE: {"x": 1, "y": 2}}
    stored = await rig.primary.get_session(created.id)
    assert stored is not None and stored.metadata["state"] == {"s": 3}
