"""Scoped state: one JSON object per scope, and the writes that change it with a session."""

from __future__ import annotations

from typing import Any

from ai_agent.domain.models import Message, Session, utc_now
from ai_agent.infrastructure.database.copies import copy_json
from ai_agent.infrastructure.database.memory._messages import MessageStore
from ai_agent.infrastructure.database.memory._sessions import SessionStore
from ai_agent.infrastructure.database.states import (
    StateDeltas,
    StatefulAppend,
    merge_session_state,
)

__all__ = ["ScopedStates", "append_message_with_state", "create_session_with_state"]


class ScopedStates:
    """Scope -> key -> JSON value; reads return copies."""

    def __init__(self) -> None:
        self.scopes: dict[str, dict[str, Any]] = {}

    def get(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        stored = self.scopes
        return {scope: copy_json(stored[scope]) for scope in scopes if scope in stored}

    def merge(self, deltas: StateDeltas) -> None:
        for scope, delta in deltas.items():  # the deltas are the repository's own copies
            self.scopes.setdefault(scope, {}).update(delta)


def create_session_with_state(
    sessions: SessionStore, states: ScopedStates, session: Session, state: StateDeltas
) -> Session:
    created = sessions.create(session)
    states.merge(state)
    return created


def append_message_with_state(
    messages: MessageStore, states: ScopedStates, append: StatefulAppend
) -> Message | None:
    """Append unless the session's ``last_activity`` is past ``if_last_activity`` (then
    ``None``), merging the session's own delta into its metadata first."""
    message, state, session_state, if_last_activity = append
    record = messages.check_new(message, {})
    session = record.session
    if if_last_activity is not None and session.last_activity > if_last_activity:
        return None
    if session_state:
        session.__dict__["metadata"] = merge_session_state(session.metadata, session_state)
        session.__dict__["updated_at"] = utc_now()
    stored = messages.append(message, record)
    states.merge(state)
    return stored
