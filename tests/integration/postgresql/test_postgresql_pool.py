"""The pool: sized and configured from ``DatabaseSettings``, one statement per write, owned
only when created here, and never showing the password."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import asyncpg
import pytest
from asyncpg.connection import LoggedQuery
from sqlalchemy.engine import make_url

from ai_agent.config.settings import DatabaseSettings
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import RepositoryConnectionError, RepositoryError
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository

pytestmark = pytest.mark.postgresql

MakeRepository = Callable[..., PostgreSQLRepository]


def message(session: Session) -> Message:
    return Message(session_id=session.id, role=MessageRole.USER, content="x")


async def _backends(url: str) -> int:
    """Connections of the repository (application_name ai-agent) to the test database."""
    observer = await asyncpg.connect(url)
    try:
        count: int = await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'ai-agent'"
        )
    finally:
        await observer.close()
    return count


async def test_the_pool_is_sized_from_the_settings(
    pg_url: str, make_repository: MakeRepository, repository: PostgreSQLRepository
) -> None:
    async with make_repository(pg_url, min_pool_size=2, max_pool_size=3) as sized:
        assert sized.pool is not None
        assert (sized.pool.get_min_size(), sized.pool.get_max_size()) == (2, 3)
        assert sized.pool.get_size() == 2
        session = await sized.create_session(Session(user_id="u"))
        await asyncio.gather(*(sized.create_message(message(session)) for _ in range(30)))
        assert sized.pool.get_size() <= 3
        assert await _backends(pg_url) <= 3 + 4  # this pool, plus the fixture's (max 4)


@pytest.fixture
async def statements(
    pg_url: str, make_repository: MakeRepository, repository: PostgreSQLRepository
) -> AsyncIterator[tuple[PostgreSQLRepository, list[str]]]:
    """A repository with a pool of one whose connection logs every statement it runs."""
    logged: list[str] = []

    def log(query: LoggedQuery) -> None:
        logged.append(query.query)

    async with make_repository(pg_url, min_pool_size=1, max_pool_size=1) as single:
        assert single.pool is not None
        async with single.pool.acquire() as connection:
            connection.add_query_logger(log)
        yield single, logged


async def test_every_write_is_one_statement_with_nothing_around_it(
    statements: tuple[PostgreSQLRepository, list[str]],
) -> None:
    repository, logged = statements
    session = await repository.create_session(Session(user_id="u"))
    first = await repository.create_message(message(session))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "create_message": lambda: repository.create_message(message(session)),
        "create_messages": lambda: repository.create_messages([message(session)] * 1),
        "update_session": lambda: repository.update_session(session),
        "delete_message": lambda: repository.delete_message(first.id),
        "get_recent_messages": lambda: repository.get_recent_messages(session.id, 5),
        "delete_session": lambda: repository.delete_session(session.id),
    }
    for name, call in calls.items():
        if name not in ("delete_message", "delete_session"):
            await call()  # first use per connection: asyncpg may introspect array types
        logged.clear()
        await call()
        # No BEGIN/COMMIT, no reset query on release: one statement (prepared, so one round
        # trip once cached).
        assert len(logged) == 1, (name, logged)


async def test_ssl_mode_reaches_the_driver(pg_url: str, make_repository: MakeRepository) -> None:
    async with make_repository(pg_url, ssl_mode="disable") as plain:
        assert await plain.health_check()
    # The test server has no TLS: "require" must refuse to talk to it in clear text.
    with pytest.raises(RepositoryConnectionError):
        await make_repository(pg_url, ssl_mode="require", connect_timeout=5.0).connect()


async def test_a_callers_pool_is_used_and_left_open(
    pg_url: str, repository: PostgreSQLRepository
) -> None:
    pool = await asyncpg.create_pool(
        pg_url, min_size=1, max_size=2, init=PostgreSQLRepository.init_connection
    )
    try:
        borrowed = PostgreSQLRepository(pool=pool)
        assert not borrowed.owns_pool
        async with borrowed:
            session = await borrowed.create_session(Session(metadata={"a": [1]}))
            assert await borrowed.get_session(session.id) == session
        assert not pool.is_closing()
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def _json_only(connection: Any) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


@pytest.mark.parametrize(
    ("init", "refusal"),
    [
        (None, r"init=PostgreSQLRepository\.init_connection"),
        # Without the uuid codec, ids would come back as asyncpg's UUID subclass.
        (_json_only, r"ids as uuid\.UUID"),
    ],
    ids=["no codecs", "only the json codecs"],
)
async def test_a_callers_pool_without_the_codecs_is_refused(
    pg_url: str, init: Callable[[Any], Coroutine[Any, Any, None]] | None, refusal: str
) -> None:
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=1, init=init)
    try:
        with pytest.raises(RepositoryError, match=refusal):
            await PostgreSQLRepository(pool=pool).connect()
    finally:
        await pool.close()


def test_a_repository_needs_settings_or_a_pool() -> None:
    with pytest.raises(TypeError, match="settings"):
        PostgreSQLRepository()


async def test_an_owned_pool_is_closed_and_reopened(
    pg_url: str, make_repository: MakeRepository
) -> None:
    repository = make_repository(pg_url)
    assert repository.owns_pool
    await repository.connect()
    await repository.connect()  # idempotent
    pool = repository.pool
    await repository.disconnect()
    assert pool is not None and pool.is_closing() and repository.pool is None
    with pytest.raises(RepositoryConnectionError, match="not connected"):
        await repository.list_sessions()
    async with repository:
        assert await repository.list_sessions() is not None


def test_the_url_shown_is_redacted(pg_url: str) -> None:
    password = make_url(pg_url).password
    assert password
    settings = DatabaseSettings.from_url(pg_url)
    repository = PostgreSQLRepository(settings)
    for shown in (repository.display_url, repr(repository), str(repository)):
        assert str(password) not in shown and "***" in shown
    assert PostgreSQLRepository.from_url(pg_url, max_pool_size=7).display_url == (
        repository.display_url
    )
