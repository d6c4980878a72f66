"""Sessions and their activity indexes, plus ``SortedKeys``, the ordered index every store uses.

Methods are synchronous: each operation runs to completion without yielding to the event
loop, which is what makes it atomic for concurrent tasks.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from ai_agent.domain.models import Session, utc_now
from ai_agent.infrastructure.database.copies import clone
from ai_agent.infrastructure.database.errors import DuplicateError, NotFoundError

__all__ = ["ActivityKey", "SessionRecord", "SessionStore", "SortedKeys"]

K = TypeVar("K", bound=tuple[Any, ...])

# Ascending (last_activity, id); listings read it backwards for "most recent first".
ActivityKey = tuple[datetime, UUID]


class SortedKeys(Generic[K]):
    """Keys kept in ascending order; pages cost what they return.

    Inserting and removing are a binary search plus one ``memmove`` of a list of pointers.
    """

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: list[K] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: K) -> None:
        keys = self._keys
        if not keys or keys[-1] < key:  # the usual case: the newest activity sorts last
            keys.append(key)
        else:
            insort(keys, key)

    def discard(self, key: K) -> None:
        keys = self._keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]

    def replace(self, old: K, new: K) -> None:
        keys = self._keys
        # The usual case: the most recently active session gets newer still.
        if keys and keys[-1] is old and (len(keys) == 1 or keys[-2] < new) and old < new:
            keys[-1] = new
        else:
            self.discard(old)
            self.add(new)

    def ascending(self, limit: int, offset: int) -> list[K]:
        return self._keys[offset : offset + limit]

    def descending(self, limit: int, offset: int) -> list[K]:
        stop = len(self._keys) - offset
        if stop <= 0:
            return []
        return self._keys[max(0, stop - limit) : stop][::-1]


class SessionRecord:
    """A stored session and the key it is indexed under (the key it had when indexed)."""

    __slots__ = ("key", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.key: ActivityKey = (session.last_activity, session.id)


class SessionStore:
    """Sessions by id, in activity order globally and per user.

    Models passed in are the repository's own copies (``BaseRepository`` detached them from
    the caller's) and are kept as they are; callers get clones. Messages live in
    ``MessageStore``, which keeps each session's ``message_count``.
    """

    def __init__(self) -> None:
        self.records: dict[UUID, SessionRecord] = {}
        self.by_activity: SortedKeys[ActivityKey] = SortedKeys()
        self.by_user: dict[str, SortedKeys[ActivityKey]] = {}

    def create(self, session: Session) -> Session:
        if session.id in self.records:
            raise DuplicateError("session", "id", session.id)
        stored = session
        stored.__dict__["message_count"] = 0
        record = SessionRecord(stored)
        self.records[stored.id] = record
        self._index(record)
        return clone(stored)

    def get(self, session_id: UUID) -> Session | None:
        record = self.records.get(session_id)
        return None if record is None else clone(record.session)

    def page(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        index = self.by_activity if user_id is None else self.by_user.get(user_id)
        if index is None:
            return []
        records = self.records
        return [clone(records[key[1]].session) for key in index.descending(limit, offset)]

    def update(self, session: Session) -> Session:
        record = self.records.get(session.id)
        if record is None:
            raise NotFoundError("session", session.id)
        previous = record.session
        stored = session
        stored.__dict__.update(
            created_at=previous.created_at,
            message_count=previous.message_count,  # a stale caller must not undo appends
            updated_at=utc_now(),
        )
        self._unindex(record)
        record.session = stored
        record.key = (stored.last_activity, stored.id)
        self._index(record)
        return clone(stored)

    def remove(self, session_id: UUID) -> bool:
        """Forget the session; its messages are ``MessageStore.drop_thread``'s to forget."""
        record = self.records.pop(session_id, None)
        if record is None:
            return False
        self._unindex(record)
        return True

    def touch(self, record: SessionRecord, activity: datetime) -> None:
        """Move the session's ``last_activity`` forward to ``activity``, indexes included."""
        session = record.session
        old, new = record.key, (activity, session.id)
        session.__dict__["last_activity"] = activity
        record.key = new
        self.by_activity.replace(old, new)
        if session.user_id is not None:
            self.by_user[session.user_id].replace(old, new)

    def _index(self, record: SessionRecord) -> None:
        self.by_activity.add(record.key)
        user_id = record.session.user_id
        if user_id is not None:
            user_index = self.by_user.get(user_id)
            if user_index is None:
                user_index = self.by_user[user_id] = SortedKeys()
            user_index.add(record.key)

    def _unindex(self, record: SessionRecord) -> None:
        self.by_activity.discard(record.key)
        user_id = record.session.user_id
        if user_id is not None:
            user_index = self.by_user[user_id]
            user_index.discard(record.key)
            if not user_index:
                del self.by_user[user_id]
