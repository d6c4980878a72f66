"""Scoped state: get_states, create_session_with_state, append_message_with_state.

What the ADK adapter builds ``app:``/``user:`` state and its stale-session check on: deltas
merge key by key, in the same atomic step as the session or message they come with, and a
refused call (missing session, duplicate, stale ``if_last_activity``, bad input) changes no
state at all.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    Repository,
    RepositoryValidationError,
)

from .checks import unchanged
from .factories import RICH_JSON, at, make_message, make_session

A, B = '["app","a"]', "user:ü/🙂"


async def _states(repository: Repository) -> dict[str, dict[str, Any]]:
    return await repository.get_states([A, B])


async def test_unknown_scopes_read_empty(repository: Repository) -> None:
    assert await repository.get_states([A, B, A]) == {A: {}, B: {}}
    assert await repository.get_states([]) == {}


async def test_create_session_with_state_merges_each_scope(repository: Repository) -> None:
    session = make_session()
    stored = await repository.create_session_with_state(
        session, state={A: {"x": 1, "rich": RICH_JSON}, B: {"n": None}}
    )
    assert stored == await repository.get_session(session.id)
    assert stored.message_count == 0
    assert await _states(repository) == {A: {"x": 1, "rich": RICH_JSON}, B: {"n": None}}

    other = make_session()
    await repository.create_session_with_state(other, state={A: {"x": 2, "y": [1]}, B: {}})
    assert await _states(repository) == {
        A: {"x": 2, "rich": RICH_JSON, "y": [1]},  # shallow: x replaced, the rest kept
        B: {"n": None},
    }


async def test_create_session_with_state_duplicate_changes_no_state(
    repository: Repository,
) -> None:
    session = make_session()
    await repository.create_session_with_state(session, state={A: {"x": 1}})
    async with unchanged(repository, session.id):
        with pytest.raises(DuplicateError):
            await repository.create_session_with_state(session, state={A: {"x": 2}, B: {"y": 1}})
    assert await _states(repository) == {A: {"x": 1}, B: {}}


async def test_concurrent_creates_of_one_id_create_once(repository: Repository) -> None:
    session = make_session()
    results = await asyncio.gather(
        *(repository.create_session_with_state(session, state={A: {f"k{i}": i}}) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Session) for r in results) == 1
    assert all(isinstance(r, Session | DuplicateError) for r in results)
    assert len((await _states(repository))[A]) == 1


async def test_append_message_with_state(repository: Repository) -> None:
    session = await repository.create_session(make_session(metadata={"keep": 1}))
    message = make_message(session, created_at=at(10))
    stored = await repository.append_message_with_state(
        message,
        state={A: {"x": 1}, B: {"y": "z"}},
        session_state={"s": RICH_JSON},
        if_last_activity=session.last_activity,
    )
    assert stored == message == await repository.get_message(message.id)
    after = await repository.get_session(session.id)
    assert after is not None
    assert after.message_count == 1
    assert after.last_activity == at(10)
    assert after.metadata == {"keep": 1, "state": {"s": RICH_JSON}}
    assert after.updated_at > session.updated_at
    assert await _states(repository) == {A: {"x": 1}, B: {"y": "z"}}

    await repository.append_message_with_state(
        make_message(session, created_at=at(11)), session_state={"t": 2, "s": None}
    )
    after = await repository.get_session(session.id)
    assert after is not None and after.metadata["state"] == {"s": None, "t": 2}


async def test_session_state_replaces_a_non_object(repository: Repository) -> None:
    session = await repository.create_session(make_session(metadata={"state": [1, 2]}))
    await repository.append_message_with_state(make_message(session), session_state={"a": 1})
    after = await repository.get_session(session.id)
    assert after is not None and after.metadata == {"state": {"a": 1}}


async def test_append_without_state_is_create_message(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    message = make_message(session, created_at=at(3))
    await repository.append_message_with_state(message, state={A: {}}, session_state={})
    after = await repository.get_session(session.id)
    assert after is not None
    assert (after.metadata, after.updated_at) == (session.metadata, session.updated_at)
    assert after.message_count == 1
    assert await _states(repository) == {A: {}, B: {}}


async def test_stale_append_is_refused_and_changes_nothing(repository: Repository) -> None:
    session = await repository.create_session(make_session(last_activity=at(5)))
    async with unchanged(repository, session.id):
        with pytest.raises(ConflictError):  # the stored session is later than the caller's view
            await repository.append_message_with_state(
                make_message(session, created_at=at(6)),
                state={A: {"x": 1}},
                session_state={"s": 1},
                if_last_activity=at(4),
            )
    assert await _states(repository) == {A: {}, B: {}}
    # Equal or later is not stale; the append then moves last_activity.
    await repository.append_message_with_state(
        make_message(session, created_at=at(6)), if_last_activity=at(5)
    )
    with pytest.raises(ConflictError):
        await repository.append_message_with_state(
            make_message(session), state={A: {"x": 1}}, if_last_activity=at(5)
        )
    await repository.append_message_with_state(
        make_message(session, created_at=at(1)),
        if_last_activity=at(6).astimezone(timezone(timedelta(hours=2))),  # any zone
    )


async def test_refused_appends_change_no_state(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    existing = await repository.create_message(make_message(session))
    cases: list[tuple[Message, type[Exception]]] = [
        (make_message(make_session()), NotFoundError),  # no such session
        (existing, DuplicateError),
        (make_message(session, parent_message_id=make_message(session).id), NotFoundError),
    ]
    for message, error in cases:
        async with unchanged(repository, session.id):
            with pytest.raises(error):
                await repository.append_message_with_state(
                    message, state={A: {"x": 1}}, session_state={"s": 1}
                )
    assert await _states(repository) == {A: {}, B: {}}
    stored = await repository.get_session(session.id)
    assert stored is not None and "state" not in stored.metadata


async def test_duplicate_is_reported_before_stale(repository: Repository) -> None:
    """A retried append meets its own earlier write as a duplicate, not as a stale view."""
    session = await repository.create_session(make_session(last_activity=at(0)))
    message = make_message(session, created_at=at(9))
    await repository.append_message_with_state(message, if_last_activity=at(0))
    with pytest.raises(DuplicateError):
        await repository.append_message_with_state(message, if_last_activity=at(0))


async def test_concurrent_appends_lose_no_state(repository: Repository) -> None:
    session = await repository.create_session(make_session())
    await asyncio.gather(
        *(
            repository.append_message_with_state(
                make_message(session, created_at=at(i)),
                state={A: {f"a{i}": i}, B: {"n": i, f"b{i}": i}},
                session_state={f"s{i}": i},
            )
            for i in range(20)
        )
    )
    states = await _states(repository)
    assert states[A] == {f"a{i}": i for i in range(20)}
    assert {k: v for k, v in states[B].items() if k != "n"} == {f"b{i}": i for i in range(20)}
    stored = await repository.get_session(session.id)
    assert stored is not None
    assert stored.message_count == 20
    assert stored.metadata["state"] == {f"s{i}": i for i in range(20)}


@pytest.mark.parametrize(
    ("call", "detail"),
    [
        (lambda r: r.get_states("scope"), "scopes"),
        (lambda r: r.get_states([""]), "scope"),
        (lambda r: r.get_states(["x" * 1025]), "scope"),
        (lambda r: r.get_states(["a\x00"]), "NUL"),
        (lambda r: r.get_states([f"s{i}" for i in range(1001)]), "1000"),
        (lambda r: r.create_session_with_state(make_session(), state=[("a", {})]), "state"),
        (
            lambda r: r.create_session_with_state(make_session(), state={A: {"x": float("nan")}}),
            "nan",
        ),
        (lambda r: r.create_session_with_state(make_session(), state={A: {1: 2}}), "key"),
        (lambda r: r.create_session_with_state(make_session(), state={A: {"k" * 1025: 1}}), "key"),
        (lambda r: r.create_session_with_state(make_session(), state={A: 3}), "mapping"),
        (lambda r: r.create_session_with_state(make_session(), state={3: {}}), "scope"),
        (
            lambda r: r.append_message_with_state(make_message(make_session()), session_state=[]),
            "session_state",
        ),
        (
            lambda r: r.append_message_with_state(
                make_message(make_session()), session_state={"a": {1}}
            ),
            "set",
        ),
        (
            lambda r: r.append_message_with_state(
                make_message(make_session()),
                if_last_activity=datetime(2024, 1, 1),  # noqa: DTZ001
            ),
            "timezone",
        ),
    ],
)
async def test_bad_state_arguments_are_refused(
    repository: Repository, call: Any, detail: str
) -> None:
    async with unchanged(repository):
        with pytest.raises(RepositoryValidationError, match=detail):
            await call(repository)
    assert await _states(repository) == {A: {}, B: {}}


async def test_deltas_are_copies(repository: Repository) -> None:
    delta: dict[str, Any] = {"list": [1]}
    session = await repository.create_session_with_state(make_session(), state={A: delta})
    delta["list"].append(2)
    read = await repository.get_states([A])
    assert read == {A: {"list": [1]}}
    read[A]["list"].append(3)
    assert await repository.get_states([A]) == {A: {"list": [1]}}
    assert session.metadata == make_session().metadata


async def test_state_outlives_its_sessions(repository: Repository) -> None:
    session = make_session()
    await repository.create_session_with_state(session, state={A: {"x": 1}})
    assert await repository.delete_session(session.id)
    assert await repository.get_states([A]) == {A: {"x": 1}}
