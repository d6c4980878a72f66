"""Retries of issue 6, one fault at a time, on PostgreSQL and Redis (a private server each).

- With the ``retries`` flag off, a stopped server fails the call at once; with it on, after
  the whole budget, saying so; either way the repository works again once the server is back.
- Outside a retry loop, creating an existing id is a ``DuplicateError``, even an identical one.
- A create whose reply is lost after it committed (``ReplyLosingProxy`` cuts the connection
  once the server has answered) ends, within the retry loop, as a success with one stored
  copy; with retries off it is a ``RepositoryConnectionError`` (stored or not, the caller
  cannot know), never a ``DuplicateError`` for a record the caller created once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ai_agent.config import feature_flags
from ai_agent.config.sections import RetryPolicy
from ai_agent.domain.models import Agent, Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    BaseRepository,
    DuplicateError,
    RepositoryConnectionError,
)
from integration.faults._proxy import ReplyLosingProxy
from integration.faults._targets import Target, policy

pytestmark = pytest.mark.slow

# Retries that would be obvious: the first one alone waits a second.
SLOW_RETRIES = RetryPolicy(
    max_attempts=5, base_delay=1.0, max_delay=1.0, exponential_base=2.0, jitter=False
)
# Waits exactly 0.2 + 0.2 s between three attempts.
THREE_ATTEMPTS = RetryPolicy(
    max_attempts=3, base_delay=0.2, max_delay=0.2, exponential_base=2.0, jitter=False
)
QUICK = policy(max_attempts=5, base_delay=0.05, max_delay=0.2)


def _message(session: Session, content: str) -> Message:
    return Message(session_id=session.id, role=MessageRole.USER, content=content)


async def _timed_failure(call: Awaitable[object]) -> tuple[float, str]:
    started = time.monotonic()
    with pytest.raises(RepositoryConnectionError) as caught:
        await call
    return time.monotonic() - started, str(caught.value)


async def _works_again(repository: BaseRepository, session: Session) -> None:
    """Without retries a pooled connection the restart broke may fail one call; no more."""
    for _ in range(2):
        try:
            assert await repository.get_session(session.id) == session
            return
        except RepositoryConnectionError:
            continue
    assert await repository.get_session(session.id) == session
    assert await repository.create_session(Session()) is not None


@asynccontextmanager
async def _stopped_server(
    target: Target, retry: RetryPolicy, *, retries: bool
) -> AsyncIterator[tuple[BaseRepository, Session, float, str]]:
    """Store a session, stop the server and time a create that must fail, with ``retry`` and
    the ``retries`` flag set for the whole block: yields the repository, the stored session,
    and the seconds the failure took and its message."""
    async with target.make() as repository:
        repository.retry_policy = retry
        session = await repository.create_session(Session())
        await asyncio.to_thread(target.down)
        with feature_flags.override("retries", retries):
            took, message = await _timed_failure(repository.create_session(Session()))
            yield repository, session, took, message


async def test_with_retries_off_a_stopped_server_fails_at_once(target: Target) -> None:
    async with _stopped_server(target, SLOW_RETRIES, retries=False) as stopped:
        repository, session, took, message = stopped
        assert took < 0.5, f"no retry may run: the first would wait 1 s (took {took:.2f}s)"
        assert "gave up" not in message

        await asyncio.to_thread(target.up)
        await _works_again(repository, session)


async def test_with_retries_on_a_stopped_server_fails_after_the_whole_budget(
    target: Target,
) -> None:
    async with _stopped_server(target, THREE_ATTEMPTS, retries=True) as stopped:
        repository, session, took, message = stopped
        assert "gave up after 3 attempts" in message
        assert 0.4 <= took < 3.0, f"two waits of 0.2 s, then give up (took {took:.2f}s)"

        await asyncio.to_thread(target.up)
        assert await repository.get_session(session.id) == session  # retried if need be


async def test_outside_a_retry_loop_an_existing_id_is_a_duplicate(target: Target) -> None:
    async with target.make() as repository:
        repository.retry_policy = THREE_ATTEMPTS
        with feature_flags.override("retries", True):
            session = await repository.create_session(Session(title="once"))
            message = await repository.create_message(_message(session, "once"))
            # Identical records, sent again by the caller: not a retry, so still an error.
            with pytest.raises(DuplicateError):
                await repository.create_session(session)
            with pytest.raises(DuplicateError):
                await repository.create_message(message)
            with pytest.raises(DuplicateError):
                await repository.create_messages([message])
            stored = await repository.get_session(session.id)
        assert stored is not None and stored.message_count == 1
        assert await repository.get_messages_by_session(session.id) == [message]


# -- lost replies ------------------------------------------------------------------------------

Lose = Callable[[UUID], None]  # lose the reply to the request that carries this id


async def _new_session(repository: BaseRepository, session: Session, lose: Lose) -> list[UUID]:
    new = Session(user_id=session.user_id, title="lost reply")
    lose(new.id)
    assert await repository.create_session(new) == new
    return [new.id]


async def _new_message(repository: BaseRepository, session: Session, lose: Lose) -> list[UUID]:
    message = _message(session, "lost reply")
    lose(message.id)
    assert await repository.create_message(message) == message
    return [message.id]


async def _new_batch(repository: BaseRepository, session: Session, lose: Lose) -> list[UUID]:
    batch = [_message(session, "lost reply 1"), _message(session, "lost reply 2")]
    lose(batch[0].id)
    assert await repository.create_messages(batch) == batch
    return [message.id for message in batch]


CREATES = {"session": _new_session, "message": _new_message, "batch": _new_batch}


async def _one_copy_each(repository: BaseRepository, session: Session, ids: list[UUID]) -> None:
    sessions = [s.id for s in await repository.list_sessions(session.user_id, limit=1000)]
    messages = [m.id for m in await repository.get_messages_by_session(session.id, limit=1000)]
    for identity in ids:
        assert sessions.count(identity) + messages.count(identity) == 1, identity
    stored = await repository.get_session(session.id)
    assert stored is not None and stored.message_count == len(messages)


@asynccontextmanager
async def _behind_proxy(
    target: Target, client: Callable[[int], Redis] | None = None
) -> AsyncIterator[tuple[ReplyLosingProxy, BaseRepository, Session, Lose]]:
    """A connected repository (retry policy ``QUICK``) that reaches its server via a proxy."""
    async with ReplyLosingProxy(target.port) as proxy:
        given = None if client is None else client(proxy.port)
        repository = target.make(port=proxy.port, **({} if given is None else {"client": given}))
        try:
            async with repository:
                repository.retry_policy = QUICK
                session = await repository.create_session(Session(user_id="lost-reply"))
                await repository.create_message(_message(session, "before"))

                def lose(identity: UUID) -> None:
                    proxy.lose_reply(target.marker(identity), target.reply_complete)

                yield proxy, repository, session, lose
        finally:
            if given is not None:
                await given.aclose()


async def _lost_reply_recovered(
    target: Target, kind: str, client: Callable[[int], Redis] | None = None
) -> None:
    async with _behind_proxy(target, client) as (proxy, repository, session, lose):
        with feature_flags.override("retries", True):
            ids = await CREATES[kind](repository, session, lose)
        assert proxy.lost == 1, "the proxy never lost the reply"
        await _one_copy_each(repository, session, ids)
        owner = None if kind == "session" else session.id
        assert await target.audit(repository, dict.fromkeys(ids, owner)) == []


@pytest.mark.parametrize("kind", list(CREATES))
async def test_a_create_whose_reply_was_lost_succeeds_with_one_copy(
    target: Target, kind: str
) -> None:
    await _lost_reply_recovered(target, kind)


def _redis_client_without_its_own_retries(port: int) -> Redis:
    return Redis(
        host="127.0.0.1",
        port=port,
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
    )


@pytest.mark.redis
@pytest.mark.parametrize("target", ["redis"], indirect=True)
@pytest.mark.parametrize("kind", list(CREATES))
async def test_redis_recovers_a_lost_reply_through_a_client_passed_in(
    target: Target, kind: str
) -> None:
    """A caller's client, built without redis-py's retry as ``RedisRepository`` asks."""
    await _lost_reply_recovered(target, kind, _redis_client_without_its_own_retries)


async def test_with_retries_off_a_lost_reply_is_a_connection_error(target: Target) -> None:
    async with _behind_proxy(target) as (proxy, repository, session, lose):
        new = Session(user_id=session.user_id, title="lost reply")
        lose(new.id)
        with feature_flags.override("retries", False):
            await _timed_failure(repository.create_session(new))
        assert proxy.lost == 1
        # It did commit: the caller's next step is to look, not to assume it failed.
        assert await repository.get_session(new.id) == new


# -- deletes whose reply was lost --------------------------------------------------------------


async def _delete_session(repository: BaseRepository, session: Session, lose: Lose) -> None:
    doomed = await repository.create_session(Session(user_id=session.user_id, title="doomed"))
    lose(doomed.id)
    assert await repository.delete_session(doomed.id) is True
    assert await repository.get_session(doomed.id) is None


async def _delete_message(repository: BaseRepository, session: Session, lose: Lose) -> None:
    doomed = await repository.create_message(_message(session, "doomed"))
    lose(doomed.id)
    assert await repository.delete_message(doomed.id) is True
    assert await repository.get_message(doomed.id) is None


async def _delete_agent(repository: BaseRepository, session: Session, lose: Lose) -> None:
    doomed = await repository.create_agent(Agent(name=f"doomed-{uuid4().hex}"))
    lose(doomed.id)
    assert await repository.delete_agent(doomed.id) is True
    assert await repository.get_agent(doomed.id) is None


DELETES = {"session": _delete_session, "message": _delete_message, "agent": _delete_agent}


@pytest.mark.parametrize("kind", list(DELETES))
async def test_a_delete_whose_reply_was_lost_reports_that_it_deleted(
    target: Target, kind: str
) -> None:
    """The retry finds nothing left to delete: this call deleted it, so it answers True."""
    async with _behind_proxy(target) as (proxy, repository, session, lose):
        with feature_flags.override("retries", True):
            await DELETES[kind](repository, session, lose)
            assert proxy.lost == 1, "the proxy never lost the reply"
            # Nothing deleted twice, nothing else touched; a real miss is still a miss.
            assert [m.content for m in await repository.get_messages_by_session(session.id)] == [
                "before"
            ]
            stored = await repository.get_session(session.id)
            assert stored is not None and stored.message_count == 1
            assert await repository.delete_session(uuid4()) is False


async def test_with_retries_off_a_delete_whose_reply_was_lost_is_a_connection_error(
    target: Target,
) -> None:
    async with _behind_proxy(target) as (proxy, repository, session, lose):
        lose(session.id)
        with feature_flags.override("retries", False):
            await _timed_failure(repository.delete_session(session.id))
        assert proxy.lost == 1
        assert await repository.get_session(session.id) is None  # it did delete
