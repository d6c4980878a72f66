"""Key layout, hash slots, TTLs and their refresh, and index repair on a single server and a
cluster (``target``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from redis.crc import key_slot

from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import (
    Agent,
    ExternalService,
    ExternalServiceType,
    MCPServer,
    Session,
    Tool,
)
from ai_agent.infrastructure.database import (
    DuplicateError,
    NotFoundError,
    RedisRepository,
    RepositoryValidationError,
)
from integration.redis._helpers import MakeRepository, message, raw_client, stored_keys, ttl


async def test_keys_have_the_documented_shapes(make_repository: MakeRepository) -> None:
    repository = await make_repository(key_prefix=f"app-{uuid4().hex[:8]}")
    session = await repository.create_session(Session(user_id="alice"))
    first = await repository.create_message(message(session))
    second = await repository.create_message(message(session, parent_message_id=first.id))
    server = await repository.create_mcp_server(MCPServer(name="s", endpoint="http://s"))
    await repository.create_tool(Tool(name="t", mcp_server_id=server.id))
    await repository.create_agent(Agent(name="a"))
    await repository.create_external_service(
        ExternalService(name="e", service_type=ExternalServiceType.CACHE, endpoint="redis://e")
    )

    p, sid = f"{repository.keys.prefix}:v1", session.id
    catalog = f"{p}:catalog:{{{repository.keys.prefix}}}"
    assert await stored_keys(repository) == {
        f"{p}:session:{{{sid}}}",
        f"{p}:session:{{{sid}}}:messages",
        f"{p}:session:{{{sid}}}:order",
        f"{p}:session:{{{sid}}}:replies",
        f"{p}:message:{{{first.id}}}",
        f"{p}:message:{{{second.id}}}",
        f"{p}:sessions",
        f"{p}:user-sessions:alice",
        *(f"{catalog}:{kind}s" for kind in ("agent", "tool", "mcp_server", "external_service")),
        *(f"{catalog}:{kind}s:by-name" for kind in ("agent", "tool", "mcp_server")),
        f"{catalog}:external_services:by-name",
        *(f"{catalog}:{kind}s:enabled" for kind in ("tool", "mcp_server", "external_service")),
        f"{catalog}:mcp_servers:tools",
    }


async def test_a_session_and_its_messages_share_one_slot(make_repository: MakeRepository) -> None:
    repository = await make_repository()
    keys = repository.keys
    slots = {key_slot(key.encode()) for key in keys.session_slot(uuid4())}
    assert len(slots) == 1
    catalog = [key for kind in ("agent", "tool") for key in keys.catalog_keys(kind)]
    assert len({key_slot(key.encode()) for key in catalog}) == 1


@pytest.mark.parametrize("prefix", ["", "a{b}", "nul\x00"])
def test_a_prefix_that_would_break_hash_tags_is_rejected(prefix: str) -> None:
    with pytest.raises(RepositoryValidationError, match="prefix"):
        RedisRepository(RedisSettings.model_construct(key_prefix=prefix))


async def test_session_keys_expire_and_catalog_keys_never(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=120)
    keys = repository.keys
    session = await repository.create_session(Session(user_id="u"))
    reply = await repository.create_message(message(session))
    await repository.create_message(message(session, parent_message_id=reply.id))
    agent = await repository.create_agent(Agent(name="a"))

    for key in keys.session_slot(session.id):
        assert 110 <= await ttl(repository, key) <= 120, key
    for key in [keys.pointer(reply.id), keys.sessions, keys.user_sessions("u")]:
        assert 230 <= await ttl(repository, key) <= 240, key  # 2 x TTL, re-armed when due
    for key in keys.catalog_keys("agent")[:2]:
        assert await ttl(repository, key) == -1, key
    assert await repository.get_agent(agent.id) == agent


async def test_every_write_to_a_session_refreshes_its_ttl(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=300)
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session(user_id="u"))
    first = await repository.create_message(message(session))
    second = await repository.create_message(message(session, parent_message_id=first.id))
    watched = keys.session_slot(session.id)

    async def shorten() -> None:
        for key in watched:
            await client.expire(key, 5)

    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: repository.create_message(message(session)),
        lambda: repository.update_session(session),
        lambda: repository.update_message(second),
        lambda: repository.delete_message(first.id),
    ]
    for write in writes:
        await shorten()
        await write()
        for key in watched:
            left = await ttl(repository, key)
            assert left > 290 or (key.endswith(":replies") and left == -2), key  # -2: emptied


async def test_indexes_are_re_armed_with_the_pointers(make_repository: MakeRepository) -> None:
    # Indexes live 2 x TTL: an append re-arms them only when the pointers are due (TTL/2
    # after the last re-arm), so a session never outlives them; creates and updates always.
    repository = await make_repository(session_ttl=100)
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session(user_id="u"))
    indexes = [keys.sessions, keys.user_sessions("u")]

    async def shorten() -> None:
        for key in indexes:
            await client.expire(key, 30)

    await shorten()
    await repository.create_message(message(session))  # not due: left as they are
    for key in indexes:
        assert await ttl(repository, key) <= 30, key

    await client.hset(keys.session(session.id), "ptr", int(time.time()) - 60)  # TTL/2 ago
    await repository.create_message(message(session))
    for key in indexes:
        assert await ttl(repository, key) > 190, key

    await shorten()
    await repository.update_session(session)
    for key in indexes:
        assert await ttl(repository, key) > 190, key
    assert await ttl(repository, keys.session(session.id)) > 90


async def test_no_ttl_when_session_ttl_is_zero(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=0)
    session = await repository.create_session(Session(user_id="u"))
    created = await repository.create_message(message(session))
    keys = repository.keys
    for key in [keys.session(session.id), keys.messages(session.id), keys.pointer(created.id)]:
        assert await ttl(repository, key) == -1, key


async def test_pointers_are_re_armed_once_due(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=100)
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session())
    old = await repository.create_message(message(session))
    await client.expire(keys.pointer(old.id), 30)

    await repository.create_message(message(session))  # re-armed at create: not due yet
    assert await ttl(repository, keys.pointer(old.id)) <= 30

    await client.hset(keys.session(session.id), "ptr", int(time.time()) - 60)  # TTL/2 ago
    await repository.create_message(message(session))
    assert await ttl(repository, keys.pointer(old.id)) > 190
    assert await repository.get_message(old.id) == old


async def test_expired_sessions_leave_the_listing(make_repository: MakeRepository) -> None:
    repository = await make_repository(session_ttl=1)
    client, keys = raw_client(repository), repository.keys
    gone = await repository.create_session(Session(user_id="u"))
    await asyncio.sleep(1.3)
    kept = await repository.create_session(Session(user_id="u"))  # re-arms the indexes' TTL

    assert await repository.get_session(gone.id) is None
    assert [s.id for s in await repository.list_sessions("u")] == [kept.id]
    assert [s.id for s in await repository.list_sessions()] == [kept.id]
    assert await client.zscore(keys.user_sessions("u"), str(gone.id)) is None
    assert await client.zscore(keys.sessions, str(gone.id)) is None


async def test_dead_entries_before_the_offset_do_not_shift_pages(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    client = raw_client(repository)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    sessions = [
        await repository.create_session(Session(last_activity=t0 + timedelta(minutes=i)))
        for i in range(6)
    ]
    newest_first = sessions[::-1]
    for dead in (newest_first[0], newest_first[2]):  # as if they had expired
        await client.delete(repository.keys.session(dead.id))
    alive = [s.id for s in newest_first if s not in (newest_first[0], newest_first[2])]

    assert [s.id for s in await repository.list_sessions(limit=2, offset=1)] == alive[1:3]
    assert await client.zcard(repository.keys.sessions) == 4
    assert [s.id for s in await repository.list_sessions()] == alive


async def test_activity_is_compared_exactly_at_the_ends_of_time(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    start = datetime(1, 1, 1, tzinfo=UTC)  # -6.2e16 µs: a double cannot tell 1 µs apart here
    session = await repository.create_session(Session(last_activity=start))
    later = start + timedelta(microseconds=1)
    await repository.create_message(message(session, created_at=later))
    stored = await repository.get_session(session.id)
    assert stored is not None
    assert stored.last_activity == later

    await repository.create_message(message(session, created_at=start))  # never moves back
    stored = await repository.get_session(session.id)
    assert stored is not None
    assert stored.last_activity == later


async def test_text_that_is_not_unicode_is_rejected_cleanly(
    make_repository: MakeRepository,
) -> None:
    repository = await make_repository()
    # Built past validation: the models reject lone surrogates, and so must the repository.
    agent = Agent.model_construct(name="a", description="lone \ud800 surrogate")
    with pytest.raises(RepositoryValidationError, match="surrogate"):
        await repository.create_agent(agent)
    session = Session.model_construct(metadata={"k": "\udfff"})
    with pytest.raises(RepositoryValidationError, match="surrogate"):
        await repository.create_session(session)
    assert await repository.list_agents() == []
    assert await repository.list_sessions() == []


async def test_a_refused_batch_leaves_no_pointer(make_repository: MakeRepository) -> None:
    # The single-server script claims each pointer while validating (SET NX GET) and must
    # release what it claimed when a later message is refused.
    repository = await make_repository()
    client, keys = raw_client(repository), repository.keys
    session = await repository.create_session(Session())
    other = await repository.create_session(Session())
    taken = await repository.create_message(message(other))
    fresh = [message(session), message(session)]

    with pytest.raises(NotFoundError):
        await repository.create_messages([*fresh, message(session, parent_message_id=uuid4())])
    assert [await client.exists(keys.pointer(m.id)) for m in fresh] == [0, 0]

    with pytest.raises(DuplicateError):
        await repository.create_messages(
            [*fresh, taken.model_copy(update={"session_id": session.id})]
        )
    assert [await client.exists(keys.pointer(m.id)) for m in fresh] == [0, 0]
    assert str(await client.get(keys.pointer(taken.id))).startswith(str(other.id))
    assert await repository.get_messages_by_session(session.id) == []


async def test_a_prefix_with_quotes_and_escapes_is_rendered_into_the_scripts_safely(
    make_repository: MakeRepository,
) -> None:
    # The key templates are Lua string literals in the scripts' source (_queries.py): no
    # prefix may end the literal, escape it, or change the keys the scripts write.
    prefix = f"t-{uuid4().hex[:8]}'\"]]\\n\n%s é"
    repository = await make_repository(key_prefix=prefix)
    session = await repository.create_session(Session(user_id="u"))
    created = await repository.create_message(message(session))

    assert await repository.get_recent_messages(session.id, 5) == [created]
    assert [s.id for s in await repository.list_sessions(user_id="u")] == [session.id]
    keys = repository.keys
    expected = {*keys.session_slot(session.id)[:3], keys.pointer(created.id)}
    expected |= {keys.sessions, keys.user_sessions("u")}
    assert expected <= await stored_keys(repository)
    assert all(key.startswith(f"{prefix}:v1:") for key in await stored_keys(repository))
