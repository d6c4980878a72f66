"""pop_message, clear_messages and iter_messages at the key level, on a single server and a
cluster (``target``): what they leave behind, TTLs, and the cross-slot message pointers."""

from __future__ import annotations

from uuid import uuid4

from ai_agent.domain.models import Session
from integration.redis._helpers import MakeRepository, message, raw_client, stored_keys


async def test_pop_drops_the_pointer_of_the_popped_message_only(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session())
    first = await repository.create_message(message(session))
    newest = await repository.create_message(message(session, parent_message_id=first.id))

    popped = await repository.pop_message(session.id)

    assert popped == newest
    assert await client.exists(keys.pointer(newest.id)) == 0
    assert str(await client.get(keys.pointer(first.id))).startswith(str(session.id))
    assert await client.hgetall(keys.replies(session.id)) == {}  # its link to first is gone
    assert await client.hget(keys.session(session.id), "count") == "1"
    # The id is free again, in any session.
    other = await repository.create_session(Session())
    moved = await repository.create_message(
        newest.model_copy(update={"session_id": other.id, "parent_message_id": None})
    )
    assert await repository.get_message(newest.id) == moved


async def test_clear_keeps_only_the_session_hash_and_its_indexes(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository(session_ttl=300)
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session(user_id="u", title="kept"))
    other = await repository.create_session(Session())
    first = await repository.create_message(message(session))
    await repository.create_messages(
        [message(session, parent_message_id=first.id) for _ in range(30)]
    )
    kept = await repository.create_message(message(other))
    before = await client.hgetall(keys.session(session.id))
    others_keys = {key for key in await stored_keys(repository) if str(other.id) in key}

    assert await repository.clear_messages(session.id) == 31

    after = await client.hgetall(keys.session(session.id))
    assert (before.pop("count"), after.pop("count")) == ("31", "0")
    before.pop("ptr", None)  # when the pointers were last re-armed: may move
    after.pop("ptr", None)
    assert after == before  # doc, created, activity, user, and seq: no position repeats
    remaining = {key for key in await stored_keys(repository) if str(session.id) in key}
    assert remaining == {keys.session(session.id)}
    for index in (keys.sessions, keys.user_sessions("u")):
        assert await client.zscore(index, str(session.id)) is not None, index
    assert {key for key in await stored_keys(repository) if str(other.id) in key} == others_keys
    assert await repository.get_message(kept.id) == kept
    assert 290 < await client.ttl(keys.session(session.id)) <= 300


async def test_pop_and_clear_refresh_the_session_ttl(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=300)
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session())
    await repository.create_messages([message(session) for _ in range(3)])
    watched = keys.session_slot(session.id)[:3]  # no replies hash: no message has a parent

    for write in (repository.pop_message, repository.clear_messages):
        for key in watched:
            await client.expire(key, 5)
        await write(session.id)
        assert await client.ttl(keys.session(session.id)) > 290
        for key in watched[1:]:
            left = await client.ttl(key)
            assert left > 290 or left == -2, key  # -2: emptied (clear deletes them)


async def test_nothing_is_written_for_an_unknown_or_empty_session(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    session = await repository.create_session(Session())
    before = await stored_keys(repository)

    assert await repository.pop_message(uuid4()) is None
    assert await repository.clear_messages(uuid4()) == 0
    assert await repository.pop_message(session.id) is None
    assert [m async for m in repository.iter_messages(uuid4())] == []

    assert await stored_keys(repository) == before


async def test_iter_pages_by_sequence_past_deleted_and_cleared_messages(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    session = await repository.create_session(Session())
    old = await repository.create_messages([message(session) for _ in range(5)])
    await repository.clear_messages(session.id)
    fresh = await repository.create_messages([message(session) for _ in range(7)])
    await repository.delete_message(fresh[3].id)
    await repository.pop_message(session.id)

    seen = [m.id async for m in repository.iter_messages(session.id, batch_size=2)]

    assert seen == [m.id for m in fresh[:3] + fresh[4:6]]
    assert not set(seen) & {m.id for m in old}
