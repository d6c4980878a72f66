"""Messages: each session's thread in insertion order, and the reply links between messages.

Methods are synchronous: each operation runs to completion without yielding to the event
loop, which is what makes it atomic for concurrent tasks.
"""

from __future__ import annotations

import marshal
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import count
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, utc_now
from ai_agent.infrastructure.database.copies import construct
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryValidationError,
    parent_not_found,
)
from ai_agent.infrastructure.database.memory._sessions import SessionRecord, SessionStore

__all__ = ["MessageStore", "StoredMessage", "Thread"]

# Version 2 writes no back-references, so every load yields containers shared with nothing,
# not even with each other; it holds exactly the plain JSON types a validated model has.
_MARSHAL_VERSION = 2


class StoredMessage:
    """A message as kept: its immutable fields, and its JSON fields marshalled.

    Bytes share nothing with any caller, and one C call turns them back into fresh dicts and
    lists for each reader, so a read costs a dict copy and that call.
    """

    __slots__ = ("fields", "json", "seq")

    def __init__(self, message: Message, seq: int) -> None:
        self.seq = seq
        self.fields: dict[str, Any] = {}
        self.json: bytes | None = None
        self.keep(message)

    def keep(self, message: Message) -> None:
        """Snapshot ``message`` (the repository's own copy: its JSON is plain)."""
        fields = dict(message.__dict__)
        metadata, tool_calls = fields["metadata"], fields["tool_calls"]
        fields["metadata"] = fields["tool_calls"] = None  # held in ``json`` only
        self.fields = fields
        empty = not metadata and not tool_calls
        self.json = None if empty else marshal.dumps((metadata, tool_calls), _MARSHAL_VERSION)

    def copy(self) -> Message:
        """A fresh model for a caller, sharing nothing mutable with the store."""
        values = dict(self.fields)
        json = self.json
        if json is None:
            values["metadata"], values["tool_calls"] = {}, []
        else:
            values["metadata"], values["tool_calls"] = marshal.loads(json)
        return construct(Message, values)

    @property
    def id(self) -> UUID:
        return self.fields["id"]  # type: ignore[no-any-return]

    @property
    def session_id(self) -> UUID:
        return self.fields["session_id"]  # type: ignore[no-any-return]

    @property
    def parent_message_id(self) -> UUID | None:
        return self.fields["parent_message_id"]  # type: ignore[no-any-return]


class Thread:
    """One session's stored messages in insertion order, beside their sequence numbers.

    The sequence numbers ascend, so a message's position is a binary search away and deleting
    one never scans the thread; the newest ``n`` are a slice, with no lookup per message.
    """

    __slots__ = ("entries", "seqs")

    def __init__(self) -> None:
        self.entries: list[StoredMessage] = []
        self.seqs: list[int] = []


class MessageStore:
    """Messages by id, threads by session id; every check of an operation precedes its writes.

    Keeps each session's ``message_count`` and moves its ``last_activity`` forward. Models
    passed in are the repository's own copies: the store snapshots them and hands them back
    as the write's result; reads get fresh copies of the snapshots.
    """

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions
        self.messages: dict[UUID, StoredMessage] = {}
        self.threads: dict[UUID, Thread] = {}  # session id -> thread, from its first message
        self.replies: dict[UUID, set[UUID]] = {}  # parent id -> reply ids
        self._next_seq = count(1)  # positions start at 1: 0 means 'before the first'

    # -- writes ------------------------------------------------------------------------------

    def create(self, message: Message) -> Message:
        return self.append(message, self.check_new(message, {}))

    def create_many(self, messages: Iterable[Message]) -> list[Message]:
        batch = list(messages)
        earlier: dict[UUID, UUID] = {}  # message id -> session id, for parents in the batch
        records = []
        for message in batch:  # every check first: all or nothing
            records.append(self.check_new(message, earlier))
            earlier[message.id] = message.session_id
        pairs = zip(batch, records, strict=True)
        return [self.append(message, record) for message, record in pairs]

    def check_new(self, message: Message, earlier: dict[UUID, UUID]) -> SessionRecord:
        """Return the record of the message's session, or raise if the message cannot go in."""
        message_id = message.id
        if message_id in self.messages or (earlier and message_id in earlier):
            raise DuplicateError("message", "id", message_id)
        record = self._sessions.records.get(message.session_id)
        if record is None:
            raise NotFoundError("session", message.session_id)
        if message.parent_message_id is not None:
            self._check_parent(message, message.session_id, earlier)
        return record

    def append(self, message: Message, record: SessionRecord) -> Message:
        """Store a message ``check_new`` accepted, at the end of its session's thread."""
        entry = StoredMessage(message, next(self._next_seq))
        message_id, session_id = message.id, message.session_id
        self.messages[message_id] = entry
        thread = self.threads.get(session_id)
        if thread is None:
            thread = self.threads[session_id] = Thread()
        thread.entries.append(entry)
        thread.seqs.append(entry.seq)
        if message.parent_message_id is not None:
            self.replies.setdefault(message.parent_message_id, set()).add(message_id)
        session = record.session
        session.__dict__["message_count"] += 1
        if message.created_at > session.last_activity:
            self._sessions.touch(record, message.created_at)
        return message

    def update(self, message: Message) -> Message:
        entry = self.messages.get(message.id)
        if entry is None:
            raise NotFoundError("message", message.id)
        session_id = entry.session_id
        if message.session_id != session_id:
            raise RepositoryValidationError(
                f"message {message.id} belongs to session {session_id}; "
                f"its session_id cannot change to {message.session_id}"
            )
        self._check_parent(message, session_id, {})
        message.__dict__.update(created_at=entry.fields["created_at"], updated_at=utc_now())
        self._unlink_parent(entry)
        if message.parent_message_id is not None:
            self.replies.setdefault(message.parent_message_id, set()).add(message.id)
        entry.keep(message)  # in place: the thread holds the same entry
        return message

    def delete(self, message_id: UUID) -> bool:
        entry = self.messages.pop(message_id, None)
        if entry is None:
            return False
        thread = self.threads[entry.session_id]
        position = bisect_left(thread.seqs, entry.seq)
        del thread.entries[position]
        del thread.seqs[position]
        self._unlink_parent(entry)
        for reply_id in self.replies.pop(message_id, ()):
            # Like SQL's ON DELETE SET NULL: the reply stays, its updated_at untouched.
            self.messages[reply_id].fields["parent_message_id"] = None
        self._sessions.records[entry.session_id].session.__dict__["message_count"] -= 1
        return True

    def pop(self, session_id: UUID) -> Message | None:
        thread = self.threads.get(session_id)
        if thread is None or not thread.entries:
            return None
        newest = thread.entries[-1]
        self.delete(newest.id)
        return newest.copy()

    def clear(self, session_id: UUID) -> int:
        record = self._sessions.records.get(session_id)
        if record is None:
            return 0
        cleared = self.drop_thread(session_id)
        record.session.__dict__["message_count"] = 0
        return cleared

    def drop_thread(self, session_id: UUID) -> int:
        """Forget the session's messages (not its ``message_count``); return how many."""
        thread = self.threads.pop(session_id, None)
        if thread is None:
            return 0
        for entry in thread.entries:
            message_id = entry.id
            del self.messages[message_id]
            # Parents are always in the same session, so this drops every reply set too.
            self.replies.pop(message_id, None)
        return len(thread.entries)

    # -- reads -------------------------------------------------------------------------------

    def get(self, message_id: UUID) -> Message | None:
        entry = self.messages.get(message_id)
        return None if entry is None else entry.copy()

    def by_session(self, session_id: UUID, limit: int, offset: int) -> list[Message]:
        thread = self.threads.get(session_id)
        if thread is None:
            return []
        return [entry.copy() for entry in thread.entries[offset : offset + limit]]

    def recent(self, session_id: UUID, limit: int) -> list[Message]:
        thread = self.threads.get(session_id)
        if thread is None:
            return []
        return [entry.copy() for entry in thread.entries[-limit:]]

    def page_after(self, session_id: UUID, after: int, limit: int) -> tuple[list[Message], int]:
        """Up to ``limit`` messages past position ``after``, and the position of the last one."""
        thread = self.threads.get(session_id)
        if thread is None:
            return [], after
        start = bisect_right(thread.seqs, after)
        entries = thread.entries[start : start + limit]
        last = entries[-1].seq if entries else after
        return [entry.copy() for entry in entries], last

    # -- helpers -----------------------------------------------------------------------------

    def _check_parent(self, message: Message, session_id: UUID, earlier: dict[UUID, UUID]) -> None:
        parent_id = message.parent_message_id
        if parent_id is not None and self._session_of(parent_id, earlier) != session_id:
            raise parent_not_found(parent_id, session_id)

    def _session_of(self, message_id: UUID, earlier: dict[UUID, UUID]) -> UUID | None:
        entry = self.messages.get(message_id)
        return earlier.get(message_id) if entry is None else entry.session_id

    def _unlink_parent(self, entry: StoredMessage) -> None:
        parent_id = entry.parent_message_id
        if parent_id is None:
            return
        replies = self.replies[parent_id]
        replies.discard(entry.id)
        if not replies:
            del self.replies[parent_id]
