"""Workloads W1-W6, each written once against :class:`bench.stores.Store`.

A workload gets a fresh, empty store, builds its inputs (never timed), warms the store up on a
separate session, times its operations, then checks the results: a wrong count or order raises
:class:`CheckFailed`, which fails the run. Each returns a flat dict of figures.

W1, W3 and W4 get both sides' fresh stores at once, seed each with the same inputs, warm each
up alike, then alternate between raw and project in short turns (W3, W4: 10 reads; W1: 250
appends), in a random order per pair of turns: the two sides' figures, and so their ratio, come
from the same time window, immune to load drift on a shared machine. They return figures per
side.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from ai_agent.domain.models import Session
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

__all__ = ["SIDES", "WORKLOADS", "Sides", "Workload"]

SIDES = ("raw", "project")
# Both sides' stores, open at once, for a workload that interleaves them: side -> store.
Sides = Mapping[str, Store]
# W1 appends per slice before switching sides: long enough that switching costs nothing,
# short enough that both sides see the same machine load.
_W1_SLICE = 250
# W3, W4 reads per side per turn. Alternating single reads put every read right after the
# other side's, and the p50 ratios came out ~10% lower (Redis W3 1.30-1.43 vs 1.43-1.55 in
# turns of 10 and a 1.57 median in separate blocks): likely each read reloading what the
# other side's evicted from caches. Turns of 10 (~5 ms) keep drift out just as well.
_TURN = 10


async def w1_append(stores: Sides, scale: Scale) -> dict[str, Figures]:
    """One session per side, messages appended one at a time, in alternating slices.

    Each slice of appends goes to one side, then the same slice to the other, in a random order
    per pair; a side's rate is its appends over its own slices' time, its flatness the time of
    its last ``w1_block`` appends over its first.
    """
    session = make_session("w1")
    messages = make_messages(session.id, scale.w1_messages)
    for store in stores.values():
        await warm_up(store, scale)
        await store.create_session(session)
    step = math.gcd(_W1_SLICE, scale.w1_block)  # slices tile each block exactly
    rng = random.Random(1)
    slices: dict[str, list[float]] = {side: [] for side in stores}
    gc.collect()  # start from a clean heap: no garbage of the set-up collected while timing
    for start in range(0, len(messages), step):
        for side in _sides_in_random_order(rng):
            started = time.perf_counter()
            for message in messages[start : start + step]:
                await stores[side].append(message)
            slices[side].append(time.perf_counter() - started)
    figures: dict[str, Figures] = {}
    per_block = scale.w1_block // step
    for side, timings in slices.items():
        await check_session(stores[side], session.id, messages, side)
        blocks = [sum(timings[i : i + per_block]) for i in range(0, len(timings), per_block)]
        figures[side] = {
            "msg_per_s": len(messages) / sum(timings),
            "last_over_first": blocks[-1] / blocks[0],
        }
    return figures


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
        newest = store.ids(await store.recent(session.id, 50))
        expected = min(50, len(messages))
        check(len(set(newest)) == expected and set(newest) <= set(ids(messages)), "recent wrong")
    return {"msg_per_s": scale.w2_sessions * scale.w2_per_session / elapsed}


async def _timed(
    store: Store, read: Callable[[], Awaitable[Sequence[Any]]], samples: list[float]
) -> list[str]:
    """Time one read; the ids of what it returned, taken off the clock."""
    started = time.perf_counter()
    result = await read()
    samples.append(time.perf_counter() - started)
    return store.ids(result)


def _sides_in_random_order(rng: random.Random) -> tuple[str, str]:
    """Raw and project in a coin-flipped order: neither side always reads first."""
    return ("raw", "project") if rng.random() < 0.5 else ("project", "raw")


async def w3_recent(stores: Sides, scale: Scale) -> dict[str, Figures]:
    """The newest 50 of a long session and of one ten times longer, on both sides at once.

    Every round reads the smaller session then the larger one, and for each, a turn of reads
    by raw and one by project, in a random order: load drift hits both sides and both sizes
    alike, so the ratios to raw and the larger/smaller ratio come from the same time window.
    """
    for store in stores.values():
        await warm_up(store, scale)
    sessions, expected = [], []
    for size in scale.w3_sizes:
        session = make_session("w3")
        messages = make_messages(session.id, size)
        for store in stores.values():  # the same inputs, each side in its own store
            await store.create_session(session)
            await seed(store, messages, scale.batch)
        sessions.append(session.id)
        expected.append(ids(messages[-50:]))
        del messages
    for _ in range(10):  # index pages and statements, off the clock
        for session_id in sessions:
            for store in stores.values():
                await store.recent(session_id, 50)
    rng = random.Random(3)
    samples: dict[str, tuple[list[float], list[float]]] = {side: ([], []) for side in stores}
    for start in range(0, scale.w3_reads, _TURN):
        turn = min(_TURN, scale.w3_reads - start)
        for index, session_id in enumerate(sessions):
            what = f"recent(50) of {scale.w3_sizes[index]} is wrong"
            for side in _sides_in_random_order(rng):
                read = functools.partial(stores[side].recent, session_id, 50)
                for _ in range(turn):
                    result = await _timed(stores[side], read, samples[side][index])
                    check(result == expected[index], f"{side}: {what}")
    return {side: _w3_figures(timings) for side, timings in samples.items()}


def _w3_figures(timings: tuple[list[float], list[float]]) -> Figures:
    figures: Figures = {}
    for label, samples in zip(("small", "large"), timings, strict=True):
        figures[f"p50_{label}"], figures[f"p99_{label}"] = percentiles(samples)
    figures["large_over_small"] = figures["p50_large"] / figures["p50_small"]
    return figures


def _w4_sessions(scale: Scale, rng: random.Random) -> tuple[list[Session], list[str]]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    users = [f"w4-user-{index:03d}" for index in range(scale.w4_users)]
    sessions = [
        make_session(users[index % len(users)], base + timedelta(seconds=rng.randrange(10**7)))
        for index in range(scale.w4_sessions)
    ]
    return sessions, users


async def _create_concurrently(store: Store, sessions: list[Session], writers: int) -> None:
    pending = iter(sessions)

    async def creator() -> None:
        for session in pending:  # one shared iterator: each session is created once
            await store.create_session(session)

    await asyncio.gather(*(creator() for _ in range(writers)))


async def w4_list_sessions(stores: Sides, scale: Scale) -> dict[str, Figures]:
    """Many sessions over many users; a user's 20 most recently active, on both sides at once.

    Each turn of questions is asked of raw and of project back to back, in a random order.
    """
    rng = random.Random(4)
    sessions, users = _w4_sessions(scale, rng)
    expected: dict[str, list[str]] = {}
    for session in sorted(sessions, key=lambda s: (s.last_activity, s.id), reverse=True):
        assert session.user_id is not None
        expected.setdefault(session.user_id, []).append(str(session.id))
    for store in stores.values():
        await warm_up(store, scale)
    for store in stores.values():  # the same inputs, each side in its own store
        await _create_concurrently(store, sessions, scale.writers)
    asked = [rng.choice(users) for _ in range(scale.w4_reads)]
    for user in users[:10]:
        for store in stores.values():
            await store.list_sessions(user, 20)
    samples: dict[str, list[float]] = {side: [] for side in stores}
    for start in range(0, len(asked), _TURN):
        for side in _sides_in_random_order(rng):
            for user in asked[start : start + _TURN]:
                read = functools.partial(stores[side].list_sessions, user, 20)
                result = await _timed(stores[side], read, samples[side])
                check(
                    result == expected[user][:20], f"{side}: list_sessions({user!r}, 20) is wrong"
                )
    figures: dict[str, Figures] = {}
    for side, timings in samples.items():
        p50, p99 = percentiles(timings)
        figures[side] = {"p50": p50, "p99": p99}
    return figures


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
        check(not await store.recent(session.id, 50), "deleted session still has messages")
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
    """A workload run on one side at a time (``solo``), or on both at once (``interleaved``)."""

    key: str
    title: str
    solo: Callable[[Store, Scale], Awaitable[Figures]] | None = None
    interleaved: Callable[[Sides, Scale], Awaitable[dict[str, Figures]]] | None = None


WORKLOADS: list[Workload] = [
    Workload("W1", "append, one at a time", interleaved=w1_append),
    Workload("W2", "concurrent append", solo=w2_concurrent_append),
    Workload("W3", "recent 50 of a long session", interleaved=w3_recent),
    Workload("W4", "list a user's 20 sessions", interleaved=w4_list_sessions),
    Workload("W5", "delete a long session", solo=w5_delete_session),
    Workload("W6", "bulk create vs one at a time", solo=w6_bulk),
]
