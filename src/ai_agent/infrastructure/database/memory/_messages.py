"""Messages: each session's thread in insertion order, and the reply links between messages.

Methods are synchronous: each operation runs to completion without yielding to the event
loop, which is what makes it atomic for concurrent tasks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import count
from uuid import UUID

from ai_agent.domain.models import Message, utc_now
from ai_agent.infrastructure.database.copies import clone
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.memory._sessions import SessionRecord, SessionStore

__all__ = ["MessageStore", "Thread"]


class Thread:
    """One session's message ids in insertion order, beside their store-wide sequence numbers.

    The sequence numbers ascend, so a message's position is a binary search away and deleting
    one never scans the thread.
    """

    __slots__ = ("ids", "seqs")

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.seqs: list[int] = []


class MessageStore:
    """Messages by id, threads by session id; every check of an operation precedes its writes.

    Keeps each session's ``message_count`` and moves its ``last_activity`` forward. Models
    passed in are the repository's own copies and are kept as they are; callers get clones.
    """

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions
        self.messages: dict[UUID, tuple[Message, int]] = {}  # id -> (message, sequence)
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
        if message.id in self.messages or message.id in earlier:
            raise DuplicateError("message", "id", message.id)
        record = self._sessions.records.get(message.session_id)
        if record is None:
            raise NotFoundError("session", message.session_id)
        self._check_parent(message, message.session_id, earlier)
        return record

    def append(self, message: Message, record: SessionRecord) -> Message:
        """Store a message ``check_new`` accepted, at the end of its session's thread."""
        stored = message
        seq = next(self._next_seq)
        self.messages[stored.id] = (stored, seq)
        thread = self.threads.get(stored.session_id)
        if thread is None:
            thread = self.threads[stored.session_id] = Thread()
        thread.ids.append(stored.id)
        thread.seqs.append(seq)
        if stored.parent_message_id is not None:
            self.replies.setdefault(stored.parent_message_id, set()).add(stored.id)
        session = record.session
        session.__dict__["message_count"] += 1
        if stored.created_at > session.last_activity:
            self._sessions.touch(record, stored.created_at)
        return clone(stored)

    def update(self, message: Message) -> Message:
        entry = self.messages.get(message.id)
        if entry is None:
            raise NotFoundError("message", message.id)
        previous, seq = entry
        if message.session_id != previous.session_id:
            raise RepositoryValidationError(
                f"message {message.id} belongs to session {previous.session_id}; "
                f"its session_id cannot change to {message.session_id}"
            )
        self._check_parent(message, previous.session_id, {})
        stored = message
        stored.__dict__.update(created_at=previous.created_at, updated_at=utc_now())
        self._unlink_parent(previous)
        if stored.parent_message_id is not None:
            self.replies.setdefault(stored.parent_message_id, set()).add(stored.id)
        self.messages[stored.id] = (stored, seq)
        return clone(stored)

    def delete(self, message_id: UUID) -> bool:
        entry = self.messages.pop(message_id, None)
        if entry is None:
            return False
        stored, seq = entry
        thread = self.threads[stored.session_id]
        position = bisect_left(thread.seqs, seq)
        del thread.ids[position]
        del thread.seqs[position]
        self._unlink_parent(stored)
        for reply_id in self.replies.pop(message_id, ()):
            # Like SQL's ON DELETE SET NULL: the reply stays, its updated_at untouched.
            self.messages[reply_id][0].__dict__["parent_message_id"] = None
        self._sessions.records[stored.session_id].session.__dict__["message_count"] -= 1
        return True

    def pop(self, session_id: UUID) -> Message | None:
        thread = self.threads.get(session_id)
        if thread is None or not thread.ids:
            return None
        newest = self.messages[thread.ids[-1]][0]
        self.delete(newest.id)
        return clone(newest)

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
        for message_id in thread.ids:
            del self.messages[message_id]
            # Parents are always in the same session, so this drops every reply set too.
            self.replies.pop(message_id, None)
        return len(thread.ids)

    # -- reads -------------------------------------------------------------------------------

    def get(self, message_id: UUID) -> Message | None:
        entry = self.messages.get(message_id)
        return None if entry is None else clone(entry[0])

    def by_session(self, session_id: UUID, limit: int, offset: int) -> list[Message]:
        thread = self.threads.get(session_id)
        if thread is None:
            return []
        return self._clones(thread.ids[offset : offset + limit])

    def recent(self, session_id: UUID, limit: int) -> list[Message]:
        thread = self.threads.get(session_id)
        if thread is None:
            return []
        return self._clones(thread.ids[-limit:])

    def page_after(self, session_id: UUID, after: int, limit: int) -> tuple[list[Message], int]:
        """Up to ``limit`` messages past position ``after``, and the position of the last one."""
        thread = self.threads.get(session_id)
        if thread is None:
            return [], after
        start = bisect_right(thread.seqs, after)
        ids = thread.ids[start : start + limit]
        last = thread.seqs[start + len(ids) - 1] if ids else after
        return self._clones(ids), last

    # -- helpers -----------------------------------------------------------------------------

    def _clones(self, message_ids: list[UUID]) -> list[Message]:
        messages = self.messages
        return [clone(messages[message_id][0]) for message_id in message_ids]

    def _check_parent(self, message: Message, session_id: UUID, earlier: dict[UUID, UUID]) -> None:
        parent_id = message.parent_message_id
        if parent_id is not None and self._session_of(parent_id, earlier) != session_id:
            raise NotFoundError("message", parent_id, f"in session {session_id}")

    def _session_of(self, message_id: UUID, earlier: dict[UUID, UUID]) -> UUID | None:
        entry = self.messages.get(message_id)
        return earlier.get(message_id) if entry is None else entry[0].session_id

    def _unlink_parent(self, message: Message) -> None:
        parent_id = message.parent_message_id
        if parent_id is None:
            return
        replies = self.replies[parent_id]
        replies.discard(message.id)
        if not replies:
            del self.replies[parent_id]
