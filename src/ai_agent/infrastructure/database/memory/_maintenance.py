"""Retention: prune idle sessions, count them, trim long threads, find the long ones."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ai_agent.infrastructure.database.memory._messages import MessageStore
from ai_agent.infrastructure.database.memory._sessions import SessionStore

__all__ = ["count_inactive_sessions", "long_sessions", "prune_sessions", "trim_messages"]


def prune_sessions(
    sessions: SessionStore, messages: MessageStore, cutoff: datetime, limit: int
) -> tuple[int, int]:
    doomed = [key[1] for key in sessions.by_activity.ascending(limit, 0) if key[0] < cutoff]
    records = sessions.records
    message_total = sum(records[session_id].session.message_count for session_id in doomed)
    for session_id in doomed:
        sessions.remove(session_id)
        messages.drop_thread(session_id)
    return len(doomed), message_total


def count_inactive_sessions(sessions: SessionStore, cutoff: datetime) -> tuple[int, int]:
    session_total = message_total = 0
    for record in sessions.records.values():  # a job's count, not a request: a scan is fine
        if record.session.last_activity < cutoff:
            session_total += 1
            message_total += record.session.message_count
    return session_total, message_total


def trim_messages(messages: MessageStore, session_id: UUID, keep: int, limit: int) -> int:
    thread = messages.threads.get(session_id)
    if thread is None:
        return 0
    doomed = thread.entries[: max(0, min(limit, len(thread.entries) - keep))]
    for entry in doomed:
        messages.delete(entry.id)
    return len(doomed)


def long_sessions(
    sessions: SessionStore, more_than: int, after: UUID | None, limit: int
) -> list[tuple[UUID, int]]:
    found = sorted(
        (record.session.id, record.session.message_count)
        for record in sessions.records.values()
        if record.session.message_count > more_than and (after is None or record.session.id > after)
    )
    return found[:limit]
