"""Messages: stored in their session's slot, found by id through a pointer key."""

from __future__ import annotations

import contextlib
from typing import Any, Final
from uuid import UUID

from ai_agent.domain.models import Message, utc_now
from ai_agent.infrastructure.database.errors import (
    ConflictError,
    DuplicateError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.redis import _codec
from ai_agent.infrastructure.database.redis._connection import outcome, text
from ai_agent.infrastructure.database.redis._sessions import Sessions, SessionState

__all__ = ["Messages", "message_args"]

# A pointer to another session whose message does not exist (yet) is taken for an
# in-flight create for this long, and for a leftover of a crash after it.
_IN_FLIGHT_MICROS: Final = 60 * 1_000_000
_ID_LEN: Final = 36


class Messages:
    """Message operations; ``sessions`` finishes the cross-slot part of each write."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.store = sessions.store
        self.keys = sessions.keys

    # -- reads -------------------------------------------------------------------------------

    async def get(self, message_id: UUID) -> Message | None:
        pointer = await self._pointer(message_id)
        if pointer is None:
            return None
        messages = self.keys.messages(pointer[:_ID_LEN])
        frame = text(await self.store.call(lambda client: client.hget(messages, str(message_id))))
        return None if frame is None else _codec.decode_message(frame)

    async def page(self, session_id: UUID, limit: int, offset: int) -> list[Message]:
        return await self._read(session_id, offset, offset + limit - 1, newest_first=False)

    async def recent(self, session_id: UUID, limit: int) -> list[Message]:
        newest = await self._read(session_id, 0, limit - 1, newest_first=True)
        return newest[::-1]

    async def _read(
        self, session_id: UUID, start: int, stop: int, *, newest_first: bool
    ) -> list[Message]:
        keys = [self.keys.order(session_id), self.keys.messages(session_id)]
        args = [start, stop, 1 if newest_first else 0]
        frames = await self.store.script(self.store.scripts.read_messages, keys, args)
        return _codec.decode_messages(frames)

    async def after(self, session_id: UUID, position: int, limit: int) -> tuple[list[Message], int]:
        """Up to ``limit`` messages whose sequence is past ``position``, and the last one's."""
        keys = [self.keys.order(session_id), self.keys.messages(session_id)]
        args = [position, limit]
        reply = await self.store.script(self.store.scripts.messages_after, keys, args)
        if not reply:
            return [], position
        last, *frames = reply
        # A sequence is a whole number well below 2**53, so its score's text is exact.
        return _codec.decode_messages(frames), int(float(last))

    # -- create ------------------------------------------------------------------------------

    async def create(self, messages: list[Message]) -> list[Message]:
        """Store the batch in list order, all or nothing (see the package docstring)."""
        suffix = f"|{_codec.micros(utc_now())}"
        groups: dict[str, list[Message]] = {}
        for message in messages:
            groups.setdefault(str(message.session_id), []).append(message)
        if not self.store.cluster:
            reply = await self._create_script(list(groups), messages, suffix, check_only=False)
            payload = outcome(reply, "message")
            for start in range(0, len(payload), 5):
                await self.sessions.finish(SessionState.parse(payload[start : start + 5]), "gt")
        else:
            await self._create_on_cluster(groups, messages, suffix)
        return messages  # the repository's own copies: BaseRepository detached them

    async def _create_on_cluster(
        self, groups: dict[str, list[Message]], messages: list[Message], suffix: str
    ) -> None:
        # 1. claim every pointer (a global duplicate check), 2. validate every session's part,
        # 3. write session by session; a failure in 3 undoes what 3 wrote.
        claimed = await self.claim(messages, suffix)
        states: list[SessionState] = []
        written: list[Message] = []
        try:
            if len(groups) > 1:
                for sid, group in groups.items():
                    reply = await self._create_script([sid], group, suffix, check_only=True)
                    outcome(reply, "message")
            for sid, group in groups.items():
                reply = await self._create_script([sid], group, suffix, check_only=False)
                states.append(SessionState.parse(outcome(reply, "message")))
                written.extend(group)
        except BaseException:
            await self._undo(written, claimed)
            raise
        # A pointer this call found already naming the session (a retry after a crash) may
        # have been released by a concurrent failed create meanwhile: write it again.
        claimed_keys = {key for key, _ in claimed}
        adopted = [m for m in messages if self.keys.pointer(m.id) not in claimed_keys]
        if adopted:
            await self.point(adopted, suffix)
        for state in states:
            await self.sessions.finish(state, "gt")

    async def _create_script(
        self, session_ids: list[str], messages: list[Message], suffix: str, *, check_only: bool
    ) -> Any:
        args: list[Any] = [1 if check_only else 0, suffix]
        for message in messages:
            args += message_args(message)
        keys = [key for sid in session_ids for key in self.keys.session_slot(sid)]
        return await self.store.session_script(self.store.scripts.create_messages, keys, args)

    async def claim(self, messages: list[Message], suffix: str) -> list[tuple[str, str]]:
        """Point every message id at its session unless taken; return what was written."""
        wanted = [(self.keys.pointer(m.id), f"{m.session_id}{suffix}") for m in messages]
        expiry = 2 * self.store.ttl or None
        previous = await self.store.batch(
            lambda pipe: [pipe.set(k, v, nx=True, get=True, ex=expiry) for k, v in wanted]
        )
        claimed: list[tuple[str, str]] = []
        try:
            for message, (key, value), owner in zip(messages, wanted, previous, strict=True):
                if owner is None:
                    claimed.append((key, value))
                elif owner[:_ID_LEN] != str(message.session_id):
                    await self._take_over(message, key, owner, value)
                    claimed.append((key, value))
                # else: this session's own pointer; the script decides whether it's a duplicate
        except BaseException:
            await self.release(claimed)
            raise
        return claimed

    async def _take_over(self, message: Message, key: str, owner: str, value: str) -> None:
        """Take a pointer held by another session, if that session lacks the message."""
        other = owner[:_ID_LEN]
        mid = str(message.id)
        if await self.store.call(lambda client: client.hexists(self.keys.messages(other), mid)):
            raise DuplicateError("message", "id", message.id)
        if _in_flight(owner):
            raise ConflictError(f"message {mid} is being created in session {other}; retry")
        args = [owner, value, 2 * self.store.ttl]
        if not await self.store.script(self.store.scripts.swap_pointer, [key], args):
            raise ConflictError(f"message {mid} was claimed concurrently; retry")

    async def point(self, messages: list[Message], suffix: str) -> None:
        """Set the pointers of written messages (a concurrent failure may have released one)."""
        expiry = 2 * self.store.ttl or None
        pairs = [(self.keys.pointer(m.id), f"{m.session_id}{suffix}") for m in messages]
        await self.store.batch(lambda pipe: [pipe.set(k, v, ex=expiry) for k, v in pairs])

    async def _undo(self, written: list[Message], claimed: list[tuple[str, str]]) -> None:
        # Best effort while an error is already on its way: never mask it.
        with contextlib.suppress(Exception):
            for message in reversed(written):
                await self._delete_in(str(message.session_id), str(message.id))
        await self.release(claimed)

    async def release(self, claimed: list[tuple[str, str]]) -> None:
        with contextlib.suppress(Exception):
            for key, value in claimed:
                await self._drop_pointer(key, value)

    # -- update and delete -------------------------------------------------------------------

    async def update(self, message: Message) -> Message:
        message.updated_at = utc_now()
        mid, sid = str(message.id), str(message.session_id)
        pointer = await self._pointer(message.id)
        owner = None if pointer is None else pointer[:_ID_LEN]
        if owner is not None and owner != sid:
            messages = self.keys.messages(owner)
            if await self.store.call(lambda client: client.hexists(messages, mid)):
                raise RepositoryValidationError(
                    f"message {mid} belongs to session {owner}; its session_id cannot change"
                )
        parent = message.parent_message_id
        args = [sid, mid, "" if parent is None else str(parent), _codec.message_body(message)]
        reply = await self.sessions.run_script("update_message", sid, args)
        created, *state = outcome(reply, "message")
        message.created_at = _codec.from_micros(created)
        if self.store.cluster and owner != sid:  # repair a lost or dangling pointer
            await self.point([message], "|0")
        await self.sessions.finish(SessionState.parse(state), "touch")
        return message

    async def delete(self, message_id: UUID) -> bool:
        pointer = await self._pointer(message_id)
        if pointer is None:
            return False
        key = self.keys.pointer(message_id)
        if not await self._delete_in(pointer[:_ID_LEN], str(message_id)):
            if not _in_flight(pointer):  # dangling (a crash, an expired session): drop it
                await self._drop_pointer(key, pointer)
            return False
        if self.store.cluster:
            await self._drop_pointer(key, pointer)
        return True

    async def pop(self, session_id: UUID) -> Message | None:
        sid = str(session_id)
        reply = await self.sessions.run_script("pop_message", sid, [sid])
        if reply[0] == "missing":
            return None
        frame, *state = outcome(reply, "message")
        popped = _codec.decode_message(frame)
        await self.sessions.finish(SessionState.parse(state), "touch")
        if self.store.cluster:  # the pointer lives in another slot: dropped after, as delete
            key = self.keys.pointer(popped.id)
            pointer = await self._pointer(popped.id)
            if pointer is not None and pointer[:_ID_LEN] == sid:
                await self._drop_pointer(key, pointer)
        return popped

    async def clear(self, session_id: UUID) -> int:
        sid = str(session_id)
        reply = await self.sessions.run_script("clear_messages", sid, [sid])
        if reply[0] == "missing":
            return 0
        cleared, *payload = outcome(reply, "session")
        await self.sessions.finish(SessionState.parse(payload), "touch")
        if self.store.cluster:  # their pointers live in other slots
            await self.sessions.drop_pointers(sid, payload[5:])
        return int(cleared)

    async def _delete_in(self, session_id: str, message_id: str) -> bool:
        args = [session_id, message_id]
        reply = await self.sessions.run_script("delete_message", session_id, args)
        if reply[0] == "missing":
            return False
        await self.sessions.finish(SessionState.parse(outcome(reply, "message")), "touch")
        return True

    async def _drop_pointer(self, key: str, expected: str) -> None:
        """Delete pointer ``key`` if it still holds ``expected`` (never one re-claimed since)."""
        await self.store.script(self.store.scripts.swap_pointer, [key], [expected, "", 0])

    async def _pointer(self, message_id: UUID | str) -> str | None:
        key = self.keys.pointer(message_id)
        return text(await self.store.call(lambda client: client.get(key)))


def message_args(message: Message) -> list[Any]:
    """One message's five arguments of ``create_messages.lua``."""
    parent = message.parent_message_id
    return [
        str(message.session_id),
        str(message.id),
        _codec.micros(message.created_at),
        "" if parent is None else str(parent),
        _codec.message_body(message),
    ]


def _in_flight(pointer: str) -> bool:
    """Whether a pointer is young enough to belong to a create still under way."""
    written_at = int(pointer[_ID_LEN + 1 :] or 0)
    return _codec.micros(utc_now()) - written_at < _IN_FLIGHT_MICROS
