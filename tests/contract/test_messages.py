"""Messages: round trip, counts, parents, order, recent reads, updates, deletes, batches."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ai_agent.domain.models import MessageRole
from ai_agent.infrastructure.database import (
    DuplicateError,
    NotFoundError,
    Repository,
    RepositoryValidationError,
)

from .checks import assert_recent, assert_same_entity, ids, now, unchanged
from .factories import RICH_JSON, at, make_message, make_session


async def test_round_trip_keeps_every_field(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    parent = await repository.create_message(make_message(session))
    message = make_message(
        session,
        role=MessageRole.TOOL,
        content="multi\nline ✓ 🙂",
        metadata=RICH_JSON,
        tool_calls=[{"id": "call-1", "function": {"name": "f", "arguments": '{"a": 1}'}}, {}],
        parent_message_id=parent.id,
        created_at=at(7).replace(microsecond=1),
        updated_at=at(8).replace(microsecond=999999),
    )

    created = await repository.create_message(message)
    fetched = await repository.get_message(message.id)

    assert_same_entity(created, message)
    assert fetched is not None
    assert_same_entity(fetched, message)
    assert_same_entity((await repository.get_messages_by_session(session.id))[1], message)
    assert_same_entity((await repository.get_recent_messages(session.id, 1))[0], message)


@pytest.mark.parametrize("role", list(MessageRole))
async def test_every_role_round_trips(repository: Repository, role: MessageRole) -> None:
    session = await repository.create_session(make_session())

    await repository.create_message(make_message(session, role=role, metadata={}, tool_calls=[]))

    [fetched] = await repository.get_messages_by_session(session.id)
    assert fetched.role is role


async def test_create_returns_a_new_object_and_copies_nothing_back(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = make_message(session, metadata={"a": {"b": [1]}}, tool_calls=[{"x": {"y": 1}}])
    before = message.model_dump()

    created = await repository.create_message(message)
    message.metadata["a"]["b"].append(2)
    message.tool_calls[0]["x"]["y"] = 2
    created.metadata["a"]["c"] = 3
    created.tool_calls.append({})

    assert created is not message
    assert before["metadata"] == {"a": {"b": [1]}}
    fetched = await repository.get_message(message.id)
    assert fetched is not None
    assert fetched.metadata == {"a": {"b": [1]}}
    assert fetched.tool_calls == [{"x": {"y": 1}}]


async def test_create_and_delete_move_message_count(repository: Repository) -> None:
    session = await repository.create_session(make_session())

    messages = [await repository.create_message(make_message(session)) for _ in range(3)]
    after_create = await repository.get_session(session.id)
    assert await repository.delete_message(messages[1].id) is True
    after_delete = await repository.get_session(session.id)

    assert after_create is not None and after_create.message_count == 3
    assert after_delete is not None and after_delete.message_count == 2
    assert ids(await repository.get_messages_by_session(session.id)) == [
        messages[0].id,
        messages[2].id,
    ]


async def test_create_for_a_missing_session_is_not_found(repository: Repository) -> None:
    await repository.create_session(make_session())
    orphan = make_message(uuid4())

    async with unchanged(repository, orphan.session_id):
        with pytest.raises(NotFoundError) as raised:
            await repository.create_message(orphan)
    assert str(orphan.session_id) in str(raised.value)
    assert await repository.get_message(orphan.id) is None


async def test_parent_must_exist_in_the_same_session(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    foreign = await repository.create_message(make_message(other))
    missing = uuid4()

    async with unchanged(repository):
        with pytest.raises(NotFoundError) as raised:
            await repository.create_message(make_message(session, parent_message_id=missing))
        assert str(missing) in str(raised.value)
        with pytest.raises(NotFoundError):
            await repository.create_message(make_message(session, parent_message_id=foreign.id))


async def test_duplicate_id_in_any_session(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    message = await repository.create_message(make_message(session))

    async with unchanged(repository):
        with pytest.raises(DuplicateError) as raised:
            await repository.create_message(make_message(session, id=message.id))
        with pytest.raises(DuplicateError):
            await repository.create_message(make_message(other, id=message.id))
    assert str(message.id) in str(raised.value)


async def test_missing_ids(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    await repository.create_message(make_message(session))
    missing = make_message(session)

    assert await repository.get_message(missing.id) is None
    assert await repository.delete_message(missing.id) is False
    async with unchanged(repository):
        with pytest.raises(NotFoundError):
            await repository.update_message(missing)
    assert await repository.get_messages_by_session(uuid4()) == []
    assert await repository.get_recent_messages(uuid4()) == []


async def test_order_is_insertion_order_not_created_at(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    times = [at(5), at(1), at(5), at(3), at(5), at(5)]
    created = [await repository.create_message(make_message(session, created_at=t)) for t in times]

    listed = await repository.get_messages_by_session(session.id)

    assert ids(listed) == ids(created)


async def test_equal_timestamps_keep_insertion_order(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    created = [
        await repository.create_message(make_message(session, content=str(i))) for i in range(25)
    ]

    assert ids(await repository.get_messages_by_session(session.id)) == ids(created)
    assert ids(await repository.get_recent_messages(session.id, 10)) == ids(created[-10:])


async def test_pages_of_messages(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    created = [await repository.create_message(make_message(session)) for _ in range(7)]

    pages = [
        await repository.get_messages_by_session(session.id, limit=3, offset=offset)
        for offset in (0, 3, 6, 7, 100)
    ]

    assert [ids(page) for page in pages] == [
        ids(created[0:3]),
        ids(created[3:6]),
        ids(created[6:7]),
        [],
        [],
    ]


async def test_recent_messages_are_the_newest_oldest_first(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    created = []
    for i in range(8):
        created.append(await repository.create_message(make_message(session, created_at=at(i))))
        await repository.create_message(make_message(other))

    assert ids(await repository.get_recent_messages(session.id, 3)) == ids(created[-3:])
    assert ids(await repository.get_recent_messages(session.id, 1)) == [created[-1].id]
    assert ids(await repository.get_recent_messages(session.id, 100)) == ids(created)
    assert ids(await repository.get_recent_messages(session.id)) == ids(created)


async def test_recent_messages_after_a_delete(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    created = [await repository.create_message(make_message(session)) for _ in range(4)]

    await repository.delete_message(created[3].id)
    await repository.delete_message(created[1].id)

    assert ids(await repository.get_recent_messages(session.id, 2)) == [
        created[0].id,
        created[2].id,
    ]


async def test_update_replaces_fields_and_sets_updated_at(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    first = await repository.create_message(make_message(session))
    message = await repository.create_message(make_message(session))
    await repository.create_message(make_message(session))
    change = message.model_copy(
        update={
            "content": "edited",
            "role": MessageRole.ASSISTANT,
            "metadata": {"edited": True},
            "tool_calls": [],
            "parent_message_id": first.id,
            "created_at": at(-100),
            "updated_at": at(-100),
        }
    )
    argument = change.model_dump()

    started = now()
    updated = await repository.update_message(change)
    finished = now()

    assert updated is not change
    assert change.model_dump() == argument
    assert updated.content == "edited"
    assert updated.role is MessageRole.ASSISTANT
    assert updated.parent_message_id == first.id
    assert updated.created_at == message.created_at
    assert_recent(updated.updated_at, started, finished)
    assert await repository.get_message(message.id) == updated
    listed = await repository.get_messages_by_session(session.id)
    assert listed[1] == updated  # an update keeps the message's place
    fetched = await repository.get_session(session.id)
    assert fetched is not None and fetched.message_count == 3


async def test_update_cannot_move_a_message_to_another_session(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    message = await repository.create_message(make_message(session))

    async with unchanged(repository):
        with pytest.raises(RepositoryValidationError) as raised:
            await repository.update_message(message.model_copy(update={"session_id": other.id}))
        with pytest.raises(RepositoryValidationError):
            await repository.update_message(message.model_copy(update={"session_id": uuid4()}))
    assert "session" in str(raised.value)


async def test_update_checks_the_new_parent(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    other = await repository.create_session(make_session())
    foreign = await repository.create_message(make_message(other))
    message = await repository.create_message(make_message(session))

    async with unchanged(repository):
        with pytest.raises(NotFoundError):
            await repository.update_message(
                message.model_copy(update={"parent_message_id": uuid4()})
            )
        with pytest.raises(NotFoundError):
            await repository.update_message(
                message.model_copy(update={"parent_message_id": foreign.id})
            )


async def test_deleting_a_message_clears_its_replies_parent(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    root = await repository.create_message(make_message(session))
    replies = [
        await repository.create_message(make_message(session, parent_message_id=root.id))
        for _ in range(2)
    ]
    grandchild = await repository.create_message(
        make_message(session, parent_message_id=replies[0].id)
    )

    assert await repository.delete_message(root.id) is True

    for reply in replies:
        fetched = await repository.get_message(reply.id)
        # Like a foreign key's ON DELETE SET NULL: nothing else about the reply changes.
        assert fetched == reply.model_copy(update={"parent_message_id": None})
    assert await repository.get_message(grandchild.id) == grandchild
    assert ids(await repository.get_messages_by_session(session.id)) == [
        *ids(replies),
        grandchild.id,
    ]


async def test_a_reparented_message_is_not_cleared_by_its_old_parent(
    repository: Repository,
) -> None:
    session = await repository.create_session(make_session())
    old_parent = await repository.create_message(make_message(session))
    new_parent = await repository.create_message(make_message(session))
    reply = await repository.create_message(make_message(session, parent_message_id=old_parent.id))
    await repository.update_message(reply.model_copy(update={"parent_message_id": new_parent.id}))

    await repository.delete_message(old_parent.id)

    fetched = await repository.get_message(reply.id)
    assert fetched is not None and fetched.parent_message_id == new_parent.id


async def test_delete_message_twice(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = await repository.create_message(make_message(session))

    assert await repository.delete_message(message.id) is True
    assert await repository.delete_message(message.id) is False
    fetched = await repository.get_session(session.id)
    assert fetched is not None and fetched.message_count == 0


# -- create_messages ----------------------------------------------------------------------------


async def test_batch_of_nothing(repository: Repository) -> None:
    async with unchanged(repository):
        assert await repository.create_messages([]) == []


async def test_batch_across_sessions_keeps_list_order(repository: Repository) -> None:
    first = await repository.create_session(make_session(last_activity=at(0)))
    second = await repository.create_session(make_session(last_activity=at(0)))
    batch = [
        make_message(first, created_at=at(3)),
        make_message(second, created_at=at(9)),
        make_message(first, created_at=at(1)),
        make_message(second, created_at=at(2)),
        make_message(first, created_at=at(2)),
    ]

    created = await repository.create_messages(batch)

    assert ids(created) == ids(batch)
    for stored, wanted in zip(created, batch, strict=True):
        assert_same_entity(stored, wanted)
    assert ids(await repository.get_messages_by_session(first.id)) == ids(batch[0::2])
    assert ids(await repository.get_messages_by_session(second.id)) == ids(batch[1::2])
    one, two = await repository.get_session(first.id), await repository.get_session(second.id)
    assert one is not None and (one.message_count, one.last_activity) == (3, at(3))
    assert two is not None and (two.message_count, two.last_activity) == (2, at(9))


async def test_batch_may_reply_to_an_earlier_message_of_the_batch(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    question = make_message(session)
    answer = make_message(session, role=MessageRole.ASSISTANT, parent_message_id=question.id)

    created = await repository.create_messages([question, answer])

    assert created[1].parent_message_id == question.id


async def test_batch_with_a_missing_session_stores_nothing(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    missing = uuid4()
    batch = [make_message(session), make_message(session), make_message(missing)]

    async with unchanged(repository, missing):
        with pytest.raises(NotFoundError) as raised:
            await repository.create_messages(batch)
    assert str(missing) in str(raised.value)
    for message in batch:
        assert await repository.get_message(message.id) is None


async def test_batch_with_a_missing_parent_stores_nothing(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    batch = [make_message(session), make_message(session, parent_message_id=uuid4())]

    async with unchanged(repository):
        with pytest.raises(NotFoundError):
            await repository.create_messages(batch)


async def test_batch_with_a_duplicate_inside_stores_nothing(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    first = make_message(session)
    batch = [first, make_message(session), make_message(session, id=first.id)]

    async with unchanged(repository):
        with pytest.raises(DuplicateError) as raised:
            await repository.create_messages(batch)
    assert str(first.id) in str(raised.value)


async def test_batch_with_an_id_already_stored_stores_nothing(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    stored = await repository.create_message(make_message(session))
    batch = [make_message(session), make_message(session, id=stored.id), make_message(session)]

    async with unchanged(repository):
        with pytest.raises(DuplicateError):
            await repository.create_messages(batch)


async def test_batch_result_is_independent_of_the_arguments(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    batch = [make_message(session, metadata={"n": {"i": i}}) for i in range(3)]
    before = [m.model_dump() for m in batch]

    created = await repository.create_messages(batch)
    batch[0].metadata["n"]["i"] = 99
    created[1].metadata["n"]["i"] = 99

    assert [m.model_dump() for m in batch[1:]] == before[1:]
    assert [m.metadata for m in await repository.get_messages_by_session(session.id)] == [
        {"n": {"i": i}} for i in range(3)
    ]
