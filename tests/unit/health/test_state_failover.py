"""Scoped state through the routing repository during an outage: refused (the fallback can
vouch for no scope), except when a call carries no state and is a plain create, which is
journaled and replayed as such; bad input still fails as the primary would."""

from __future__ import annotations

import pytest

from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    RepositoryHealthMonitor,
    RepositoryValidationError,
)
from unit.health.support import (
    Clock,
    OutageRepository,
    fail_over,
    message,
    recover,
    session,
    unavailable,
)

SCOPE = '["adk","app","a"]'


async def test_state_calls_are_refused_during_an_outage(
    repo: Repository, primary: OutageRepository, fallback: InMemoryRepository
) -> None:
    await repo.create_session_with_state(session(), state={SCOPE: {"x": 1}})
    await fail_over(repo, primary)
    during = await repo.create_session(session())
    with unavailable():
        await repo.get_states([SCOPE])
    with unavailable():
        await repo.create_session_with_state(session(), state={SCOPE: {"x": 2}})
    for kwargs in ({"state": {SCOPE: {"x": 2}}}, {"session_state": {"s": 1}}):
        with unavailable():
            await repo.append_message_with_state(message(during.id), **kwargs)
    with unavailable():
        await repo.append_message_with_state(
            message(during.id), if_last_activity=during.last_activity
        )
    assert await fallback.get_messages_by_session(during.id) == []
    assert await fallback.get_states([SCOPE]) == {SCOPE: {}}
    with pytest.raises(RepositoryValidationError):  # checked as the primary would
        await repo.get_states([""])
    with pytest.raises(RepositoryValidationError):
        await repo.append_message_with_state(message(during.id), state={SCOPE: {"x": {1}}})


async def test_stateless_calls_are_plain_creates_and_replay(
    monitor: RepositoryHealthMonitor,
    repo: Repository,
    primary: OutageRepository,
    clock: Clock,
) -> None:
    await fail_over(repo, primary)
    created = await repo.create_session_with_state(session(), state={SCOPE: {}})
    stored = await repo.append_message_with_state(message(created.id), state={}, session_state={})
    await recover(monitor, primary, clock)
    assert await primary.get_session(created.id) is not None
    assert await primary.get_message(stored.id) == stored
    assert await repo.get_states([SCOPE]) == {SCOPE: {}}


async def test_state_calls_reach_the_primary_when_healthy(
    repo: Repository, primary: OutageRepository
) -> None:
    created = await repo.create_session_with_state(session(), state={SCOPE: {"x": 1}})
    await repo.append_message_with_state(
        message(created.id), state={SCOPE: {"y": 2}}, session_state={"s": 3}
    )
    assert await primary.get_states([SCOPE]) == {SCOPE: {"x": 1, "y": 2}}
    stored = await primary.get_session(created.id)
    assert stored is not None and stored.metadata["state"] == {"s": 3}
