"""Retention (``retention.prune`` and the maintenance operations) on every backend:
exact counts and order after pruning, bounded batches, dry runs, bad arguments."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database import BaseRepository, Repository, RepositoryValidationError
from ai_agent.infrastructure.database.retention import RetentionPolicy, prune
from contract.checks import ids
from contract.factories import at, make_message, make_session

NOW = at(100 * 86400)  # 100 days after T0


def _backend(repository: Repository) -> BaseRepository:
    assert isinstance(repository, BaseRepository)
    return repository


async def _session_with(
    repository: Repository, count: int, *, day: float
) -> tuple[Session, list[Message]]:
    session = await repository.create_session(make_session(last_activity=at(day * 86400)))
    messages = [make_message(session, created_at=at(day * 86400 - count + i)) for i in range(count)]
    if messages:
        await repository.create_messages(messages)
    return session, messages


async def test_prune_deletes_old_sessions_with_their_messages(repository: Repository) -> None:
    old, old_messages = await _session_with(repository, 3, day=10)
    older, _ = await _session_with(repository, 2, day=5)
    recent, recent_messages = await _session_with(repository, 4, day=95)

    report = await prune(_backend(repository), RetentionPolicy(session_max_age_days=30), now=NOW)

    assert (report.sessions_deleted, report.messages_deleted) == (2, 5)
    assert await repository.get_session(old.id) is None
    assert await repository.get_session(older.id) is None
    assert await repository.get_message(old_messages[0].id) is None
    assert ids(await repository.list_sessions()) == [recent.id]
    assert ids(await repository.get_messages_by_session(recent.id)) == ids(recent_messages)


async def test_prune_trims_long_sessions_to_their_newest(repository: Repository) -> None:
    long, messages = await _session_with(repository, 25, day=99)
    short, short_messages = await _session_with(repository, 3, day=99)

    report = await prune(
        _backend(repository), RetentionPolicy(max_messages_per_session=5), now=NOW, batch_size=7
    )

    assert (report.sessions_trimmed, report.messages_deleted) == (1, 20)
    assert ids(await repository.get_messages_by_session(long.id)) == ids(messages[-5:])
    assert ids([m async for m in repository.iter_messages(long.id)]) == ids(messages[-5:])
    stored = await repository.get_session(long.id)
    assert stored is not None and stored.message_count == 5
    assert ids(await repository.get_messages_by_session(short.id)) == ids(short_messages)
    # The session itself is untouched apart from its count.
    assert stored.last_activity == long.last_activity and stored.title == long.title


async def test_keep_zero_empties_every_session(repository: Repository) -> None:
    first, _ = await _session_with(repository, 3, day=99)
    second, _ = await _session_with(repository, 1, day=99)

    report = await prune(_backend(repository), RetentionPolicy(max_messages_per_session=0))

    assert (report.sessions_trimmed, report.messages_deleted) == (2, 4)
    for session in (first, second):
        assert await repository.get_messages_by_session(session.id) == []


async def test_dry_run_counts_and_deletes_nothing(repository: Repository) -> None:
    old, _ = await _session_with(repository, 3, day=10)
    long, _ = await _session_with(repository, 8, day=99)
    policy = RetentionPolicy(session_max_age_days=30, max_messages_per_session=5)

    report = await prune(_backend(repository), policy, dry_run=True, now=NOW)

    assert report.dry_run
    assert (report.sessions_deleted, report.sessions_trimmed, report.messages_deleted) == (1, 1, 6)
    assert await repository.get_session(old.id) is not None
    assert len(await repository.get_messages_by_session(long.id)) == 8


async def test_an_empty_policy_changes_nothing(repository: Repository) -> None:
    session, messages = await _session_with(repository, 3, day=1)
    report = await prune(_backend(repository), RetentionPolicy(), now=NOW)
    assert (report.sessions_deleted, report.messages_deleted, report.sessions_trimmed) == (0, 0, 0)
    assert ids(await repository.get_messages_by_session(session.id)) == ids(messages)


async def test_prune_batches_are_bounded(repository: Repository) -> None:
    backend = _backend(repository)
    for day in range(1, 6):
        await _session_with(repository, 1, day=day)

    assert await backend.prune_sessions(at(10 * 86400), limit=2) == (2, 2)
    assert await backend.count_inactive_sessions(at(10 * 86400)) == (3, 3)
    long, messages = await _session_with(repository, 10, day=50)
    assert await backend.trim_messages(long.id, keep=2, limit=3) == 3
    assert ids(await repository.get_messages_by_session(long.id)) == ids(messages[3:])
    assert await backend.trim_messages(uuid4(), keep=0) == 0


async def test_trimming_while_appending_keeps_counts_exact(repository: Repository) -> None:
    backend = _backend(repository)
    session, _ = await _session_with(repository, 40, day=99)

    async def append(index: int) -> None:
        await repository.create_message(make_message(session, created_at=at(99 * 86400 + index)))

    await asyncio.gather(
        *(append(i) for i in range(20)),
        *(backend.trim_messages(session.id, 10, 5) for _ in range(6)),
    )

    stored = await repository.get_session(session.id)
    remaining = await repository.get_messages_by_session(session.id, 1000)
    assert stored is not None and stored.message_count == len(remaining)
    assert len(remaining) >= 10


async def test_long_sessions_pages_by_id(repository: Repository) -> None:
    backend = _backend(repository)
    made = [(await _session_with(repository, n, day=99))[0] for n in (1, 3, 4, 5)]
    expected = sorted((s.id, n) for s, n in zip(made[1:], (3, 4, 5), strict=True))

    first = await backend.long_sessions(2, limit=2)
    rest = await backend.long_sessions(2, after=first[-1][0], limit=2)

    assert first + rest == expected
    assert all(type(session_id) is type(uuid4()) for session_id, _ in first + rest)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda b: b.prune_sessions(NOW.replace(tzinfo=None)), "inactive_before"),
        (lambda b: b.prune_sessions(NOW, limit=0), "limit"),
        (lambda b: b.trim_messages(uuid4(), keep=-1), "keep"),
        (lambda b: b.trim_messages(uuid4(), keep=True), "keep"),
        (lambda b: b.trim_messages("nope", keep=1), "session id"),
        (lambda b: b.long_sessions(1.5), "more_than"),
    ],
)
async def test_bad_arguments_are_validation_errors(
    repository: Repository, call: object, match: str
) -> None:
    session, messages = await _session_with(repository, 2, day=1)
    with pytest.raises(RepositoryValidationError, match=match):
        await call(_backend(repository))  # type: ignore[operator]
    assert ids(await repository.get_messages_by_session(session.id)) == ids(messages)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_policy_rejects_bad_ages(value: object) -> None:
    with pytest.raises(RepositoryValidationError, match="session_max_age_days"):
        RetentionPolicy(session_max_age_days=value)  # type: ignore[arg-type]


def test_policy_reads_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from ai_agent.config.sections import RetentionSettings

    monkeypatch.setenv("RETENTION_SESSION_MAX_AGE_DAYS", "30")
    monkeypatch.setenv("RETENTION_MAX_MESSAGES_PER_SESSION", "200")
    policy = RetentionPolicy.from_settings(RetentionSettings())
    assert policy == RetentionPolicy(30, 200)
    assert policy.cutoff(NOW) == NOW - timedelta(days=30)
