"""Workloads W1-W6, each written once against :class:`bench.stores.Store`.

A workload gets a fresh, empty store, builds its inputs (never timed), warms the store up on a
separate session, times its operations, then checks the results: a wrong count or order raises
:class:`CheckFailed`, which fails the run. Each returns a flat dict of figures.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from bench.data import (
    Figures,
    Scale,
    check,
    check_session,
    ids,
    make_messages,
    make_session,
    percentiles,
    seed,
    warm_up,
)
from bench.stores import Store

__all__ = ["WORKLOADS", "Workload"]


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


async def _timed_reads(
    read: Callable[[], Awaitable[list[str]]], count: int
) -> tuple[list[float], list[list[str]]]:
    samples: list[float] = []
    results: list[list[str]] = []
    for _ in range(count):
        started = time.perf_counter()
        results.append(await read())
        samples.append(time.perf_counter() - started)
    return samples, results


async def w3_recent(store: Store, scale: Scale) -> Figures:
    """The newest 50 of a long session and of one ten times longer, reads alternating.

    Alternating the two sessions' reads makes their ratio immune to drift in machine load.
    """
    await warm_up(store, scale)
    sessions, expected = [], []
    for size in scale.w3_sizes:
        session = make_session("w3")
        messages = make_messages(session.id, size)
        await store.create_session(session)
        await seed(store, messages, scale.batch)
        sessions.append(session.id)
        expected.append(ids(messages[-50:]))
        del messages
    for _ in range(10):  # index pages and statements, off the clock
        for session_id in sessions:
            await store.recent(session_id, 50)
    samples: list[list[float]] = [[], []]
    for _ in range(scale.w3_reads):
        for index, session_id in enumerate(sessions):
            started = time.perf_counter()
            result = await store.recent(session_id, 50)
            samples[index].append(time.perf_counter() - started)
            check(result == expected[index], f"recent(50) of {scale.w3_sizes[index]} is wrong")
    figures: Figures = {}
    for label, timings in zip(("small", "large"), samples, strict=True):
        figures[f"p50_{label}"], figures[f"p99_{label}"] = percentiles(timings)
    figures["large_over_small"] = figures["p50_large"] / figures["p50_small"]
    return figures


async def w4_list_sessions(store: Store, scale: Scale) -> Figures:
    """Many sessions over many users; a user's 20 most recently active."""
    rng = random.Random(4)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    users = [f"w4-user-{index:03d}" for index in range(scale.w4_users)]
    sessions = [
        make_session(users[index % len(users)], base + timedelta(seconds=rng.randrange(10**7)))
        for index in range(scale.w4_sessions)
    ]
    expected: dict[str, list[str]] = {}
    for session in sorted(sessions, key=lambda s: (s.last_activity, s.id), reverse=True):
        assert session.user_id is not None
        expected.setdefault(session.user_id, []).append(str(session.id))
    await warm_up(store, scale)
    pending = iter(sessions)

    async def creator() -> None:
        for session in pending:
            await store.create_session(session)

    await asyncio.gather(*(creator() for _ in range(scale.writers)))
    asked = [rng.choice(users) for _ in range(scale.w4_reads)]
    for user in users[:10]:
        await store.list_sessions(user, 20)
    questions = iter(asked)
    samples, results = await _timed_reads(
        lambda: store.list_sessions(next(questions), 20), len(asked)
    )
    for user, result in zip(asked, results, strict=True):
        check(result == expected[user][:20], f"list_sessions({user!r}, 20) is wrong")
    p50, p99 = percentiles(samples)
    return {"p50": p50, "p99": p99}


async def w5_delete_session(store: Store, scale: Scale) -> Figures:
    """Delete a session of many messages (median of three), beside a session that stays."""
    await warm_up(store, scale)
    keeper = make_session("w5")
    kept = make_messages(keeper.id, 10)
    await store.create_session(keeper)
    await store.append_many(kept)
    timings = []
    for _ in range(3):
        session = make_session("w5")
        await store.create_session(session)
        await seed(store, make_messages(session.id, scale.w5_messages), scale.batch)
        started = time.perf_counter()
        deleted = await store.delete_session(session.id)
        timings.append(time.perf_counter() - started)
        check(deleted, "delete_session returned False for an existing session")
        check(await store.message_count(session.id) is None, "deleted session still there")
        check(await store.recent(session.id, 50) == [], "deleted session still has messages")
    await check_session(store, keeper.id, kept)
    return {"ms": median(timings) * 1e3}


async def w6_bulk(store: Store, scale: Scale) -> Figures:
    """The same messages one at a time, then in batches of 500."""
    await warm_up(store, scale)
    single, bulk = make_session("w6"), make_session("w6")
    single_messages = make_messages(single.id, scale.w6_single)
    bulk_messages = make_messages(bulk.id, scale.w6_bulk)
    await store.create_session(single)
    await store.create_session(bulk)
    started = time.perf_counter()
    for message in single_messages:
        await store.append(message)
    single_rate = len(single_messages) / (time.perf_counter() - started)
    started = time.perf_counter()
    await seed(store, bulk_messages, scale.batch)
    bulk_rate = len(bulk_messages) / (time.perf_counter() - started)
    await check_session(store, single.id, single_messages)
    await check_session(store, bulk.id, bulk_messages)
    return {
        "single_msg_per_s": single_rate,
        "bulk_msg_per_s": bulk_rate,
        "speedup": bulk_rate / single_rate,
    }


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    run: Callable[[Store, Scale], Awaitable[Figures]]


WORKLOADS: list[Workload] = [
    Workload("W1", "append, one at a time", w1_append),
    Workload("W2", "concurrent append", w2_concurrent_append),
    Workload("W3", "recent 50 of a long session", w3_recent),
    Workload("W4", "list a user's 20 sessions", w4_list_sessions),
    Workload("W5", "delete a long session", w5_delete_session),
    Workload("W6", "bulk create vs one at a time", w6_bulk),
]
