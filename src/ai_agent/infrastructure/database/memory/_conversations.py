"""Sessions and their messages, with the indexes that keep every read proportional to its result.

All methods are synchronous: each operation runs to completion without yielding to the event
loop, which is what makes it atomic for concurrent tasks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime
from itertools import count
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.copies import clone
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.memory._catalog import SortedKeys
from ai_agent.infrastructure.database.states import merge_session_state

__all__ = ["Conversations"]

# Ascending (last_activity, id); listings read it backwards for "most recent first".
ActivityKey = tuple[datetime, UUID]


class _SessionRecord:
    """A stored session, its current index key, and its messages in insertion order.

    Message ids sit beside their store-wide sequence numbers, which ascend, so a message's
    position is a binary search away and deleting one never scans the thread. One record per
    session keeps an append to a single hash lookup of the session id.
    """

    __slots__ = ("ids", "key", "seqs", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.key: ActivityKey = (session.last_activity, session.id)
        self.ids: list[UUID] = []
        self.seqs: list[int] = []


class Conversations:
    """Sessions, messages and their indexes; every check of an operation precedes its writes.

    Models passed in are the repository's own copies (``BaseRepository`` detached them from
    the caller's) and are kept as they are; callers get clones.
    """

    def __init__(self) -> None:
        self._sessions: dict[UUID, _SessionRecord] = {}
        self._by_activity: SortedKeys[ActivityKey] = SortedKeys()
        self._by_user: dict[str, SortedKeys[ActivityKey]] = {}
        self._messages: dict[UUID, tuple[Message, int]] = {}  # id -> (message, sequence)
        self._replies: dict[UUID, set[UUID]] = {}
        self._next_seq = count(1)  # positions start at 1: 0 means 'before the first'

    # -- sessions ----------------------------------------------------------------------------

    def create_session(self, session: Session) -> Session:
        if session.id in self._sessions:
            raise DuplicateError("session", "id", session.id)
        stored = session
        stored.__dict__["message_count"] = 0
        record = _SessionRecord(stored)
        self._sessions[stored.id] = record
        self._index_session(record)
        return clone(stored)

    def get_session(self, session_id: UUID) -> Session | None:
        record = self._sessions.get(session_id)
        return None if record is None else clone(record.session)

    def list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        index = self._by_activity if user_id is None else self._by_user.get(user_id)
        if index is None:
            return []
        sessions = self._sessions
        return [clone(sessions[key[1]].session) for key in index.descending(limit, offset)]

    def update_session(self, session: Session) -> Session:
        record = self._sessions.get(session.id)
        if record is None:
            raise NotFoundError("session", session.id)
        previous = record.session
        stored = session
        stored.__dict__.update(
            created_at=previous.created_at,
            message_count=previous.message_count,  # a stale caller must not undo appends
            updated_at=utc_now(),
        )
        self._unindex_session(record)
        record.session = stored
        record.key = (stored.last_activity, stored.id)
        self._index_session(record)
        return clone(stored)

    def delete_session(self, session_id: UUID) -> bool:
        record = self._sessions.pop(session_id, None)
        if record is None:
            return False
        self._unindex_session(record)
        for message_id in record.ids:
            del self._messages[message_id]
            # Parents are always in the same session, so this drops every reply set too.
            self._replies.pop(message_id, None)
        return True

    def _index_session(self, record: _SessionRecord) -> None:
        self._by_activity.add(record.key)
        user_id = record.session.user_id
        if user_id is not None:
            user_index = self._by_user.get(user_id)
            if user_index is None:
                user_index = self._by_user[user_id] = SortedKeys()
            user_index.add(record.key)

    def _unindex_session(self, record: _SessionRecord) -> None:
        self._by_activity.discard(record.key)
        user_id = record.session.user_id
        if user_id is not None:
            user_index = self._by_user[user_id]
            user_index.discard(record.key)
            if not user_index:
                del self._by_user[user_id]

    def _touch(self, record: _SessionRecord, activity: datetime) -> None:
        """Move the session's ``last_activity`` forward to ``activity``, indexes included."""
        session = record.session
        old, new = record.key, (activity, session.id)
        session.__dict__["last_activity"] = activity
        record.key = new
        self._by_activity.replace(old, new)
        if session.user_id is not None:
            self._by_user[session.user_id].replace(old, new)

    # -- messages ----------------------------------------------------------------------------

    def create_message(self, message: Message) -> Message:
        return self._append(message, self._check_new_message(message, {}))

    def create_messages(self, messages: Iterable[Message]) -> list[Message]:
        batch = list(messages)
        earlier: dict[UUID, UUID] = {}  # message id -> session id, for parents in the batch
        records = []
        for message in batch:  # every check first: all or nothing
            records.append(self._check_new_message(message, earlier))
            earlier[message.id] = message.session_id
        pairs = zip(batch, records, strict=True)
        return [self._append(message, record) for message, record in pairs]

    def append_with_state(
        self,
        message: Message,
        session_state: dict[str, Any] | None,
        if_last_activity: datetime | None,
    ) -> Message | None:
        """``create_message`` unless the session is active after ``if_last_activity``
        (``None``), merging ``session_state`` into its metadata first."""
        record = self._check_new_message(message, {})
        session = record.session
        if if_last_activity is not None and session.last_activity > if_last_activity:
            return None
        if session_state:
            session.__dict__["metadata"] = merge_session_state(session.metadata, session_state)
            session.__dict__["updated_at"] = utc_now()
        return self._append(message, record)

    def _check_new_message(self, message: Message, earlier: dict[UUID, UUID]) -> _SessionRecord:
        """Return the record of the message's session, or raise if the message cannot go in."""
        if message.id in self._messages or message.id in earlier:
            raise DuplicateError("message", "id", message.id)
        record = self._sessions.get(message.session_id)
        if record is None:
            raise NotFoundError("session", message.session_id)
        parent_id = message.parent_message_id
        if parent_id is not None and self._session_of(parent_id, earlier) != message.session_id:
            raise NotFoundError("message", parent_id, f"in session {message.session_id}")
        return record

    def _session_of(self, message_id: UUID, earlier: dict[UUID, UUID]) -> UUID | None:
        entry = self._messages.get(message_id)
        return earlier.get(message_id) if entry is None else entry[0].session_id

    def _append(self, message: Message, record: _SessionRecord) -> Message:
        stored = message
        seq = next(self._next_seq)
        self._messages[stored.id] = (stored, seq)
        record.ids.append(stored.id)
        record.seqs.append(seq)
        if stored.parent_message_id is not None:
            self._replies.setdefault(stored.parent_message_id, set()).add(stored.id)
        session = record.session
        session.__dict__["message_count"] += 1
        if stored.created_at > session.last_activity:
            self._touch(record, stored.created_at)
        return clone(stored)

    def get_message(self, message_id: UUID) -> Message | None:
        entry = self._messages.get(message_id)
        return None if entry is None else clone(entry[0])

    def get_messages(self, session_id: UUID, limit: int, offset: int) -> list[Message]:
        record = self._sessions.get(session_id)
        if record is None:
            return []
        return self._clones(record.ids[offset : offset + limit])

    def get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        record = self._sessions.get(session_id)
        if record is None:
            return []
        return self._clones(record.ids[-limit:])

    def _clones(self, message_ids: list[UUID]) -> list[Message]:
        messages = self._messages
        return [clone(messages[message_id][0]) for message_id in message_ids]

    def update_message(self, message: Message) -> Message:
        entry = self._messages.get(message.id)
        if entry is None:
            raise NotFoundError("message", message.id)
        previous, seq = entry
        if message.session_id != previous.session_id:
            raise RepositoryValidationError(
                f"message {message.id} belongs to session {previous.session_id}; "
                f"its session_id cannot change to {message.session_id}"
            )
        parent_id = message.parent_message_id
        if parent_id is not None and self._session_of(parent_id, {}) != previous.session_id:
            raise NotFoundError("message", parent_id, f"in session {previous.session_id}")
        stored = message
        stored.__dict__.update(created_at=previous.created_at, updated_at=utc_now())
        self._unlink_parent(previous)
        if parent_id is not None:
            self._replies.setdefault(parent_id, set()).add(stored.id)
        self._messages[stored.id] = (stored, seq)
        return clone(stored)

    def delete_message(self, message_id: UUID) -> bool:
        entry = self._messages.pop(message_id, None)
        if entry is None:
            return False
        stored, seq = entry
        record = self._sessions[stored.session_id]
        position = bisect_left(record.seqs, seq)
        del record.ids[position]
        del record.seqs[position]
        self._unlink_parent(stored)
        for reply_id in self._replies.pop(message_id, ()):
            # Like SQL's ON DELETE SET NULL: the reply stays, its updated_at untouched.
            self._messages[reply_id][0].__dict__["parent_message_id"] = None
        record.session.__dict__["message_count"] -= 1
        return True

    def pop_message(self, session_id: UUID) -> Message | None:
        record = self._sessions.get(session_id)
        if record is None or not record.ids:
            return None
        newest = self._messages[record.ids[-1]][0]
        self.delete_message(newest.id)
        return clone(newest)

    def clear_messages(self, session_id: UUID) -> int:
        record = self._sessions.get(session_id)
        if record is None:
            return 0
        for message_id in record.ids:
            del self._messages[message_id]
            self._replies.pop(message_id, None)  # parents are always in the same session
        cleared = len(record.ids)
        record.ids, record.seqs = [], []
        record.session.__dict__["message_count"] = 0
        return cleared

    def message_page(self, session_id: UUID, after: int, limit: int) -> tuple[list[Message], int]:
        record = self._sessions.get(session_id)
        if record is None:
            return [], after
        start = bisect_right(record.seqs, after)
        ids = record.ids[start : start + limit]
        last = record.seqs[start + len(ids) - 1] if ids else after
        return self._clones(ids), last

    # -- retention -------------------------------------------------------------------------

    def prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        doomed = [key[1] for key in self._by_activity.ascending(limit, 0) if key[0] < cutoff]
        messages = sum(self._sessions[session_id].session.message_count for session_id in doomed)
        for session_id in doomed:
            self.delete_session(session_id)
        return len(doomed), messages

    def count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        sessions = messages = 0
        for record in self._sessions.values():  # a job's count, not a request: a scan is fine
            if record.session.last_activity < cutoff:
                sessions += 1
                messages += record.session.message_count
        return sessions, messages

    def trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        record = self._sessions.get(session_id)
        if record is None:
            return 0
        doomed = record.ids[: max(0, min(limit, len(record.ids) - keep))]
        for message_id in doomed:
            self.delete_message(message_id)
        return len(doomed)

    def long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        found = sorted(
            (record.session.id, record.session.message_count)
            for record in self._sessions.values()
            if record.session.message_count > more_than
            and (after is None or record.session.id > after)
        )
        return found[:limit]

    def _unlink_parent(self, message: Message) -> None:
        parent_id = message.parent_message_id
        if parent_id is None:
            return
        replies = self._replies[parent_id]
        replies.discard(message.id)
        if not replies:
            del self._replies[parent_id]
