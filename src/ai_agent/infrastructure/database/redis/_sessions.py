"""Sessions: the per-session slot, the session indexes and their repair."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Literal
from uuid import UUID

from redis import exceptions as rx

from ai_agent.domain.models import Session, utc_now
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.redis import _codec
from ai_agent.infrastructure.database.redis._connection import Client, Store, outcome, text

__all__ = ["SessionState", "Sessions", "create_args"]

_log = logging.getLogger(__name__)

_CHUNK: Final = 500  # index entries / pointers handled per round trip
_LIST_ATTEMPTS: Final = 3  # cluster: re-read a page after fixing stale scores, at most this often

IndexMode = Literal["set", "gt", "touch"]


@dataclass(frozen=True, slots=True)
class SessionState:
    """What every successful session write replies (``session_state`` in the prelude)."""

    session_id: str
    activity: str
    user_id: str | None
    pointers_due: bool

    @classmethod
    def parse(cls, payload: list[Any]) -> SessionState:
        sid, activity, has_user, user, due = payload[:5]
        return cls(sid, activity, user if has_user else None, bool(due))


class Sessions:
    """Session operations, plus the cross-slot follow-up every session write needs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.keys = store.keys

    # -- operations --------------------------------------------------------------------------

    async def create(self, session: Session) -> Session:
        reply = await self.run_script("create_session", str(session.id), create_args(session))
        await self.finish(SessionState.parse(outcome(reply, "session")), "set")
        return session  # the repository's own copy: BaseRepository detached it

    async def get(self, session_id: UUID) -> Session | None:
        key, fields = self.keys.session(session_id), list(_codec.SESSION_FIELDS)
        row = await self.store.call(lambda client: client.hmget(key, fields))
        return _codec.decode_session([text(value) for value in row])

    async def update(self, session: Session) -> Session:
        session.updated_at = utc_now()
        sid = str(session.id)
        args = [
            sid,
            _codec.session_doc(session),
            _codec.micros(session.last_activity),
            *_user_args(session.user_id),
        ]
        payload = outcome(await self.run_script("update_session", sid, args), "session")
        old_has_user, old_user, created, count = payload[5:9]
        await self.finish(SessionState.parse(payload), "set", old_user if old_has_user else None)
        session.created_at = _codec.from_micros(created)
        session.message_count = int(count)
        return session

    async def delete(self, session_id: UUID) -> bool:
        return await self.remove(str(session_id)) is not None

    async def remove(self, sid: str, before: int | None = None) -> int | None:
        """Delete session ``sid`` with its messages, index entries and pointers; with
        ``before`` (epoch µs, a prune) only if its activity is still before it. Returns how
        many messages it held, ``None`` when it is gone or was kept."""
        args: list[Any] = [sid] if before is None else [sid, before]
        reply = await self.run_script("delete_session", sid, args)
        if reply[0] == "missing":
            if self.store.cluster:  # an expired session's global entry, met here
                await self.store.call(lambda client: client.zrem(self.keys.sessions, sid))
            return None
        if reply[0] == "kept":
            if self.store.cluster:  # raise its entry as the script does on a single server
                entry = {sid: int(reply[1])}
                await self.store.call(
                    lambda client: client.zadd(self.keys.sessions, entry, xx=True, gt=True)
                )
            return None
        has_user, user, held, *message_ids = outcome(reply, "session")
        if self.store.cluster:
            await self._unindex(sid, user if has_user else None, message_ids)
        return int(held)

    async def list_page(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        index = self.keys.session_index(user_id)
        for _ in range(_LIST_ATTEMPTS):
            sessions, reordered = await self._walk(index, user_id, offset + limit)
            if not reordered:
                break
        return sessions[offset:]

    # -- the cross-slot follow-up ------------------------------------------------------------

    async def finish(
        self, state: SessionState, mode: IndexMode, old_user: str | None = None
    ) -> None:
        """After a session write: on a cluster, bring the indexes in line (the script did
        it on a single server); then re-arm the message pointers when they are due."""
        if self.store.cluster:
            await self._index(state, mode, old_user)
        if state.pointers_due:
            await self.rearm_pointers(state.session_id)

    async def _index(self, state: SessionState, mode: IndexMode, old_user: str | None) -> None:
        keys, sid, score = self.keys, state.session_id, state.activity
        moved = old_user is not None and old_user != state.user_id
        # As the scripts do (session_prelude.lua: index_session): indexes live 2 x TTL,
        # re-armed on 'set' (create, update) and when the pointers are due.
        rearm = mode == "set" or state.pointers_due
        if mode == "touch" and not rearm and not moved:
            return
        targets = [keys.sessions]
        if state.user_id is not None:
            targets.append(keys.user_sessions(state.user_id))

        def build(pipe: Any) -> None:
            for key in targets:
                if mode != "touch":
                    pipe.zadd(key, {sid: score}, gt=mode == "gt")
                if rearm:
                    self._touch(pipe, key, 2 * self.store.ttl)
            if moved:
                pipe.zrem(keys.user_sessions(str(old_user)), sid)

        await self.store.batch(build)

    async def _unindex(self, sid: str, user: str | None, message_ids: list[str]) -> None:
        keys = self.keys

        def unlist(pipe: Any) -> None:
            pipe.zrem(keys.sessions, sid)
            if user is not None:
                pipe.zrem(keys.user_sessions(user), sid)

        await self.store.batch(unlist)
        await self.drop_pointers(sid, message_ids)

    async def drop_pointers(self, sid: str, message_ids: list[str]) -> None:
        """Cluster: delete the pointers of messages the session's script removed, in chunks
        (they live in other slots); one that names another session (an id re-used there) stays."""
        keys = self.keys
        for start in range(0, len(message_ids), _CHUNK):
            chunk = [keys.pointer(mid) for mid in message_ids[start : start + _CHUNK]]
            owners = await self.store.batch(partial(_queue, "get", chunk))
            mine = [key for key, owner in zip(chunk, owners, strict=True) if _owned(owner, sid)]
            if mine:
                await self.store.batch(partial(_queue, "delete", mine))

    async def rearm_pointers(self, session_id: str) -> None:
        """Give every message pointer of the session 2 x TTL again (no TTL when TTL is 0).

        Best effort: the pointers' 2 x TTL margin survives one missed re-arm, so a failure
        is logged rather than failing the write that already succeeded.
        """
        order, ttl = self.keys.order(session_id), 2 * self.store.ttl
        try:
            for start in itertools.count(0, _CHUNK):
                ids = await self.store.call(partial(_zrange, order, start, start + _CHUNK - 1))
                if not ids:
                    return
                pointers = [self.keys.pointer(mid) for mid in ids]
                await self.store.batch(partial(_touch_all, pointers, ttl))
        except (rx.RedisError, RepositoryError) as exc:
            _log.warning("re-arming message pointers of session %s failed: %r", session_id, exc)

    # -- listing -----------------------------------------------------------------------------

    async def _walk(
        self, index: str, user_id: str | None, needed: int
    ) -> tuple[list[Session], bool]:
        """The first ``needed`` live sessions of ``index``; whether scores were repaired.

        Entries whose session is gone (expired or deleted) are dropped; on a cluster, entries
        of another user and stale scores (a crash between the two steps of a write) are
        repaired too. Dead entries before ``offset`` are checked as well, so a page never
        shifts because of them.
        """
        live: list[Session] = []
        dead: list[str] = []
        foreign: list[str] = []
        stale: dict[str, int] = {}
        cluster = self.store.cluster
        rank = 0
        while len(live) < needed:
            stop = rank + min(needed - len(live), _CHUNK) - 1
            entries = await self._entries(index, rank, stop)
            if not entries:
                break
            rank += len(entries)
            for sid, score, session in entries:
                if session is None:
                    dead.append(sid)
                elif user_id is not None and session.user_id != user_id:
                    foreign.append(sid or str(session.id))
                else:
                    live.append(session)
                    if not cluster:  # atomic scripts keep a single server's scores exact
                        continue
                    activity = _codec.micros(session.last_activity)
                    if float(score) != float(activity):
                        stale[sid] = activity
        await self._repair(index, dead, foreign, stale)
        return live, self.store.cluster and bool(stale)

    async def _entries(
        self, index: str, start: int, stop: int
    ) -> list[tuple[str, float, Session | None]]:
        """Ranks ``start..stop`` of ``index``, newest first: id, score, session (if alive).

        On a single server a live session's id is ``''`` (it is in the session) and every
        score 0: only a cluster needs them.
        """
        if self.store.cluster:  # the sessions live in other slots: two steps
            scored: list[tuple[str, float]] = await self.store.call(
                partial(_zrevrange_with_scores, index, start, stop)
            )
            sessions = await self._fetch(scored) if scored else []
            return [(s, score, x) for (s, score), x in zip(scored, sessions, strict=True)]
        script = self.store.scripts.list_sessions
        flat: list[Any] = await self.store.call(lambda _: script(keys=[index], args=[start, stop]))
        # Per entry the SESSION_FIELDS (the order list_sessions.lua reads them in); a gone
        # session's entry has its id where `created` would be. Scores matter on a cluster
        # only: atomic scripts keep a single server's exact.
        width = len(_codec.SESSION_FIELDS)
        entries: list[tuple[str, float, Session | None]] = []
        for at in range(0, len(flat), width):
            row = flat[at : at + width]
            session = _codec.decode_session(row)
            entries.append(("" if session is not None else row[1], 0.0, session))
        return entries

    async def _fetch(self, entries: list[tuple[str, float]]) -> list[Session | None]:
        fields = list(_codec.SESSION_FIELDS)
        keys = [self.keys.session(sid) for sid, _ in entries]
        rows = await self.store.batch(lambda pipe: [pipe.hmget(key, fields) for key in keys])
        return [_codec.decode_session([text(value) for value in row]) for row in rows]

    async def _repair(
        self, index: str, dead: list[str], foreign: list[str], stale: dict[str, int]
    ) -> None:
        if not self.store.cluster:
            # Atomic scripts keep a single server's indexes exact; only expiry leaves entries
            # behind. Drop one only if its session is still gone (it may have been re-created).
            for sid in dead:
                keys = [index, self.keys.session(sid)]
                await self.store.script(self.store.scripts.drop_dead_entry, keys, [sid])
            return
        if not (dead or foreign or stale):
            return

        def build(pipe: Any) -> None:
            if dead or foreign:
                pipe.zrem(index, *dead, *foreign)
            if stale:
                pipe.zadd(index, stale, xx=True)

        await self.store.batch(build)

    # -- helpers -----------------------------------------------------------------------------

    async def run_script(self, name: str, session_id: str, args: list[Any]) -> Any:
        """Run session script ``name`` on the keys of session ``session_id``."""
        script = getattr(self.store.scripts, name)
        return await self.store.session_script(script, self.keys.session_slot(session_id), args)

    @staticmethod
    def _touch(pipe: Any, key: str, ttl: int) -> None:
        _touch_all([key], ttl, pipe)


def create_args(session: Session) -> list[Any]:
    """The arguments of ``create_session.lua``; sets the count a new session starts with."""
    session.message_count = 0
    return [
        str(session.id),
        _codec.session_doc(session),
        _codec.micros(session.created_at),
        _codec.micros(session.last_activity),
        *_user_args(session.user_id),
    ]


def _user_args(user_id: str | None) -> list[Any]:
    return [0, ""] if user_id is None else [1, user_id]


def _owned(pointer: str | None, session_id: str) -> bool:
    return pointer is not None and pointer.startswith(session_id)


def _touch_all(keys: list[str], ttl: int, pipe: Any) -> None:
    for key in keys:
        if ttl > 0:
            pipe.expire(key, ttl)
        else:
            pipe.persist(key)


def _queue(command: str, keys: list[str], pipe: Any) -> None:
    for key in keys:
        getattr(pipe, command)(key)


async def _zrange(key: str, start: int, stop: int, client: Client) -> list[str]:
    return [str(text(member)) for member in await client.zrange(key, start, stop)]


async def _zrevrange_with_scores(
    key: str, start: int, stop: int, client: Client
) -> list[tuple[str, float]]:
    entries: list[Any] = await client.zrevrange(key, start, stop, withscores=True)
    return [(str(text(member)), float(score)) for member, score in entries]
