"""Retention on Redis: the maintenance operations of ``RedisRepository``.

Sessions are found through the global sessions index (``P:v1:sessions``, scored by
``last_activity``), never by ``KEYS`` or ``SCAN``. Each change is one script in the session's
slot, as the request path makes it: ``delete_session`` (given the cutoff, it re-checks the
activity, so a session an append moved forward meanwhile is kept) and ``trim_messages``; on
a cluster the cross-slot index entries and message pointers follow the script, as they do
after ``delete_session`` and ``clear_messages``. Sessions also expire by their TTL; index
entries of expired sessions that a prune meets are dropped on the way.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Any, Final
from uuid import UUID

from ai_agent.infrastructure.database.redis import _codec
from ai_agent.infrastructure.database.redis._connection import Client, outcome, text
from ai_agent.infrastructure.database.redis._sessions import Sessions, SessionState

__all__ = ["Maintenance"]

_CHUNK: Final = 500  # index entries, and session hashes read, per round trip


class Maintenance:
    """Prune, count, trim and find long sessions; ``sessions`` does the session writes."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.store = sessions.store
        self.keys = sessions.keys

    async def prune(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        """Delete up to ``limit`` sessions last active before ``cutoff``, least recently
        active first; return how many, and how many messages they held.

        A candidate that is gone (expired: its entry is dropped) or was kept (its entry
        raised past the cutoff) does not count, and the next candidates are tried instead,
        so a call returns fewer than ``limit`` only when no more are left.
        """
        before = _codec.micros(cutoff)
        deleted = held = 0
        passed: set[str] = set()  # tried and not deleted: never tried twice in one call
        while deleted < limit:
            wanted = limit - deleted + len(passed)
            found = await self.store.call(partial(_older, self.keys.sessions, before, wanted))
            fresh = [sid for sid in found if sid not in passed][: limit - deleted]
            if not fresh:
                break
            for sid in fresh:
                count = await self.sessions.remove(sid, before)
                if count is None:
                    passed.add(sid)
                else:
                    deleted, held = deleted + 1, held + count
        return deleted, held

    async def count_inactive(self, cutoff: datetime) -> tuple[int, int]:
        """How many live sessions are last active before ``cutoff``, and their messages."""
        before = _codec.micros(cutoff)
        sessions = messages = 0
        async for chunk in self._index(f"({before}"):
            for activity, count in await self._fields(chunk, "activity", "count"):
                # An expired session has no fields; a cluster's score may lag its activity.
                if activity is not None and count is not None and int(activity) < before:
                    sessions, messages = sessions + 1, messages + int(count)
        return sessions, messages

    async def trim(self, session_id: UUID, keep: int, limit: int) -> int:
        """Delete up to ``limit`` of the session's oldest messages beyond its newest ``keep``
        (one script); on a cluster, their pointers after it."""
        sid = str(session_id)
        reply = await self.sessions.run_script("trim_messages", sid, [sid, keep, limit])
        if reply[0] == "missing":
            return 0
        deleted, *payload = outcome(reply, "session")
        if not deleted:
            return 0
        await self.sessions.finish(SessionState.parse(payload), "touch")
        if self.store.cluster:  # their pointers live in other slots
            await self.sessions.drop_pointers(sid, payload[5:])
        return int(deleted)

    async def long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        """Sessions holding more than ``more_than`` messages, in id order after ``after``.

        Redis keeps no index of sessions by id, so every call reads the whole global index
        and every session's count (``_CHUNK`` per round trip): O(sessions) per call, fine
        for a maintenance job, never used by a request.
        """
        found: dict[UUID, int] = {}  # by id: an entry moved during the walk is read twice
        async for chunk in self._index("+inf"):
            for sid, (count,) in zip(chunk, await self._fields(chunk, "count"), strict=True):
                if count is None or int(count) <= more_than:
                    continue  # expired, or short enough
                session_id = UUID(sid)
                if after is None or session_id > after:
                    found[session_id] = int(count)
        return heapq.nsmallest(limit, found.items())

    async def _index(self, highest: str) -> AsyncIterator[list[str]]:
        """The ids in the global index with scores up to ``highest``, lowest first, in
        chunks. The cursor is a score (and how many entries of that score were read, for
        ties), not a rank, so entries removed meanwhile make it skip none of the others."""
        index, low, skip = self.keys.sessions, -math.inf, 0
        while True:
            entries = await self.store.call(partial(_by_score, index, low, highest, skip))
            if not entries:
                return
            yield [sid for sid, _ in entries]
            last = entries[-1][1]
            ties = sum(1 for _, score in entries if score == last)
            low, skip = last, (skip + ties if last == low else ties)

    async def _fields(self, sids: list[str], *fields: str) -> list[list[str | None]]:
        """``fields`` of each session's hash (all ``None`` for a session that is gone)."""
        keys, names = [self.keys.session(sid) for sid in sids], list(fields)
        rows = await self.store.batch(lambda pipe: [pipe.hmget(key, names) for key in keys])
        return [[text(value) for value in row] for row in rows]


async def _older(index: str, before: int, count: int, client: Client) -> list[str]:
    """The ``count`` least recently active ids with a score below ``before``."""
    found: list[Any] = await client.zrangebyscore(index, "-inf", f"({before}", start=0, num=count)
    return [str(text(sid)) for sid in found]


async def _by_score(
    index: str, low: float, high: str, skip: int, client: Client
) -> list[tuple[str, float]]:
    entries: list[Any] = await client.zrangebyscore(
        index, low, high, start=skip, num=_CHUNK, withscores=True
    )
    return [(str(text(sid)), float(score)) for sid, score in entries]
