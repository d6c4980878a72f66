"""Sessions: round trip, repository-owned fields, duplicates, missing ids, ordering, users."""

from __future__ import annotations

from datetime import timedelta, timezone
from uuid import UUID, uuid4

import pytest

from ai_agent.infrastructure.database import (
    DuplicateError,
    NotFoundError,
    Repository,
)

from .checks import assert_recent, assert_same_entity, assert_utc, ids, now, unchanged
from .factories import RICH_JSON, T0, at, make_message, make_session


async def test_round_trip_keeps_every_field(repository: Repository) -> None:
    session = make_session(
        user_id="user-42",
        title="Round trip",
        metadata=RICH_JSON,
        created_at=at(1).replace(microsecond=1),
        updated_at=at(2).replace(microsecond=999999),
        last_activity=at(3).replace(microsecond=500001),
    )

    created = await repository.create_session(session)
    fetched = await repository.get_session(session.id)

    assert_same_entity(created, session)
    assert fetched is not None
    assert_same_entity(fetched, session)


async def test_round_trip_of_optional_fields_left_empty(repository: Repository) -> None:
    session = make_session(user_id=None, title=None, metadata={})

    await repository.create_session(session)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert_same_entity(fetched, session)


async def test_non_utc_offsets_come_back_as_the_same_instant_in_utc(
    repository: Repository,
) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    pacific = timezone(timedelta(hours=-8))
    local = T0.astimezone(india).replace(microsecond=654321)
    session = make_session(created_at=local, updated_at=local, last_activity=T0.astimezone(pacific))

    await repository.create_session(session)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    for value in (fetched.created_at, fetched.updated_at, fetched.last_activity):
        assert_utc(value)
    assert fetched.created_at == local
    assert fetched.created_at.microsecond == 654321
    assert fetched.last_activity == T0


async def test_create_returns_a_new_object_and_leaves_the_argument_alone(
    repository: Repository,
) -> None:
    session = make_session(message_count=7, metadata={"outer": {"inner": [1, 2]}})
    before = session.model_dump()

    created = await repository.create_session(session)

    assert created is not session
    assert session.model_dump() == before
    assert created.metadata is not session.metadata
    assert created.metadata["outer"] is not session.metadata["outer"]


async def test_mutating_the_argument_or_the_result_does_not_change_the_store(
    repository: Repository,
) -> None:
    session = make_session(metadata={"outer": {"inner": [1, 2]}})
    created = await repository.create_session(session)

    session.metadata["outer"]["inner"].append(3)
    session.title = "changed by the caller"
    created.metadata["outer"]["added"] = True
    created.title = "changed through the result"
    fetched = await repository.get_session(session.id)
    assert fetched is not None
    fetched.metadata["outer"]["inner"].clear()

    again = await repository.get_session(session.id)
    assert again is not None
    assert again.metadata == {"outer": {"inner": [1, 2]}}
    assert again.title == "Billing question"


async def test_message_count_starts_at_zero_whatever_the_caller_passed(
    repository: Repository,
) -> None:
    session = make_session(message_count=41)

    created = await repository.create_session(session)

    assert created.message_count == 0
    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert fetched.message_count == 0
    assert session.message_count == 41


async def test_update_sets_updated_at_and_keeps_created_at_and_message_count(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    stale = session.model_copy(
        update={
            "title": "renamed",
            "metadata": {"v": 2},
            "created_at": at(-500),
            "updated_at": at(-400),
            "message_count": 99,
        }
    )
    argument = stale.model_dump()

    started = now()
    updated = await repository.update_session(stale)
    finished = now()

    assert updated is not stale
    assert stale.model_dump() == argument
    assert updated.title == "renamed"
    assert updated.metadata == {"v": 2}
    assert updated.created_at == session.created_at
    assert updated.message_count == 1
    assert_recent(updated.updated_at, started, finished)
    fetched = await repository.get_session(session.id)
    assert fetched == updated


async def test_stale_update_does_not_undo_message_count(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    for _ in range(3):
        await repository.create_message(make_message(session))

    await repository.update_session(session.model_copy(update={"title": "stale copy"}))

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert fetched.message_count == 3
    assert fetched.title == "stale copy"


async def test_update_takes_last_activity_from_the_caller_even_when_older(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session(last_activity=at(100)))

    earlier = await repository.update_session(session.model_copy(update={"last_activity": at(5)}))
    later = await repository.update_session(session.model_copy(update={"last_activity": at(900)}))

    assert earlier.last_activity == at(5)
    assert later.last_activity == at(900)
    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert fetched.last_activity == at(900)


async def test_creating_a_message_moves_last_activity_forward_only(repository: Repository) -> None:
    session = await repository.create_session(make_session(last_activity=at(10)))

    await repository.create_message(make_message(session, created_at=at(20)))
    after_newer = await repository.get_session(session.id)
    await repository.create_message(make_message(session, created_at=at(15)))
    after_older = await repository.get_session(session.id)
    await repository.create_message(make_message(session, created_at=at(20)))
    after_equal = await repository.get_session(session.id)

    assert after_newer is not None and after_older is not None and after_equal is not None
    assert after_newer.last_activity == at(20)
    assert after_older.last_activity == at(20)
    assert after_equal.last_activity == at(20)
    assert after_equal.message_count == 3


async def test_messages_do_not_touch_the_sessions_updated_at(repository: Repository) -> None:
    session = await repository.create_session(make_session(updated_at=at(1)))

    message = await repository.create_message(make_message(session, created_at=at(50)))
    await repository.delete_message(message.id)

    fetched = await repository.get_session(session.id)
    assert fetched is not None
    assert fetched.updated_at == at(1)
    assert fetched.last_activity == at(50)  # a delete does not move it back either
    assert fetched.message_count == 0


async def test_create_with_an_existing_id_is_a_duplicate(repository: Repository) -> None:
    session = await repository.create_session(make_session())

    async with unchanged(repository):
        with pytest.raises(DuplicateError) as raised:
            await repository.create_session(make_session(id=session.id, user_id="someone-else"))
    assert str(session.id) in str(raised.value)


async def test_missing_ids(repository: Repository) -> None:
    await repository.create_session(make_session())
    missing = make_session()

    assert await repository.get_session(missing.id) is None
    assert await repository.delete_session(missing.id) is False
    async with unchanged(repository):
        with pytest.raises(NotFoundError) as raised:
            await repository.update_session(missing)
    assert str(missing.id) in str(raised.value)


async def test_delete_reports_whether_it_deleted(repository: Repository) -> None:
    session = await repository.create_session(make_session())

    assert await repository.delete_session(session.id) is True
    assert await repository.get_session(session.id) is None
    assert await repository.delete_session(session.id) is False
    assert await repository.list_sessions() == []
    assert await repository.list_sessions(user_id=session.user_id) == []


async def test_delete_removes_the_sessions_messages_and_nothing_else(
    repository: Repository,
) -> None:
    doomed = await repository.create_session(make_session())
    kept = await repository.create_session(make_session())
    doomed_messages = [await repository.create_message(make_message(doomed)) for _ in range(3)]
    kept_message = await repository.create_message(make_message(kept))

    assert await repository.delete_session(doomed.id) is True

    for message in doomed_messages:
        assert await repository.get_message(message.id) is None
    assert await repository.get_messages_by_session(doomed.id) == []
    assert await repository.get_recent_messages(doomed.id) == []
    assert await repository.get_messages_by_session(kept.id) == [kept_message]
    fetched = await repository.get_session(kept.id)
    assert fetched is not None and fetched.message_count == 1


async def test_a_deleted_id_can_be_created_again_without_its_old_messages(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    await repository.delete_session(session.id)

    again = await repository.create_session(make_session(id=session.id))

    assert again.message_count == 0
    assert await repository.get_messages_by_session(session.id) == []


async def test_list_orders_by_last_activity_then_id_descending(repository: Repository) -> None:
    low = UUID("00000000-0000-4000-8000-000000000001")
    mid = UUID("7fffffff-ffff-4fff-bfff-ffffffffffff")
    high = UUID("ffffffff-ffff-4fff-bfff-ffffffffffff")
    tied = [make_session(id=i, last_activity=at(10)) for i in (mid, low, high)]
    oldest = make_session(last_activity=at(1))
    newest = make_session(last_activity=at(99))
    for session in [tied[0], oldest, tied[1], newest, tied[2]]:
        await repository.create_session(session)

    listed = await repository.list_sessions()

    assert ids(listed) == [newest.id, high, mid, low, oldest.id]


async def test_ties_are_ordered_by_id_like_its_canonical_string(repository: Repository) -> None:
    sessions = [make_session(id=uuid4(), last_activity=at(5)) for _ in range(12)]
    for session in sessions:
        await repository.create_session(session)

    listed = await repository.list_sessions()

    assert [str(i) for i in ids(listed)] == sorted((str(s.id) for s in sessions), reverse=True)


async def test_messages_reorder_the_listing(repository: Repository) -> None:
    first = await repository.create_session(make_session(last_activity=at(1)))
    second = await repository.create_session(make_session(last_activity=at(2)))

    await repository.create_message(make_message(first, created_at=at(3)))

    assert ids(await repository.list_sessions()) == [first.id, second.id]
    assert ids(await repository.list_sessions(user_id="user-1")) == [first.id, second.id]


async def test_list_pages_cover_the_listing_exactly(repository: Repository) -> None:
    for second in range(7):
        await repository.create_session(make_session(last_activity=at(second % 3)))
    everything = await repository.list_sessions()

    pages = [await repository.list_sessions(limit=3, offset=offset) for offset in (0, 3, 6, 9)]

    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert [s for page in pages for s in page] == everything
    assert len(everything) == 7


async def test_list_filters_by_user(repository: Repository) -> None:
    alice = [await repository.create_session(make_session(user_id="alice")) for _ in range(2)]
    bob = await repository.create_session(make_session(user_id="bob"))
    empty = await repository.create_session(make_session(user_id=""))
    anonymous = await repository.create_session(make_session(user_id=None))

    assert set(ids(await repository.list_sessions(user_id="alice"))) == set(ids(alice))
    assert ids(await repository.list_sessions(user_id="bob")) == [bob.id]
    assert ids(await repository.list_sessions(user_id="")) == [empty.id]
    assert await repository.list_sessions(user_id="carol") == []
    assert await repository.list_sessions(user_id="ALICE") == []
    everyone = set(ids(await repository.list_sessions()))
    assert everyone == {*ids(alice), bob.id, empty.id, anonymous.id}


async def test_user_listing_is_ordered_and_paged(repository: Repository) -> None:
    mine = [make_session(user_id="me", last_activity=at(i)) for i in (3, 1, 2)]
    for session in mine:
        await repository.create_session(session)
        await repository.create_session(make_session(user_id="other", last_activity=at(2)))

    first = await repository.list_sessions(user_id="me", limit=2)
    rest = await repository.list_sessions(user_id="me", limit=2, offset=2)

    assert ids(first) + ids(rest) == [mine[0].id, mine[2].id, mine[1].id]


async def test_changing_the_user_moves_the_session(repository: Repository) -> None:
    session = await repository.create_session(make_session(user_id="alice"))
    await repository.create_session(make_session(user_id="alice"))

    await repository.update_session(session.model_copy(update={"user_id": "bob"}))

    assert session.id not in ids(await repository.list_sessions(user_id="alice"))
    assert ids(await repository.list_sessions(user_id="bob")) == [session.id]

    await repository.update_session(session.model_copy(update={"user_id": None}))

    assert await repository.list_sessions(user_id="bob") == []
    assert session.id in ids(await repository.list_sessions())
