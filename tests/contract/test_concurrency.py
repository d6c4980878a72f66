"""Concurrent tasks on one event loop: counters stay exact, uniqueness holds, cascades are whole.

Tasks start together through ``asyncio.gather``; on a network backend their statements
interleave on several connections.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ai_agent.infrastructure.database import (
    DuplicateError,
    NotFoundError,
    Repository,
)

from .checks import ids
from .factories import at, make_message, make_session, make_tool


def outcomes(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    errors = [r for r in results if isinstance(r, BaseException)]
    return [r for r in results if not isinstance(r, BaseException)], errors


async def test_fifty_concurrent_messages_count_exactly(repository: Repository) -> None:
    session = await repository.create_session(make_session(last_activity=at(0)))
    messages = [make_message(session, created_at=at(i % 17)) for i in range(50)]

    created = await asyncio.gather(*(repository.create_message(m) for m in messages))

    assert len(created) == 50
    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert fetched.message_count == 50
    assert fetched.last_activity == at(16)
    stored = await repository.get_messages_by_session(session.id)
    assert sorted(ids(stored), key=str) == sorted(ids(messages), key=str)


async def test_concurrent_batches_count_exactly_and_keep_their_order(
    repository: Repository,
) -> None:
    first = await repository.create_session(make_session())
    second = await repository.create_session(make_session())
    batches = [
        [make_message(first if (b + i) % 2 else second) for i in range(5)] for b in range(10)
    ]

    await asyncio.gather(*(repository.create_messages(batch) for batch in batches))

    for session, expected in ((first, 25), (second, 25)):
        fetched = await repository.get_session(session.id)
        assert fetched is not None and fetched.message_count == expected
        stored = ids(await repository.get_messages_by_session(session.id))
        assert len(stored) == expected
        for batch in batches:
            mine = [m.id for m in batch if m.session_id == session.id]
            assert [i for i in stored if i in mine] == mine  # list order within each batch


async def test_stale_updates_racing_appends_lose_no_count(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    stale = [session.model_copy(update={"title": f"t{i}"}) for i in range(10)]
    messages = [make_message(session) for _ in range(30)]

    await asyncio.gather(
        *(repository.update_session(s) for s in stale),
        *(repository.create_message(m) for m in messages),
    )

    fetched = await repository.get_session(session.id)
    assert fetched is not None and fetched.message_count == 30


async def test_racing_creates_of_one_id_store_one(repository: Repository) -> None:
    contenders = [make_session(title=f"contender {i}") for i in range(10)]
    contenders = [c.model_copy(update={"id": contenders[0].id}) for c in contenders]

    results = await asyncio.gather(
        *(repository.create_session(c) for c in contenders), return_exceptions=True
    )

    created, errors = outcomes(results)
    assert len(created) == 1
    assert all(isinstance(e, DuplicateError) for e in errors) and len(errors) == 9
    assert await repository.list_sessions() == [await repository.get_session(contenders[0].id)]


async def test_racing_creates_of_one_name_store_one(repository: Repository) -> None:
    results = await asyncio.gather(
        *(repository.create_tool(make_tool(name="only-one")) for _ in range(10)),
        return_exceptions=True,
    )

    created, errors = outcomes(results)
    assert len(created) == 1
    assert all(isinstance(e, DuplicateError) for e in errors) and len(errors) == 9
    assert ids(await repository.list_tools()) == ids(created)


async def test_racing_deletes_of_one_message_decrement_once(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = await repository.create_message(make_message(session))
    await repository.create_message(make_message(session))

    results = await asyncio.gather(*(repository.delete_message(message.id) for _ in range(10)))

    assert sorted(results) == [False] * 9 + [True]
    fetched = await repository.get_session(session.id)
    assert fetched is not None and fetched.message_count == 1


async def test_appends_racing_a_session_delete_leave_nothing_behind(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session())
    messages = [make_message(session) for _ in range(20)]

    results = await asyncio.gather(
        *(repository.create_message(m) for m in messages[:10]),
        repository.delete_session(session.id),
        *(repository.create_message(m) for m in messages[10:]),
        return_exceptions=True,
    )

    _, errors = outcomes(results)
    assert all(isinstance(e, NotFoundError) for e in errors)
    assert await repository.get_session(session.id) is None
    assert await repository.get_messages_by_session(session.id) == []
    for message in messages:
        assert await repository.get_message(message.id) is None
