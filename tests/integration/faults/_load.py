"""A write load for the fault tests, and the audit of what the store kept afterwards.

``run_load`` starts ``WRITERS`` asyncio tasks that create sessions, messages and small
batches of messages as fast as a client would, takes the server down mid-load and brings it
back, and records every call: acknowledged (the id it returned) or failed (the exception).
``audit`` then reads everything back through a fresh repository and returns ``Figures``.

Every logical write carries a unique tag (a session's ``title``, a message's ``content``),
so a write stored twice, under any id, shows up as a duplicated tag.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from ai_agent.config import feature_flags
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import Repository

__all__ = ["WRITERS", "Figures", "Phases", "Tally", "audit", "run_load"]

T = TypeVar("T")

WRITERS = 20
SINGLE_MESSAGES = 3  # per session, one create_message each ...
BATCH = 2  # ... then one create_messages of this many
MAX_SESSIONS = 200  # per writer: the load is bounded even if the clock is not
PACE = 0.01  # seconds a writer waits between calls


@dataclass(frozen=True)
class Phases:
    """Seconds of load before the outage, of outage, and of load after the restart."""

    before: float = 1.0
    outage: float = 2.0
    after: float = 1.5


@dataclass
class Tally:
    """What the writers were told."""

    sessions: dict[UUID, str] = field(default_factory=dict)  # acknowledged id -> user id
    messages: dict[UUID, UUID] = field(default_factory=dict)  # acknowledged id -> session
    failures: list[tuple[type[Exception], str]] = field(default_factory=list)
    acknowledged_at: list[float] = field(default_factory=list)  # loop time of each answer
    slowest: float = 0.0  # seconds, of an acknowledged call
    down_at: float = 0.0  # loop time the server was taken down
    restart_at: float = 0.0  # ... and started again
    up_at: float = 0.0  # ... and ready

    async def attempt(self, call: Awaitable[T]) -> T | None:
        """Await one repository call; record its answer, or its failure and return None."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            result = await call
        except Exception as exc:  # every failure is recorded; the test judges its type
            self.failures.append((type(exc), str(exc)))
            return None
        finished = loop.time()
        self.slowest = max(self.slowest, finished - started)
        self.acknowledged_at.append(finished)
        return result

    def acknowledged(self) -> dict[UUID, UUID | None]:
        """Every acknowledged id: None for a session, its session's id for a message."""
        return {**dict.fromkeys(self.sessions), **self.messages}

    def acknowledged_after_restart(self) -> int:
        return sum(1 for moment in self.acknowledged_at if moment > self.up_at)


def users() -> list[str]:
    return [f"writer-{number}" for number in range(WRITERS)]


def _message(session_id: UUID, index: int) -> Message:
    return Message(session_id=session_id, role=MessageRole.USER, content=f"{session_id}/{index}")


async def _write_messages(
    repository: Repository, session_id: UUID, tally: Tally, stop: asyncio.Event
) -> None:
    # A failed message does not end the session: later ones must still count correctly.
    for index in range(SINGLE_MESSAGES):
        if stop.is_set():
            return
        await asyncio.sleep(PACE)
        stored = await tally.attempt(repository.create_message(_message(session_id, index)))
        if stored is not None:
            tally.messages[stored.id] = session_id
    await asyncio.sleep(PACE)
    batch = [_message(session_id, SINGLE_MESSAGES + index) for index in range(BATCH)]
    for message in await tally.attempt(repository.create_messages(batch)) or []:
        tally.messages[message.id] = session_id


async def _write(repository: Repository, user: str, tally: Tally, stop: asyncio.Event) -> None:
    for number in itertools.count():
        if stop.is_set() or number >= MAX_SESSIONS:
            return
        await asyncio.sleep(PACE)
        session = Session(user_id=user, title=f"{user}/{number}")
        stored = await tally.attempt(repository.create_session(session))
        if stored is None:  # maybe stored, maybe not: its messages are not attempted
            continue
        tally.sessions[stored.id] = user
        await _write_messages(repository, stored.id, tally, stop)


async def run_load(
    repository: Repository,
    down: Callable[[], None],
    up: Callable[[], object],
    phases: Phases,
) -> Tally:
    """Write from ``WRITERS`` tasks (retries on) while ``down()`` and, later, ``up()`` run."""
    tally = Tally()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with feature_flags.override("retries", True):  # tasks keep the context they start in
        tasks = [asyncio.create_task(_write(repository, user, tally, stop)) for user in users()]
    try:
        await asyncio.sleep(phases.before)
        tally.down_at = loop.time()
        await asyncio.to_thread(down)  # a thread: the writers keep running meanwhile
        await asyncio.sleep(phases.outage)
        tally.restart_at = loop.time()
        await asyncio.to_thread(up)
        tally.up_at = loop.time()
        await asyncio.sleep(phases.after)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return tally


@dataclass
class Figures:
    """What an audit found; ``problems`` lists everything that must not happen."""

    acknowledged: int
    found: int
    duplicated: int
    failed: int
    stored_unacknowledged: int
    problems: list[str]

    def line(self, label: str, tally: Tally) -> str:
        kinds = Counter(kind.__name__ for kind, _ in tally.failures)
        failed = f"{self.failed} {dict(kinds)}" if kinds else str(self.failed)
        return (
            f"[{label}] acknowledged {self.acknowledged} ({len(tally.sessions)} sessions, "
            f"{len(tally.messages)} messages) / found {self.found} / duplicated "
            f"{self.duplicated} / failed {failed}; stored but "
            f"unacknowledged {self.stored_unacknowledged}; down "
            f"{tally.up_at - tally.down_at:.1f}s (restart {tally.up_at - tally.restart_at:.1f}s), "
            f"slowest acknowledged call {tally.slowest:.1f}s, "
            f"acknowledged after restart {tally.acknowledged_after_restart()}"
        )


async def _all_sessions(repository: Repository) -> list[Session]:
    sessions: list[Session] = []
    for user in users():
        mine: list[Session] = []
        while page := await repository.list_sessions(user, limit=1000, offset=len(mine)):
            mine += page
        sessions += mine
    return sessions


async def _all_messages(repository: Repository, session_id: UUID) -> list[Message]:
    messages: list[Message] = []
    while page := await repository.get_messages_by_session(
        session_id, limit=1000, offset=len(messages)
    ):
        messages += page
    return messages


async def audit(repository: Repository, tally: Tally) -> Figures:
    """Read back every writer's sessions and their messages through ``repository``."""
    sessions = await _all_sessions(repository)
    problems: list[str] = []
    stored_messages: dict[UUID, UUID] = {}
    tags: Counter[str] = Counter(session.title or "" for session in sessions)
    for session in sessions:
        messages = await _all_messages(repository, session.id)
        if session.message_count != len(messages):
            problems.append(
                f"session {session.id}: message_count {session.message_count}, "
                f"{len(messages)} messages stored"
            )
        tags.update(message.content for message in messages)
        stored_messages.update((message.id, message.session_id) for message in messages)
    stored_sessions = {session.id for session in sessions}
    lost = [sid for sid in tally.sessions if sid not in stored_sessions]
    lost += [mid for mid, sid in tally.messages.items() if stored_messages.get(mid) != sid]
    problems += [f"acknowledged write {identity} is not stored" for identity in lost]
    duplicated = sum(count - 1 for count in tags.values())
    if duplicated:
        problems.append(f"{duplicated} writes stored more than once")
    acknowledged = len(tally.sessions) + len(tally.messages)
    found = acknowledged - len(lost)
    return Figures(
        acknowledged=acknowledged,
        found=found,
        duplicated=duplicated,
        failed=len(tally.failures),
        stored_unacknowledged=len(tags) - found,
        problems=problems,
    )
