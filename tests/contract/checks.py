"""Assertions shared by the contract tests: store snapshots, exact JSON, UTC timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database import Repository

T = TypeVar("T")

PAGE = 1000


async def _everything(page: Callable[[int, int], Awaitable[list[T]]]) -> list[T]:
    items: list[T] = []
    while True:
        batch = await page(PAGE, len(items))
        items.extend(batch)
        if len(batch) < PAGE:
            return items


async def _messages(repository: Repository, session_id: UUID) -> list[Message]:
    return await _everything(partial(repository.get_messages_by_session, session_id))


async def snapshot(repository: Repository, *session_ids: UUID) -> dict[str, Any]:
    """Everything the public API shows: all listings (each ordering) and every message.

    ``session_ids`` adds sessions to read messages of even if they are not listed (to see
    messages left behind by a deleted session).
    """
    sessions: list[Session] = await _everything(partial(repository.list_sessions, None))
    users = sorted({s.user_id for s in sessions if s.user_id is not None})
    by_user = {user: await _everything(partial(repository.list_sessions, user)) for user in users}
    threads = {}
    for session_id in sorted({s.id for s in sessions} | set(session_ids)):
        threads[session_id] = await _messages(repository, session_id)
    state: dict[str, Any] = {"sessions": sessions, "by_user": by_user, "messages": threads}
    state["agents"] = await _everything(repository.list_agents)
    for enabled in (True, False):
        state[f"tools/{enabled}"] = await _everything(partial(repository.list_tools, enabled))
        state[f"mcp_servers/{enabled}"] = await _everything(
            partial(repository.list_mcp_servers, enabled)
        )
        state[f"external_services/{enabled}"] = await _everything(
            partial(repository.list_external_services, enabled)
        )
    return state


@asynccontextmanager
async def unchanged(repository: Repository, *session_ids: UUID) -> AsyncIterator[None]:
    """Assert that the block (typically a failing call) leaves the store exactly as it was."""
    before = await snapshot(repository, *session_ids)
    yield
    after = await snapshot(repository, *session_ids)
    assert after == before, "a failed call changed the stored data"


def assert_same_json(actual: Any, expected: Any, where: str = "value") -> None:
    """Equal and of the same JSON types (``1`` is not ``1.0`` is not ``True``)."""
    assert type(actual) is type(expected), f"{where}: {actual!r} is not {expected!r}"
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys(), f"{where}: keys differ"
        for key, item in expected.items():
            assert_same_json(actual[key], item, f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: lengths differ"
        for index, item in enumerate(expected):
            assert_same_json(actual[index], item, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_same_entity(actual: Any, expected: Any) -> None:
    """Field for field, JSON fields with their types, datetimes in UTC to the microsecond."""
    assert type(actual) is type(expected)
    assert actual == expected
    for name in type(expected).model_fields:
        value, wanted = getattr(actual, name), getattr(expected, name)
        if isinstance(wanted, dict | list):
            assert_same_json(value, wanted, name)
        elif isinstance(wanted, datetime):
            assert_utc(value)
            assert value == wanted, name


def assert_utc(value: datetime) -> None:
    assert value.utcoffset() == timedelta(0), f"{value!r} is not in UTC"


def assert_recent(value: datetime, before: datetime, after: datetime) -> None:
    """``value`` is the store's "now" during a call made between ``before`` and ``after``.

    A little slack allows a database server whose clock is not the test process's.
    """
    assert_utc(value)
    slack = timedelta(seconds=2)
    assert before - slack <= value <= after + slack, f"{value} is not between {before}, {after}"


def now() -> datetime:
    return datetime.now(UTC)


def ids(items: Iterable[Any]) -> list[UUID]:
    return [item.id for item in items]
