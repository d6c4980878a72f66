"""``async with repository.transaction():`` and the lock that serialises tasks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ai_agent.domain.models import Agent, Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    RepositoryConnectionError,
)
from ai_agent.infrastructure.database.sqlite import SQLiteRepository
from integration._transactions import rolled_back

pytestmark = pytest.mark.sqlite


def message(session: Session, content: str = "hello") -> Message:
    return Message(session_id=session.id, role=MessageRole.USER, content=content)


async def test_a_block_commits_every_call_together(repository: SQLiteRepository) -> None:
    session = Session(user_id="u")
    async with repository.transaction() as same:
        assert same is repository
        await repository.create_session(session)
        await repository.create_message(message(session, "one"))
        await repository.create_messages([message(session, "two"), message(session, "three")])
    stored = await repository.get_session(session.id)
    assert stored is not None and stored.message_count == 3
    contents = [m.content for m in await repository.get_messages_by_session(session.id)]
    assert contents == ["one", "two", "three"]


async def test_an_exception_rolls_back_every_call_in_the_block(
    repository: SQLiteRepository,
) -> None:
    kept = await repository.create_session(Session(user_id="u"))
    async with rolled_back(repository):
        await repository.create_session(Session(user_id="u"))
        await repository.create_message(message(kept))
        await repository.create_agent(Agent(name="temporary"))
    assert await repository.list_sessions(user_id="u") == [kept]
    assert await repository.get_messages_by_session(kept.id) == []
    assert await repository.list_agents() == []


async def test_a_failed_call_inside_a_block_undoes_only_itself(
    repository: SQLiteRepository,
) -> None:
    session = await repository.create_session(Session())
    first = message(session, "first")
    async with repository.transaction():
        await repository.create_message(first)
        with pytest.raises(DuplicateError):
            await repository.create_messages([message(session, "lost"), first])
        with pytest.raises(NotFoundError):
            await repository.create_message(message(Session(), "nowhere"))
        await repository.create_message(message(session, "second"))
    contents = [m.content for m in await repository.get_messages_by_session(session.id)]
    assert contents == ["first", "second"]
    stored = await repository.get_session(session.id)
    assert stored is not None and stored.message_count == 2


async def test_a_nested_block_is_a_savepoint(repository: SQLiteRepository) -> None:
    async with repository.transaction():
        await repository.create_agent(Agent(name="outer"))
        async with rolled_back(repository):
            await repository.create_agent(Agent(name="inner"))
        async with repository.transaction():
            await repository.create_agent(Agent(name="inner-kept"))
    assert [agent.name for agent in await repository.list_agents()] == ["inner-kept", "outer"]


async def test_other_tasks_wait_for_the_block_and_never_see_its_rows(
    repository: SQLiteRepository,
) -> None:
    inside = asyncio.Event()
    seen: list[int] = []

    async def reader() -> None:
        await inside.wait()
        seen.append(len(await repository.list_agents()))

    async def writer() -> None:
        await inside.wait()
        await repository.create_agent(Agent(name="from-another-task"))

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    async with rolled_back(repository):
        await repository.create_agent(Agent(name="uncommitted"))
        inside.set()
        await asyncio.sleep(0.05)  # the other tasks run now, and must wait
        assert seen == []
    await asyncio.gather(*tasks)
    assert seen == [0]
    assert [agent.name for agent in await repository.list_agents()] == ["from-another-task"]


async def test_concurrent_blocks_run_one_after_another(repository: SQLiteRepository) -> None:
    session = await repository.create_session(Session())

    async def append_pair(index: int) -> None:
        async with repository.transaction():
            await repository.create_message(message(session, f"{index}-a"))
            await asyncio.sleep(0)  # invite interleaving; the lock must prevent it
            await repository.create_message(message(session, f"{index}-b"))

    await asyncio.gather(*(append_pair(index) for index in range(10)))
    contents = [m.content for m in await repository.get_messages_by_session(session.id)]
    assert len(contents) == 20
    for first, second in zip(contents[::2], contents[1::2], strict=True):
        assert first.split("-")[0] == second.split("-")[0]


async def test_fifty_concurrent_creates_add_exactly_fifty(repository: SQLiteRepository) -> None:
    session = await repository.create_session(Session())
    await asyncio.gather(*(repository.create_message(message(session)) for _ in range(50)))
    stored = await repository.get_session(session.id)
    assert stored is not None and stored.message_count == 50


async def test_a_block_needs_a_connection(database: Path) -> None:
    with pytest.raises(RepositoryConnectionError):
        async with SQLiteRepository(database).transaction():
            pass  # pragma: no cover


async def test_a_block_waiting_for_another_process_gives_up_with_a_conflict(
    database: Path,
) -> None:
    import sqlite3

    holder = sqlite3.connect(database, isolation_level=None)
    try:
        async with SQLiteRepository(database, busy_timeout=0.1) as repository:
            holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            with pytest.raises(ConflictError, match="locked"):
                async with repository.transaction():
                    pass  # pragma: no cover
            with pytest.raises(ConflictError, match="nothing was written"):
                await repository.create_session(Session())
            holder.execute("ROLLBACK")
            assert await repository.create_session(Session()) is not None
    finally:
        holder.close()


async def test_the_blocks_own_exceptions_pass_through_untranslated(
    repository: SQLiteRepository,
) -> None:
    import sqlite3

    mine = sqlite3.OperationalError("raised by the caller, not by the repository")
    with pytest.raises(sqlite3.OperationalError) as caught:
        async with repository.transaction():
            await repository.create_agent(Agent(name="rolled-back"))
            raise mine
    assert caught.value is mine
    assert await repository.list_agents() == []


async def test_a_task_started_inside_the_block_runs_after_it(
    repository: SQLiteRepository,
) -> None:
    # The block belongs to the task that opened it; tasks it starts are other tasks.
    async with repository.transaction():
        await repository.create_agent(Agent(name="first"))
        later = asyncio.create_task(repository.create_agent(Agent(name="second")))
        await asyncio.sleep(0.02)
        assert not later.done()
    await later
    assert [agent.name for agent in await repository.list_agents()] == ["first", "second"]
