"""Copying every entity from one repository to another, and checking that they agree.

Works between any two backends through the public contract, in batches::

    async with RepositoryFactory.from_url(source_url) as source, \\
            RepositoryFactory.from_url(target_url) as target:
        report = await copy_repository(source, target, batch_size=500)
        differences = await compare_repositories(source, target)

The copy is idempotent by id: what the target already holds identically is skipped, so a
copy interrupted at any point and run again ends complete with nothing duplicated. It never
deletes or overwrites what the target holds: a record the target holds in another version
(or a name taken there by another id) is reported as a conflict. Kinds go in dependency
order (MCP servers before the tools that name them, sessions before their messages), and a
session's messages go in insertion order with ``create_messages``, so ids, timestamps,
parents, counts and order arrive as they were. The source should be quiet while it is read:
listings page by offset, so a session whose activity moves during the copy may be missed
(run the copy again, or compare afterwards).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import DomainModel, Message, Session
from ai_agent.infrastructure.database.calls import same_write
from ai_agent.infrastructure.database.contract import MAX_LIMIT, Repository
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    OperationDisabledError,
)

__all__ = [
    "KINDS",
    "CopyReport",
    "KindSummary",
    "compare_repositories",
    "copy_repository",
    "summarize",
]

M = TypeVar("M", bound=DomainModel)
Progress = Callable[[str, int], None]

#: Kinds in copy order: whatever another kind names comes first.
KINDS = ("mcp_servers", "tools", "agents", "external_services", "sessions", "messages")
_CATALOG = {
    "mcp_servers": "mcp_server",
    "tools": "tool",
    "agents": "agent",
    "external_services": "external_service",
}


@dataclass
class CopyReport:
    """What a copy did, per kind: records written, records the target already held
    identically, and conflicts (the target holds another version, or a name is taken)."""

    copied: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KindSummary:
    """How many records of one kind a repository holds, and a checksum of all of them."""

    count: int
    checksum: str


# -- reading everything ------------------------------------------------------------------------


async def _all_pages(page: Callable[[int, int], Awaitable[list[M]]]) -> AsyncIterator[list[M]]:
    offset = 0
    while True:
        batch = await page(MAX_LIMIT, offset)
        if batch:
            yield batch
        if len(batch) < MAX_LIMIT:
            return
        offset += len(batch)


def _pages(repository: Repository, kind: str) -> AsyncIterator[list[Any]]:
    if kind == "sessions":
        return _all_pages(lambda limit, offset: repository.list_sessions(None, limit, offset))
    if kind == "agents":
        return _all_pages(repository.list_agents)
    lister = getattr(repository, f"list_{kind}")
    return _all_pages(lambda limit, offset: lister(False, limit, offset))


# -- copying ------------------------------------------------------------------------------------


async def copy_repository(
    source: Repository,
    target: Repository,
    *,
    batch_size: int = 500,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every entity of ``source`` into ``target`` (see the module docstring).

    ``concurrency`` sessions are copied at a time (each one's messages in order), so that
    reading one store and writing the other overlap. ``progress(kind, n)`` is called after
    each batch with the number of records handled.
    """
    if not 1 <= batch_size <= MAX_LIMIT:
        raise ValueError(f"batch_size must be from 1 to {MAX_LIMIT}, got {batch_size}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    report = CopyReport()
    for kind in KINDS[:-2]:
        async for page in _pages(source, kind):
            for entity in page:
                await _copy_one(target, kind, entity, report)
            if progress is not None:
                progress(kind, len(page))
    slots = asyncio.Semaphore(concurrency)

    async def copy_session(session: Session) -> None:
        async with slots:
            if await _copy_one(target, "sessions", session, report):  # then its messages
                await _copy_thread(source, target, session, batch_size, report, progress)

    async for page in _pages(source, "sessions"):
        await asyncio.gather(*(copy_session(session) for session in page))
        if progress is not None:
            progress("sessions", len(page))
    return report


async def _copy_thread(
    source: Repository,
    target: Repository,
    session: Session,
    batch_size: int,
    report: CopyReport,
    progress: Progress | None,
) -> None:
    """Copy one session's messages in order, after what an earlier run already copied."""
    done = await _copied_before(source, target, session.id)
    report.skipped["messages"] += done
    batch: list[Message] = []
    seen = 0
    async for message in source.iter_messages(session.id, batch_size):
        seen += 1
        if seen <= done:
            continue
        batch.append(message)
        if len(batch) == batch_size:
            await _copy_messages(target, batch, report, progress)
            batch = []
    if batch:
        await _copy_messages(target, batch, report, progress)


async def _copied_before(source: Repository, target: Repository, session_id: UUID) -> int:
    """How many of the session's first messages the target holds already (an earlier run
    copies in order, a batch at a time): its count, when its newest is the source's n-th."""
    held = await target.get_session(session_id)
    if held is None or held.message_count == 0:
        return 0
    newest = await target.get_recent_messages(session_id, 1)
    nth = await source.get_messages_by_session(session_id, 1, held.message_count - 1)
    if newest and nth and newest[0].id == nth[0].id:
        return held.message_count
    return 0  # something else: one message at a time settles it


async def _copy_one(target: Repository, kind: str, entity: DomainModel, report: CopyReport) -> bool:
    """Create ``entity`` in the target; whether the target now holds it as the source does."""
    singular = "session" if kind == "sessions" else _CATALOG[kind]
    create = getattr(target, f"create_{singular}")
    try:
        await create(entity)
    except DuplicateError:
        stored = await getattr(target, f"get_{singular}")(entity.id)
        if stored is not None and same_write(stored, entity):
            report.skipped[kind] += 1
            return True
        what = "holds another version of" if stored is not None else "has a name clash with"
        report.conflicts.append(f"the target {what} {singular} {entity.id}")
        return False
    report.copied[kind] += 1
    return True


async def _copy_messages(
    target: Repository, batch: list[Message], report: CopyReport, progress: Progress | None
) -> None:
    try:
        await target.create_messages(batch)
    except (DuplicateError, NotFoundError, OperationDisabledError):
        # Part of it is there already, or one message names a parent stored after it (or
        # bulk writes are off): one at a time, so each gets its own answer.
        for message in batch:
            await _copy_message(target, message, report)
    else:
        report.copied["messages"] += len(batch)
    if progress is not None:
        progress("messages", len(batch))


async def _copy_message(target: Repository, message: Message, report: CopyReport) -> None:
    try:
        await target.create_message(message)
    except DuplicateError:
        stored = await target.get_message(message.id)
        if stored is not None and same_write(stored, message):
            report.skipped["messages"] += 1
        else:
            report.conflicts.append(f"the target holds another version of message {message.id}")
        return
    except NotFoundError as exc:
        report.conflicts.append(f"message {message.id} was not copied: {exc}")
        return
    report.copied["messages"] += 1


# -- comparing ----------------------------------------------------------------------------------


async def summarize(repository: Repository, *, batch_size: int = 500) -> dict[str, KindSummary]:
    """Count and checksum every kind (an order-independent digest of each record's JSON;
    messages in their sessions' order)."""
    summaries: dict[str, KindSummary] = {}
    for kind in KINDS[:-1]:
        records: list[str] = []
        async for page in _pages(repository, kind):
            records.extend(_canonical(entity) for entity in page)
        summaries[kind] = _summary(records)
    messages: list[str] = []
    async for sessions in _pages(repository, "sessions"):
        for session in sessions:
            position = 0  # order counts: each record carries its place in the session
            async for message in repository.iter_messages(session.id, batch_size):
                messages.append(f"{session.id}:{position}:{_canonical(message)}")
                position += 1
    summaries["messages"] = _summary(messages)
    return summaries


async def compare_repositories(source: Repository, target: Repository) -> list[str]:
    """Each kind whose count or checksum differs, described; ``[]`` when they agree."""
    left, right = await summarize(source), await summarize(target)
    differences = []
    for kind in KINDS:
        ours, theirs = left[kind], right[kind]
        if ours.count != theirs.count:
            differences.append(f"{kind}: {ours.count} in the source, {theirs.count} in the target")
        elif ours.checksum != theirs.checksum:
            differences.append(f"{kind}: same count ({ours.count}), different contents")
    return differences


def _canonical(entity: DomainModel) -> str:
    # Keys sorted: stores keep JSON objects in different key orders (jsonb sorts them).
    return json.dumps(entity.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def _summary(records: Sequence[str]) -> KindSummary:
    digest = hashlib.sha256()
    for record in sorted(records):
        digest.update(record.encode())
        digest.update(b"\n")
    return KindSummary(len(records), digest.hexdigest())
