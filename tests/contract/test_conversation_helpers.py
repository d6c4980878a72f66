"""Conversation helpers: get_or_create_session, pop_message, clear_messages, iter_messages.

What framework adapters build on (SPEC.md section 3): each is atomic on every backend, and
the concurrent cases below would lose or duplicate something if it were not.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database import (
    Repository,
    RepositoryValidationError,
)

from .checks import ids, unchanged
from .factories import at, make_message, make_session


async def _thread(repository: Repository, session: Session, count: int) -> list[Message]:
    messages = [make_message(session, created_at=at(i)) for i in range(count)]
    for start in range(0, count, 500):
        await repository.create_messages(messages[start : start + 500])
    return messages


async def _collect(repository: Repository, session: Session, batch_size: int) -> list[Message]:
    return [message async for message in repository.iter_messages(session.id, batch_size)]


# -- get_or_create_session ---------------------------------------------------------------


async def test_get_or_create_creates_a_missing_session(repository: Repository) -> None:
    wanted = make_session(message_count=7, last_activity=at(5))

    stored, created = await repository.get_or_create_session(wanted)

    assert created is True
    assert stored.message_count == 0
    assert stored.model_dump(exclude={"message_count"}) == wanted.model_dump(
        exclude={"message_count"}
    )
    assert wanted.message_count == 7  # the argument is never changed
    assert await repository.get_session(wanted.id) == stored


async def test_get_or_create_returns_the_stored_session_unchanged(repository: Repository) -> None:
    original = await repository.create_session(make_session(title="original"))
    await repository.create_message(make_message(original))
    before = await repository.get_session(original.id)

    stored, created = await repository.get_or_create_session(
        make_session(id=original.id, title="other", user_id="someone-else")
    )

    assert created is False
    assert stored == before
    assert stored.message_count == 1
    assert await repository.get_session(original.id) == before
    assert ids(await repository.list_sessions("someone-else")) == []


async def test_concurrent_get_or_create_makes_one_session(repository: Repository) -> None:
    session_id = uuid4()
    candidates = [make_session(id=session_id, title=f"caller {i}") for i in range(20)]

    results = await asyncio.gather(*(repository.get_or_create_session(s) for s in candidates))

    assert sum(created for _, created in results) == 1
    winner = next(stored for stored, created in results if created)
    assert all(stored == winner for stored, _ in results)
    assert await repository.get_session(session_id) == winner
    assert ids(await repository.list_sessions()) == [session_id]


async def test_get_or_create_rejects_an_invalid_session(repository: Repository) -> None:
    broken = make_session()
    broken.__dict__["title"] = 42
    async with unchanged(repository):
        with pytest.raises(RepositoryValidationError, match="title"):
            await repository.get_or_create_session(broken)
        with pytest.raises(RepositoryValidationError, match="Session"):
            await repository.get_or_create_session("not a session")  # type: ignore[arg-type]


# -- pop_message -------------------------------------------------------------------------


async def test_pop_removes_and_returns_the_newest(repository: Repository) -> None:
    session = await repository.create_session(make_session(last_activity=at(0)))
    messages = await _thread(repository, session, 3)
    newest = await repository.get_message(messages[2].id)

    popped = await repository.pop_message(session.id)

    assert popped is not None
    assert popped == newest
    assert await repository.get_message(messages[2].id) is None
    assert ids(await repository.get_messages_by_session(session.id)) == ids(messages[:2])
    after = await repository.get_session(session.id)
    assert after is not None
    assert after.message_count == 2
    assert after.last_activity == at(2)  # like delete_message: activity is not undone


async def test_pop_until_empty_then_none(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    messages = await _thread(repository, session, 3)

    popped = [await repository.pop_message(session.id) for _ in range(4)]

    assert [m.id if m else None for m in popped] == [*ids(messages)[::-1], None]
    after = await repository.get_session(session.id)
    assert after is not None
    assert after.message_count == 0
    assert await repository.pop_message(uuid4()) is None


async def test_twenty_concurrent_pops_return_twenty_distinct_messages(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    messages = await _thread(repository, session, 20)
    kept = await _thread(repository, other, 2)

    popped = await asyncio.gather(*(repository.pop_message(session.id) for _ in range(20)))

    assert all(message is not None for message in popped)
    assert sorted(str(m.id) for m in popped if m) == sorted(str(i) for i in ids(messages))
    assert await repository.pop_message(session.id) is None
    emptied = await repository.get_session(session.id)
    assert emptied is not None
    assert emptied.message_count == 0
    assert ids(await repository.get_messages_by_session(other.id)) == ids(kept)


async def test_pop_clears_the_parent_of_replies(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    first = await repository.create_message(make_message(session, created_at=at(1)))
    newest = await repository.create_message(make_message(session, created_at=at(2)))
    await repository.update_message(first.model_copy(update={"parent_message_id": newest.id}))

    popped = await repository.pop_message(session.id)

    assert popped is not None
    assert popped.id == newest.id
    reply = await repository.get_message(first.id)
    assert reply is not None
    assert reply.parent_message_id is None


async def test_pop_with_a_bad_id_is_a_validation_error(repository: Repository) -> None:
    async with unchanged(repository):
        with pytest.raises(RepositoryValidationError, match="session id"):
            await repository.pop_message("nope")  # type: ignore[arg-type]


# -- clear_messages ----------------------------------------------------------------------


async def test_clear_deletes_every_message_and_keeps_the_session(repository: Repository) -> None:
    session = await repository.create_session(make_session(last_activity=at(0)))
    other = await repository.create_session(make_session())
    messages = await _thread(repository, session, 25)
    kept = await _thread(repository, other, 3)
    before = await repository.get_session(session.id)
    assert before is not None

    cleared = await repository.clear_messages(session.id)

    assert cleared == 25
    after = await repository.get_session(session.id)
    assert after is not None
    assert after.message_count == 0
    assert after.model_dump(exclude={"message_count"}) == before.model_dump(
        exclude={"message_count"}
    )
    assert await repository.get_messages_by_session(session.id) == []
    assert await repository.get_message(messages[0].id) is None
    assert ids(await repository.get_messages_by_session(other.id)) == ids(kept)


async def test_a_cleared_session_takes_new_messages(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    await _thread(repository, session, 3)
    await repository.clear_messages(session.id)

    fresh = await repository.create_message(make_message(session, created_at=at(9)))

    assert ids(await repository.get_recent_messages(session.id, 5)) == [fresh.id]
    assert [m.id async for m in repository.iter_messages(session.id)] == [fresh.id]
    after = await repository.get_session(session.id)
    assert after is not None
    assert after.message_count == 1


async def test_clear_of_an_unknown_or_empty_session_is_zero(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    async with unchanged(repository, session.id):
        assert await repository.clear_messages(uuid4()) == 0
        assert await repository.clear_messages(session.id) == 0
        with pytest.raises(RepositoryValidationError, match="session id"):
            await repository.clear_messages(12)  # type: ignore[arg-type]


# -- iter_messages -----------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 100, 1000])
async def test_iter_yields_the_whole_history_in_order(
    repository: Repository, batch_size: int
) -> None:
    session = await repository.create_session(make_session())
    messages = await _thread(repository, session, 1234 if batch_size > 1 else 30)

    seen = await _collect(repository, session, batch_size)

    assert ids(seen) == ids(messages)
    assert seen == await _all_by_offset(repository, session)


async def _all_by_offset(repository: Repository, session: Session) -> list[Message]:
    found: list[Message] = []
    while page := await repository.get_messages_by_session(session.id, 1000, len(found)):
        found.extend(page)
    return found


async def test_iter_meets_appends_at_the_end_and_skips_deletes(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    messages = await _thread(repository, session, 10)
    seen: list[Message] = []
    appended: list[Message] = []

    async for message in repository.iter_messages(session.id, batch_size=3):
        seen.append(message)
        if len(seen) == 2:
            await repository.delete_message(messages[5].id)
            appended.append(await repository.create_message(make_message(session)))

    expected = [m for i, m in enumerate(messages) if i != 5] + appended
    assert ids(seen) == ids(expected)


async def test_iter_of_an_unknown_session_yields_nothing(repository: Repository) -> None:
    assert await _collect(repository, make_session(), 10) == []
    empty = await repository.create_session(make_session())
    assert await _collect(repository, empty, 10) == []


@pytest.mark.parametrize("batch_size", [0, -1, 1001, True, 1.5, "10", None])
async def test_iter_checks_its_arguments_when_called(
    repository: Repository, batch_size: object
) -> None:
    session = await repository.create_session(make_session())
    with pytest.raises(RepositoryValidationError, match="batch_size"):
        repository.iter_messages(session.id, batch_size)  # type: ignore[arg-type]
    with pytest.raises(RepositoryValidationError, match="session id"):
        repository.iter_messages("nope")  # type: ignore[arg-type]
