"""Workloads W1-W6, each written once against :class:`bench.stores.Store`.

A workload gets a fresh, empty store, builds its inputs (never timed), warms the store up on a
separate session, times its operations, then checks the results: a wrong count or order raises
:class:`CheckFailed`, which fails the run. Each returns a flat dict of figures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ai_agent.domain.models import Message, MessageRole, Session
from bench.stores import Store

__all__ = ["SCALES", "WORKLOADS", "CheckFailed", "Figures", "Scale", "Workload"]

Figures = dict[str, float]

_TEXT = (
    "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. " * 6
)[:480]


class CheckFailed(AssertionError):
    """A store returned a wrong result (count, order, membership)."""


@dataclass(frozen=True)
class Scale:
    name: str
    w1_messages: int
    w1_block: int  # appends per block for the flatness figure (first vs last block)
    w2_sessions: int
    w2_per_session: int
    writers: int
    w3_sizes: tuple[int, int]
    w3_reads: int
    w4_sessions: int
    w4_users: int
    w4_reads: int
    w5_messages: int
    w6_single: int
    w6_bulk: int
    batch: int = 500
    warmup: int = 50


SCALES = {
    "full": Scale(
        "full", 5_000, 1_000, 50, 200, 20, (10_000, 100_000), 500, 10_000, 100, 500,
        10_000, 2_000, 10_000,
    ),
    "small": Scale(
        "small", 500, 100, 10, 40, 20, (1_000, 10_000), 100, 1_000, 50, 100, 1_000, 200, 1_000,
    ),
}  # fmt: skip


def make_session(user_id: str | None = None, last_activity: datetime | None = None) -> Session:
    if last_activity is None:
        return Session(user_id=user_id, title="bench", metadata={"source": "bench"})
    return Session(
        user_id=user_id, title="bench", metadata={"source": "bench"}, last_activity=last_activity
    )


def make_messages(session_id: UUID, count: int) -> list[Message]:
    """``count`` messages of ~500 bytes of text plus a small JSON object each."""
    roles = (MessageRole.USER, MessageRole.ASSISTANT)
    return [
        Message(
            session_id=session_id,
            role=roles[index % 2],
            content=f"{index:08d} {_TEXT}",
            metadata={"source": "bench", "index": index, "tokens": 120, "tags": ["a", "b"]},
        )
        for index in range(count)
    ]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def ids(messages: Sequence[Message]) -> list[str]:
    return [str(message.id) for message in messages]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples) * 1e3, cuts[98] * 1e3


async def warm_up(store: Store, scale: Scale) -> None:
    """Open every pooled connection and prime statement/script caches, off the clock."""
    session = make_session("warm-up")
    await store.create_session(session)
    messages = make_messages(session.id, scale.warmup)
    await asyncio.gather(*(store.append(message) for message in messages[:20]))
    for message in messages[20:]:
        await store.append(message)
    await store.append_many(make_messages(session.id, 10))
    for _ in range(10):
        await store.recent(session.id, 50)
        await store.list_sessions("warm-up", 20)


async def seed(store: Store, messages: Sequence[Message], batch: int) -> None:
    for start in range(0, len(messages), batch):
        await store.append_many(messages[start : start + batch])


async def check_session(store: Store, session_id: UUID, expected: Sequence[Message]) -> None:
    count = await store.message_count(session_id)
    check(count == len(expected), f"session holds {count} messages, expected {len(expected)}")
    newest = await store.recent(session_id, 50)
    check(newest == ids(expected[-50:]), "recent(50) is not the newest 50 in insertion order")


async def w1_append(store: Store, scale: Scale) -> Figures:
    """One session, messages appended one at a time."""
    session = make_session("w1")
    messages = make_messages(session.id, scale.w1_messages)
    await warm_up(store, scale)
    await store.create_session(session)
    blocks: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(messages), scale.w1_block):
        block_started = time.perf_counter()
        for message in messages[start : start + scale.w1_block]:
            await store.append(message)
        blocks.append(time.perf_counter() - block_started)
    elapsed = time.perf_counter() - started
    await check_session(store, session.id, messages)
    return {"msg_per_s": len(messages) / elapsed, "last_over_first": blocks[-1] / blocks[0]}


async def w2_concurrent_append(store: Store, scale: Scale) -> Figures:
    """Many sessions, writers pulling the next message from one interleaved stream."""
    sessions = [make_session(f"w2-{index % 5}") for index in range(scale.w2_sessions)]
    per_session = [make_messages(s.id, scale.w2_per_session) for s in sessions]
    stream = iter([batch[i] for i in range(scale.w2_per_session) for batch in per_session])
    await warm_up(store, scale)
    for session in sessions:
        await store.create_session(session)

    async def writer() -> None:
        for message in stream:  # one shared iterator: each message is taken once
            await store.append(message)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(scale.writers)))
    elapsed = time.perf_counter() - started
    for session, messages in zip(sessions, per_session, strict=True):
        count = await store.message_count(session.id)
        check(count == len(messages), f"session holds {count}, expected {len(messages)}")
        newest = await store.recent(session.id, 50)
        expected = min(50, len(messages))
        check(len(set(newest)) == expected and set(newest) <= set(ids(messages)), "recent wrong")
    return {"msg_per_s": scale.w2_sessions * scale.w2_per_session / elapsed}


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    run: Callable[[Store, Scale], Awaitable[Figures]]


WORKLOADS: list[Workload] = [
    Workload("W1", "append, one at a time", w1_append),
    Workload("W2", "concurrent append", w2_concurrent_append),
]
