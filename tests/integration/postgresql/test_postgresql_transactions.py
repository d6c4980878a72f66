"""``async with repository.transaction():`` on PostgreSQL: atomic blocks, savepoints, and a
pool of one that never deadlocks because calls inside a block reuse the block's connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from uuid import UUID

import pytest

from ai_agent.config.sections import RetryPolicy
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    DuplicateError,
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from integration._transactions import Boom, rolled_back

pytestmark = pytest.mark.postgresql


def message(session_id: UUID, content: str = "hello") -> Message:
    return Message(session_id=session_id, role=MessageRole.USER, content=content)


def read_when_set(
    repository: PostgreSQLRepository, event: asyncio.Event, session_id: UUID
) -> asyncio.Task[Session | None]:
    """A task that reads the session once ``event`` is set, in the context it is created in
    (inside a block: the block's; outside: one of its own)."""

    async def read() -> Session | None:
        await event.wait()
        return await repository.get_session(session_id)

    return asyncio.create_task(read())


async def message_count(repository: PostgreSQLRepository, session_id: UUID) -> int | None:
    stored = await repository.get_session(session_id)
    return None if stored is None else stored.message_count


@pytest.fixture
async def single(
    pg_url: str,
    make_repository: Callable[..., PostgreSQLRepository],
    repository: PostgreSQLRepository,  # empties the tables first
) -> AsyncIterator[PostgreSQLRepository]:
    """A repository whose pool holds exactly one connection (acquire timeout 1 s)."""
    async with make_repository(
        pg_url, min_pool_size=1, max_pool_size=1, pool_timeout=1.0
    ) as single:
        yield single


async def test_a_block_commits_every_call_together(repository: PostgreSQLRepository) -> None:
    session = Session(user_id="u")
    async with repository.transaction():
        await repository.create_session(session)
        await repository.create_message(message(session.id, "one"))
        await repository.create_messages([message(session.id, "two")])

    assert await message_count(repository, session.id) == 2
    contents = [m.content for m in await repository.get_messages_by_session(session.id)]
    assert contents == ["one", "two"]


async def test_an_exception_rolls_back_everything_and_propagates_unchanged(
    repository: PostgreSQLRepository,
) -> None:
    kept = await repository.create_session(Session(user_id="u"))
    fresh = Session(user_id="u")
    async with rolled_back(repository):
        await repository.create_session(fresh)
        await repository.create_message(message(kept.id))
        await repository.delete_session(kept.id)

    assert await repository.get_session(fresh.id) is None
    assert await message_count(repository, kept.id) == 0
    assert await repository.get_messages_by_session(kept.id) == []


@pytest.mark.parametrize("failure", [Boom, DuplicateError], ids=["exception", "failed call"])
async def test_a_failing_nested_block_rolls_back_only_its_savepoint_and_the_block_carries_on(
    repository: PostgreSQLRepository, failure: type[Exception]
) -> None:
    outer, inner, later = (Session(user_id="u") for _ in range(3))
    async with repository.transaction():
        await repository.create_session(outer)
        with pytest.raises(failure):
            async with repository.transaction():
                await repository.create_session(inner)
                if failure is Boom:
                    raise Boom
                await repository.create_session(outer)  # a duplicate: the statement fails
        await repository.create_message(message(outer.id))
        await repository.create_session(later)

    assert await repository.get_session(inner.id) is None
    assert await message_count(repository, outer.id) == 1
    assert await repository.get_session(later.id) is not None


async def test_after_a_failed_call_the_block_says_it_is_aborted_and_rolls_back(
    repository: PostgreSQLRepository,
) -> None:
    first, second = Session(user_id="u"), Session(user_id="u")
    with pytest.raises(RepositoryError, match="aborted by an earlier error"):
        async with repository.transaction():
            await repository.create_session(first)
            with pytest.raises(DuplicateError):
                await repository.create_session(first)
            await repository.create_session(second)

    assert await repository.get_session(first.id) is None
    assert await repository.get_session(second.id) is None


async def test_other_tasks_use_other_connections_and_do_not_see_uncommitted_writes(
    repository: PostgreSQLRepository,
) -> None:
    session = Session(user_id="u")
    written = asyncio.Event()
    task = read_when_set(repository, written, session.id)  # outside the block
    async with repository.transaction():
        await repository.create_session(session)
        written.set()
        assert await asyncio.wait_for(task, timeout=5) is None
        assert await repository.get_session(session.id) is not None  # this task sees it
    assert await repository.get_session(session.id) is not None


async def test_a_pool_of_one_serves_every_call_inside_a_block(
    single: PostgreSQLRepository,
) -> None:
    session = Session(user_id="u")
    async with asyncio.timeout(10):  # a second acquire would wait 1 s and fail, not hang
        async with single.transaction():
            await single.create_session(session)
            first = await single.create_message(message(session.id, "one"))
            async with single.transaction():
                await single.create_message(message(session.id, "two"))
                await single.update_message(first.model_copy(update={"content": "uno"}))
            assert await single.health_check()
            assert await single.schema_revision() is not None
            assert [s.id for s in await single.list_sessions("u")] == [session.id]
            recent = await single.get_recent_messages(session.id, 10)
            assert [m.content for m in recent] == ["uno", "two"]

    assert await message_count(single, session.id) == 2


async def test_tasks_spawned_inside_a_block_share_its_connection_one_at_a_time(
    single: PostgreSQLRepository,
) -> None:
    session = await single.create_session(Session(user_id="u"))
    async with rolled_back(single):  # the children's writes are part of the block: all roll back
        await asyncio.gather(*(single.create_message(message(session.id)) for _ in range(5)))
        assert await message_count(single, session.id) == 5

    async with single.transaction():
        await asyncio.gather(*(single.create_message(message(session.id)) for _ in range(5)))
    assert await message_count(single, session.id) == 5


async def test_a_call_outside_the_block_times_out_waiting_for_the_only_connection(
    single: PostgreSQLRepository,
) -> None:
    session = await single.create_session(Session(user_id="u"))
    inside = asyncio.Event()
    task = read_when_set(single, inside, session.id)  # outside the block
    async with single.transaction():
        started = asyncio.get_running_loop().time()
        inside.set()
        with pytest.raises(RepositoryConnectionError, match="became free within 1s"):
            await task
        assert asyncio.get_running_loop().time() - started >= 0.9
    assert await single.get_session(session.id) is not None  # the pool is fine again


async def test_a_task_that_outlives_the_block_uses_the_pool_afterwards(
    single: PostgreSQLRepository,
) -> None:
    session = Session(user_id="u")
    go = asyncio.Event()
    async with single.transaction():
        await single.create_session(session)
        task = read_when_set(single, go, session.id)  # inherits the block's context
    go.set()
    assert await asyncio.wait_for(task, timeout=5) is not None


async def test_a_nested_block_from_another_task_is_refused(
    repository: PostgreSQLRepository,
) -> None:
    async def nested() -> None:
        async with repository.transaction():
            pass

    async with repository.transaction():
        with pytest.raises(RepositoryError, match="task that opened"):
            await asyncio.create_task(nested())


async def test_transient_failures_are_not_retried_inside_a_block(
    repository: PostgreSQLRepository,
) -> None:
    policy = RetryPolicy(
        max_attempts=3, base_delay=0.01, max_delay=0.01, exponential_base=1, jitter=False
    )
    repository.retry_policy = policy
    assert repository.retry_policy is policy
    async with repository.transaction():
        # A retried statement would run in an aborted transaction (or outside the block).
        assert repository.retry_policy is None
    assert repository.retry_policy is policy


async def test_losing_the_connection_inside_a_block_is_a_connection_error(
    repository: PostgreSQLRepository,
) -> None:
    session = Session(user_id="u")
    assert repository.pool is not None
    with pytest.raises(RepositoryConnectionError):
        async with repository.transaction():
            await repository.create_session(session)
            async with repository.pool.acquire() as killer:
                pids = await killer.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'ai-agent' AND state LIKE 'idle in transaction%'"
                )
                for row in pids:
                    await killer.execute("SELECT pg_terminate_backend($1)", row["pid"])
            await repository.get_session(session.id)

    assert await repository.get_session(session.id) is None  # never committed
    assert await repository.health_check()


async def test_transaction_before_connect_is_a_connection_error(pg_url: str) -> None:
    with pytest.raises(RepositoryConnectionError, match="not connected"):
        PostgreSQLRepository.from_url(pg_url).transaction()
