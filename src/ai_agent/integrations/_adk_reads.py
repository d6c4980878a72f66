"""Reading an ADK session's events: ``GetSessionConfig`` as ADK applies it, and a cache.

A read costs what it returns: ``num_recent_events`` is one ``get_recent_messages`` (up to
the repository's page size, 1000), and ``after_timestamp`` reads back from the newest event
in growing windows until it meets an older one. Only a request for more than 1000 events (or
for all of them) reads the history page by page.

Turning a stored event back into an ``Event`` (pydantic validation of the event and its
content) costs more than reading it. Events are immutable once appended, so each service
keeps a bounded cache of the ones it appended or read (by message id, checked against the
message's ``created_at`` and ``updated_at``: an ``update_message`` elsewhere is seen) and
hands out deep copies of them: a caller may change what it gets without touching the cache.
Imported by :mod:`ai_agent.integrations.adk` after it has checked that ADK is there.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime
from typing import Final
from uuid import UUID

from google.adk.events import Event
from google.adk.sessions.base_session_service import GetSessionConfig

from ai_agent.domain.models import Message
from ai_agent.infrastructure.database.contract import MAX_LIMIT, Repository
from ai_agent.integrations._adk_events import message_event

__all__ = ["DEFAULT_EVENT_CACHE", "EventReader"]

DEFAULT_EVENT_CACHE: Final = 10_000
_FIRST_WINDOW: Final = 50  # events read first when after_timestamp decides how many


class EventReader:
    """The events of stored ADK sessions, through a cache of decoded events."""

    def __init__(self, repository: Repository, cache_size: int = DEFAULT_EVENT_CACHE) -> None:
        if cache_size < 0:
            raise ValueError(f"event_cache_size must be >= 0, got {cache_size}")
        self.repository = repository
        self._size = cache_size
        self._cache: OrderedDict[UUID, tuple[datetime, datetime, Event]] = OrderedDict()

    def remember(self, message: Message, event: Event) -> None:
        """Cache ``event`` (a copy) as the event ``message`` holds."""
        if self._size:
            self._put(message, event.model_copy(deep=True))

    async def read(self, session_id: UUID, config: GetSessionConfig | None) -> list[Event]:
        """The session's events as ``config`` selects them (ADK's in-memory semantics)."""
        recent = config.num_recent_events if config else None
        after = config.after_timestamp if config else None
        if recent == 0:
            return []
        if after is None:
            return self._events(await self._newest(session_id, recent))
        window: int | None = _FIRST_WINDOW if recent is None else min(recent, _FIRST_WINDOW)
        while True:
            events = self._events(await self._newest(session_id, window))
            first = _first_after(events, after)
            if first > 0 or window is None or len(events) < window or window == recent:
                return events[first:]
            # Every event read is at or after the timestamp: read further back.
            window = _grow(window, recent)

    async def _newest(self, session_id: UUID, limit: int | None) -> list[Message]:
        """The newest ``limit`` messages (all for ``None``); one read up to a page."""
        if limit is not None and limit <= MAX_LIMIT:
            return await self.repository.get_recent_messages(session_id, limit)
        newest: deque[Message] = deque(maxlen=limit)  # more than a page: the whole history
        async for message in self.repository.iter_messages(session_id, MAX_LIMIT):
            newest.append(message)
        return list(newest)

    def _events(self, messages: list[Message]) -> list[Event]:
        if not self._size:
            return [message_event(message) for message in messages]
        events: list[Event] = []
        for message in messages:
            found = self._cache.get(message.id)
            if found is None or found[:2] != (message.created_at, message.updated_at):
                found = self._put(message, message_event(message))
            else:
                self._cache.move_to_end(message.id)
            events.append(found[2].model_copy(deep=True))
        return events

    def _put(self, message: Message, event: Event) -> tuple[datetime, datetime, Event]:
        entry = (message.created_at, message.updated_at, event)
        self._cache[message.id] = entry
        self._cache.move_to_end(message.id)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return entry


def _grow(window: int, limit: int | None) -> int | None:
    """The next window: four times as many events, at most ``limit`` (``None``: no limit);
    past one page, ``limit`` itself (the rest is read page by page anyway)."""
    grown = window * 4
    if limit is not None and grown >= limit:
        return limit
    return grown if grown <= MAX_LIMIT else limit


def _first_after(events: list[Event], after: float) -> int:
    """Index of the first event of the tail whose timestamps are all ``>= after`` (as ADK's
    in-memory service cuts: back from the newest to the first older event)."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].timestamp < after:
            return index + 1
    return 0
