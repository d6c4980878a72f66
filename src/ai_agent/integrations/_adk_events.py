"""ADK sessions and events as ``Session`` and ``Message``: names, scopes and conversions.

Imported by :mod:`ai_agent.integrations.adk` only, after it has checked that ADK is there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from google.adk.events import Event
from google.adk.sessions import Session as AdkSession
from google.adk.sessions import State
from google.genai import types
from pydantic_core import to_jsonable_python

from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.integrations import session_uuid
from ai_agent.integrations._conversation import function_call

__all__ = [
    "FRAMEWORK",
    "adk_session",
    "app_scope",
    "event_message",
    "identity",
    "message_event",
    "session_key",
    "split_state",
    "stored_session",
    "user_scope",
    "users_scope",
]

FRAMEWORK = "adk"


def _name(*parts: str) -> str:
    """One unambiguous string for a tuple of names (a JSON array: no separator to escape)."""
    return json.dumps(["adk", *parts], ensure_ascii=False, separators=(",", ":"))


def session_key(app_name: str, user_id: str, session_id: str) -> UUID:
    """The ``Session.id`` of an ADK session: ADK scopes session ids by app and user."""
    return session_uuid(_name(app_name, user_id, session_id))


def app_scope(app_name: str) -> str:
    """The scope of the ``app:`` state of an app (keys without the prefix)."""
    return _name("app", app_name)


def user_scope(app_name: str, user_id: str) -> str:
    """The scope of the ``user:`` state of one user of an app."""
    return _name("user", app_name, user_id)


def users_scope(app_name: str) -> str:
    """The scope listing the users of an app (``user_id -> true``), so that
    ``list_sessions(user_id=None)`` reads those users' sessions, not every app's."""
    return _name("users", app_name)


def split_state(state: Mapping[str, Any] | None) -> tuple[dict[str, Any], ...]:
    """(app, user, session) deltas of an ADK state dict, prefixes removed, ``temp:`` dropped.

    Values go to JSON as ADK's database service stores them (``to_jsonable_python``: a
    datetime becomes ISO text); a value with no JSON form falls back to its ``str``.
    """
    app: dict[str, Any] = {}
    user: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for key, value in (state or {}).items():
        if key.startswith(State.APP_PREFIX):
            app[key.removeprefix(State.APP_PREFIX)] = value
        elif key.startswith(State.USER_PREFIX):
            user[key.removeprefix(State.USER_PREFIX)] = value
        elif not key.startswith(State.TEMP_PREFIX):
            own[key] = value
    return tuple(to_jsonable_python(part, fallback=str) for part in (app, user, own))


def stored_session(app_name: str, user_id: str, session_id: str, own: dict[str, Any]) -> Session:
    """The ``Session`` a new ADK session is stored as (created now)."""
    now = datetime.now(UTC)
    return Session(
        id=session_key(app_name, user_id, session_id),
        user_id=user_id,
        metadata={
            FRAMEWORK: {"app_name": app_name, "user_id": user_id, "session_id": session_id},
            "state": own,
        },
        created_at=now,
        updated_at=now,
        last_activity=now,
    )


def identity(stored: Session) -> tuple[str, str, str] | None:
    """(app name, user id, session id) of a stored ADK session; ``None`` for another one."""
    found = stored.metadata.get(FRAMEWORK)
    if not isinstance(found, dict):
        return None
    names = (found.get("app_name"), found.get("user_id"), found.get("session_id"))
    if not all(isinstance(name, str) for name in names):
        return None
    return names  # type: ignore[return-value]  # checked: three str


def adk_session(
    stored: Session,
    names: tuple[str, str, str],
    app_state: Mapping[str, Any],
    user_state: Mapping[str, Any],
    events: list[Event],
) -> AdkSession:
    """The ADK view: session state merged with ``app:`` and ``user:`` state, as ADK does."""
    own = stored.metadata.get("state")
    state = dict(own) if isinstance(own, dict) else {}
    state.update((State.APP_PREFIX + key, value) for key, value in app_state.items())
    state.update((State.USER_PREFIX + key, value) for key, value in user_state.items())
    app_name, user_id, session_id = names
    return AdkSession(
        id=session_id,
        app_name=app_name,
        user_id=user_id,
        state=state,
        events=events,
        last_update_time=stored.last_activity.timestamp(),
    )


# -- events -----------------------------------------------------------------------------------


def event_message(session_id: UUID, event: Event) -> Message:
    """One event as one message (the shared mapping); the event itself in ``metadata["adk"]``.

    The message id is ``uuid5(session id, event id)``: event ids are unique per session.
    """
    data = event.model_dump(mode="json", exclude_none=True)
    parts = [p for p in (data.get("content") or {}).get("parts") or [] if isinstance(p, dict)]
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
    calls = [p["function_call"] for p in parts if isinstance(p.get("function_call"), dict)]
    answers = [
        p["function_response"] for p in parts if isinstance(p.get("function_response"), dict)
    ]
    metadata: dict[str, Any] = {FRAMEWORK: data}
    if answers:
        role = MessageRole.TOOL
        if isinstance(answers[0].get("id"), str):
            metadata["tool_call_id"] = answers[0]["id"]
    else:
        role = MessageRole.USER if event.author == "user" else MessageRole.ASSISTANT
    created = datetime.fromtimestamp(event.timestamp, UTC)
    return Message(
        id=uuid5(session_id, event.id),
        session_id=session_id,
        role=role,
        content="\n".join(texts),
        tool_calls=[
            function_call(
                str(call.get("id") or ""),
                str(call.get("name") or ""),
                json.dumps(call.get("args") or {}, ensure_ascii=False),
            )
            for call in calls
        ],
        metadata=metadata,
        created_at=created,
        updated_at=created,
    )


def _each(parts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [part[kind] for part in parts if isinstance(part.get(kind), dict)]


def message_event(message: Message) -> Event:
    """The event a message holds; a message without one is rebuilt from its fields."""
    data = message.metadata.get(FRAMEWORK)
    if isinstance(data, dict):
        return Event.model_validate(data)
    return _rebuilt(message)


def _rebuilt(message: Message) -> Event:
    parts: list[types.Part] = []
    if message.content and message.role is not MessageRole.TOOL:
        parts.append(types.Part(text=message.content))
    for call in message.tool_calls:
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except ValueError:
            args = {"arguments": function.get("arguments")}
        parts.append(
            types.Part(
                function_call=types.FunctionCall(
                    id=call.get("id") or None,
                    name=function.get("name"),
                    args=args if isinstance(args, dict) else {"value": args},
                )
            )
        )
    if message.role is MessageRole.TOOL:
        call_id = message.metadata.get("tool_call_id")
        answer = types.FunctionResponse(
            id=call_id if isinstance(call_id, str) else None,
            name=str(message.metadata.get("name") or ""),
            response={"result": message.content},
        )
        parts.append(types.Part(function_response=answer))
    is_model = message.role is MessageRole.ASSISTANT
    return Event(
        id=str(message.id),
        invocation_id="",
        author="user" if message.role is MessageRole.USER else message.role.value,
        content=types.Content(role="model" if is_model else "user", parts=parts),
        timestamp=message.created_at.timestamp(),
    )
