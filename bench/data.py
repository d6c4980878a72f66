"""Inputs, scales, checks and timing helpers shared by the workloads.

Inputs are pydantic models built before any timing starts; every store receives the same
shapes. Checks raise :class:`CheckFailed`, which fails the run.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ai_agent.domain.models import Message, MessageRole, Session
from bench.stores import Store

__all__ = [
    "SCALES",
    "CheckFailed",
    "Figures",
    "Scale",
    "check",
    "check_session",
    "ids",
    "make_messages",
    "make_session",
    "percentiles",
    "seed",
    "warm_up",
]

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
    """p50 and p99 in milliseconds, of ``samples`` in seconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples) * 1e3, cuts[98] * 1e3


def median_figures(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over repeated runs of one workload."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


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


async def check_session(
    store: Store, session_id: UUID, expected: Sequence[Message], side: str = ""
) -> None:
    """The session holds ``expected``, newest 50 in order; ``side`` prefixes a failure."""
    prefix = f"{side}: " if side else ""
    count = await store.message_count(session_id)
    check(
        count == len(expected),
        f"{prefix}session holds {count} messages, expected {len(expected)}",
    )
    newest = store.ids(await store.recent(session_id, 50))
    check(
        newest == ids(expected[-50:]),
        f"{prefix}recent(50) is not the newest 50 in insertion order",
    )
