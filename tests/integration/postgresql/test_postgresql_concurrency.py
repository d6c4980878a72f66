"""Concurrent writers on PostgreSQL: counts never lost, no deadlocks between the statements'
own row locks, each message deleted (and counted) once."""

from __future__ import annotations

import asyncio
import random
from uuid import UUID

import pytest

from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import NotFoundError
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository

pytestmark = pytest.mark.postgresql


def message(session_id: UUID, parent: UUID | None = None) -> Message:
    return Message(
        session_id=session_id, role=MessageRole.USER, content="x", parent_message_id=parent
    )


async def count_of(repository: PostgreSQLRepository, session_id: UUID) -> int:
    stored = await repository.get_session(session_id)
    assert stored is not None
    return stored.message_count


async def stored_messages(repository: PostgreSQLRepository, session_id: UUID) -> list[Message]:
    return await repository.get_messages_by_session(session_id, limit=1000)


async def test_concurrent_appends_lose_no_count(repository: PostgreSQLRepository) -> None:
    session = await repository.create_session(Session(user_id="u"))
    await asyncio.gather(*(repository.create_message(message(session.id)) for _ in range(60)))

    assert await count_of(repository, session.id) == 60
    assert len(await stored_messages(repository, session.id)) == 60


async def test_concurrent_batches_over_the_same_sessions_do_not_deadlock(
    repository: PostgreSQLRepository,
) -> None:
    sessions = [await repository.create_session(Session(user_id="u")) for _ in range(4)]

    async def batch() -> list[Message]:
        order = random.sample(sessions, k=len(sessions))  # each batch locks in its own order
        return await repository.create_messages([message(s.id) for s in order for _ in range(3)])

    await asyncio.gather(*(batch() for _ in range(20)))  # a deadlock would raise ConflictError

    for session in sessions:
        assert await count_of(repository, session.id) == 60
        assert len(await stored_messages(repository, session.id)) == 60


async def test_a_batch_keeps_list_order_across_sessions(repository: PostgreSQLRepository) -> None:
    first = await repository.create_session(Session(user_id="u"))
    second = await repository.create_session(Session(user_id="u"))
    batch = [message(first.id if i % 3 else second.id) for i in range(30)]
    batch[7] = message(first.id, parent=batch[1].id)  # a parent earlier in the batch

    await repository.create_messages(batch)

    for session in (first, second):
        expected = [m.id for m in batch if m.session_id == session.id]
        assert [m.id for m in await stored_messages(repository, session.id)] == expected


async def test_a_message_deleted_concurrently_is_deleted_and_counted_once(
    repository: PostgreSQLRepository,
) -> None:
    session = await repository.create_session(Session(user_id="u"))
    doomed = await repository.create_message(message(session.id))
    await repository.create_message(message(session.id))

    results = await asyncio.gather(*(repository.delete_message(doomed.id) for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    assert await count_of(repository, session.id) == 1


async def test_deleting_a_parent_while_replies_arrive_keeps_counts_exact(
    repository: PostgreSQLRepository,
) -> None:
    session = await repository.create_session(Session(user_id="u"))
    for _ in range(40):  # the naive statement (delete, then count) deadlocked ~1 in 8
        parent = await repository.create_message(message(session.id))

        async def reply(parent_id: UUID = parent.id) -> bool:
            try:
                await repository.create_message(message(session.id, parent=parent_id))
            except NotFoundError:  # the parent went first
                return False
            return True

        # Opposite lock orders would deadlock (ConflictError); both take the session first.
        await asyncio.gather(reply(), repository.delete_message(parent.id), reply(), reply())

    stored = await stored_messages(repository, session.id)
    assert await count_of(repository, session.id) == len(stored)
    assert all(m.parent_message_id is None for m in stored)


async def test_deleting_a_session_while_messages_arrive_leaves_no_orphans(
    repository: PostgreSQLRepository,
) -> None:
    for _ in range(10):
        session = await repository.create_session(Session(user_id="u"))
        outcomes = await asyncio.gather(
            *(repository.create_message(message(session.id)) for _ in range(5)),
            repository.delete_session(session.id),
            return_exceptions=True,
        )
        assert all(isinstance(o, Message | NotFoundError | bool) for o in outcomes), outcomes
        assert await repository.get_session(session.id) is None
        assert await stored_messages(repository, session.id) == []
