"""Scoped state on Redis: one hash per scope (``keys.state``), key -> JSON text, no TTL.

Writes are session scripts: ``append_with_state`` and ``create_session_with_state`` run
``create_messages.lua`` / ``create_session.lua`` inline (one source of truth for how a
message or session is stored) between their own checks and the state writes.

* **Single server**: the session or message, the session's state (its JSON document,
  rebuilt here and swapped in only if the stored one is still the one read: else read and
  try again) and every scope key are one script: all or nothing.
* **Cluster**: the session's slot is one script (message, counters, session state); the
  scopes live in other slots and are written right after it, one pipeline in scope and key
  order. A crash in between loses those deltas (nothing repairs state on read), as the
  contract says. Message pointers are claimed before and released on refusal, as
  ``create_messages`` does on a cluster.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime
from typing import Any, Final

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.errors import ConflictError, NotFoundError
from ai_agent.infrastructure.database.redis import _codec
from ai_agent.infrastructure.database.redis._connection import Store, outcome, text
from ai_agent.infrastructure.database.redis._messages import Messages, message_args
from ai_agent.infrastructure.database.redis._sessions import Sessions, SessionState, create_args
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend, merge_session_state

__all__ = ["States"]

_ATTEMPTS: Final = 100  # session-state swaps lost to concurrent writers before ConflictError
_SLOT_KEYS: Final = 4  # keys.session_slot: KEYS[1..4]; scope keys follow from KEYS[5]


class States:
    """Scoped-state operations over a connected store."""

    def __init__(self, store: Store, sessions: Sessions, messages: Messages) -> None:
        self.store = store
        self.keys = store.keys
        self.sessions = sessions
        self.messages = messages

    async def get(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        keys = [self.keys.state(scope) for scope in scopes]
        hashes = await self.store.batch(lambda pipe: [pipe.hgetall(key) for key in keys])
        return {
            scope: {str(text(k)): json.loads(str(text(v))) for k, v in found.items()}
            for scope, found in zip(scopes, hashes, strict=True)
            if found
        }

    async def create_session(self, session: Session, state: StateDeltas) -> Session:
        body = create_args(session)
        keys, ours = self._writes(state)
        script = self.store.scripts.create_session_with_state
        reply = await self._script(script, str(session.id), keys, [len(ours), *ours, *body])
        await self.sessions.finish(SessionState.parse(outcome(reply, "session")), "set")
        await self._write_on_cluster(state)
        return session

    async def append(self, append: StatefulAppend) -> Message | None:
        message, state, session_state, if_last_activity = append
        for attempt in range(_ATTEMPTS):
            docs = ("", "") if not session_state else await self._docs(message, session_state)
            reply = await self._append_once(message, state, if_last_activity, docs)
            if reply[0] == "changed":
                # A concurrent session-state write won (each round one does, so every writer
                # gets through): merge into the new document, after a short random pause.
                await asyncio.sleep(random.uniform(0, 0.0005 * min(attempt + 1, 10)))
                continue
            if reply[0] == "stale":
                return None
            await self.sessions.finish(SessionState.parse(outcome(reply, "message")), "gt")
            await self._write_on_cluster(state)
            return message
        raise ConflictError(
            f"the state of session {message.session_id} kept changing during the append; retry"
        )

    async def _append_once(
        self,
        message: Message,
        state: StateDeltas,
        if_last_activity: datetime | None,
        docs: tuple[str, str],
    ) -> Any:
        sid, mid = str(message.session_id), str(message.id)
        parent = "" if message.parent_message_id is None else str(message.parent_message_id)
        last = "" if if_last_activity is None else _codec.micros(if_last_activity)
        keys, writes = self._writes(state)
        ours = [sid, mid, parent, last, *docs, *writes]
        suffix = f"|{_codec.micros(utc_now())}"
        args = [len(ours), *ours, 0, suffix, *message_args(message)]
        script = self.store.scripts.append_with_state
        if not self.store.cluster:
            return await self._script(script, sid, keys, args)
        # As create_messages on a cluster: claim the id's pointer (another slot) first.
        claimed = await self.messages.claim([message], suffix)
        try:
            reply = await self._script(script, sid, keys, args)
        except BaseException:
            await self.messages.release(claimed)
            raise
        if reply[0] != "ok":
            await self.messages.release(claimed)
        elif not claimed:  # the pointer named this session already: write it again
            await self.messages.point([message], suffix)
        return reply

    async def _docs(self, message: Message, delta: dict[str, Any]) -> tuple[str, str]:
        """The session's stored JSON document, and the one with ``delta`` merged in."""
        key, fields = self.keys.session(message.session_id), list(_codec.SESSION_FIELDS)
        row = [text(value) for value in await self.store.call(lambda c: c.hmget(key, fields))]
        session = _codec.decode_session(row)
        if session is None or row[0] is None:
            raise NotFoundError("session", message.session_id)
        session.__dict__["metadata"] = merge_session_state(session.metadata, delta)
        session.__dict__["updated_at"] = utc_now()
        return row[0], _codec.session_doc(session)

    def _writes(self, state: StateDeltas) -> tuple[list[str], list[Any]]:
        """Single server: the scope keys (after the session's) and the script's triples."""
        if self.store.cluster or not state:
            return [], []
        keys: list[str] = []
        triples: list[Any] = []
        for scope, delta in state.items():
            keys.append(self.keys.state(scope))
            for name, value in delta.items():
                triples += [_SLOT_KEYS + len(keys), name, _dump(value)]
        return keys, triples

    async def _write_on_cluster(self, state: StateDeltas) -> None:
        if not self.store.cluster or not state:
            return
        mappings = [
            (self.keys.state(scope), {name: _dump(value) for name, value in delta.items()})
            for scope, delta in state.items()
        ]
        await self.store.batch(lambda pipe: [pipe.hset(key, mapping=m) for key, m in mappings])

    async def _script(self, script: Any, sid: str, keys: list[str], args: list[Any]) -> Any:
        return await self.store.session_script(script, self.keys.session_slot(sid) + keys, args)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
