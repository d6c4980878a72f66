"""Google ADK sessions in any ``Repository``: ``pip install 'ai-agent[adk]'``.

Usage::

    from google.adk.runners import Runner
    from ai_agent.infrastructure.database import RepositoryFactory
    from ai_agent.integrations.adk import RepositorySessionService

    async with RepositoryFactory.from_url("postgresql://...") as repository:
        sessions = RepositorySessionService(repository)
        runner = Runner(agent=agent, app_name="support", session_service=sessions)
        session = await sessions.create_session(app_name="support", user_id="u-42")
        async for event in runner.run_async(
            user_id="u-42", session_id=session.id, new_message=content
        ):
            ...

**Storage.** An ADK session is the ``Session`` whose id is :func:`session_key` ``(app_name,
user_id, session_id)`` (``session_uuid`` of a JSON array of the three: ADK scopes session
ids by app and user), with ``user_id`` the ADK user id and ``metadata`` holding
``{"adk": {"app_name", "user_id", "session_id"}, "state": <the session's own state>}``.
Each event is one ``Message`` (id ``uuid5(session id, event id)``, ``created_at`` the
event's timestamp to the microsecond): ``user`` for the user's events, ``tool`` for
function responses (the first call id also in ``metadata["tool_call_id"]``), else
``assistant``; ``content`` the text parts joined with "\\n"; ``tool_calls`` the function
calls in the OpenAI chat shape; and the event itself, exactly, in ``metadata["adk"]``
(``model_dump(mode="json", exclude_none=True)``, as ADK's database service keeps it; bytes
as base64). A message written without it (by another adapter) reads as an event rebuilt
from role, content and tool calls.

**State scoping.** ``app:`` keys are shared by every session of the app, ``user:`` keys by
every session of that user in that app, other keys belong to the session, and ``temp:`` keys
are never stored (they live in the session object until the invocation ends). App and user
state are repository *scopes* (``get_states``), stored key by key; an event's state delta,
the event and the stale-session check are one atomic ``append_message_with_state`` on every
backend (on Redis Cluster the app and user deltas follow right after it: see the contract).
Values are stored as JSON, as ADK's database service stores them.

**Edges, as ADK's own services.** A duplicate session id (even from two concurrent creates)
raises ``AlreadyExistsError``; an event appended to a missing session
``SessionNotFoundError``; through a session object whose ``last_update_time`` is older than
the stored session's ``StaleSessionError`` (appends through one object are serialised in the
process, as ADK's database service does); a repeated event id ``AlreadyExistsError``;
partial events are neither stored nor added. ``last_update_time`` is the stored session's
``last_activity``: the latest event timestamp, or the creation time if that is later.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.contract import MAX_LIMIT, Repository
from ai_agent.infrastructure.database.errors import ConflictError, DuplicateError, NotFoundError
from ai_agent.integrations import extra_required
from ai_agent.integrations._conversation import finish

with extra_required("adk", "google", needed_by=__name__):
    from google.adk.errors import StaleSessionError
    from google.adk.errors.already_exists_error import AlreadyExistsError
    from google.adk.errors.session_not_found_error import SessionNotFoundError
    from google.adk.events import Event
    from google.adk.sessions import BaseSessionService
    from google.adk.sessions import Session as AdkSession
    from google.adk.sessions.base_session_service import GetSessionConfig, ListSessionsResponse

    from ai_agent.integrations._adk_events import (
        adk_session,
        app_scope,
        event_message,
        identity,
        session_key,
        split_state,
        stored_session,
        user_scope,
        users_scope,
    )
    from ai_agent.integrations._adk_reads import DEFAULT_EVENT_CACHE, EventReader

__all__ = ["RepositorySessionService", "session_key"]

_STALE = (
    "The session has been modified in storage since it was loaded. "
    "Please reload the session before appending more events."
)


class RepositorySessionService(BaseSessionService):
    """A ``google.adk.sessions.BaseSessionService`` over any ``Repository`` (connected)."""

    def __init__(
        self, repository: Repository, *, event_cache_size: int = DEFAULT_EVENT_CACHE
    ) -> None:
        """``event_cache_size``: how many decoded events to keep for later reads (0: none);
        see :mod:`._adk_reads`."""
        self.repository = repository
        self._reader = EventReader(repository, event_cache_size)
        self._locks: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> AdkSession:
        sid = (session_id.strip() if session_id else None) or str(uuid.uuid4())
        app, user, own = split_state(state)
        session = stored_session(app_name, user_id, sid, own)
        scopes: dict[str, dict[str, Any]] = {users_scope(app_name): {user_id: True}}
        if app:
            scopes[app_scope(app_name)] = app
        if user:
            scopes[user_scope(app_name, user_id)] = user
        try:
            stored = await finish(self.repository.create_session_with_state(session, state=scopes))
        except DuplicateError:
            raise AlreadyExistsError(f"Session with id {sid} already exists.") from None
        app_state, user_state = await self._scoped(app_name, user_id)
        return adk_session(stored, (app_name, user_id, sid), app_state, user_state, [])

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> AdkSession | None:
        sid = session_id.strip() if session_id else session_id
        key = session_key(app_name, user_id, sid)
        # Three independent reads at once (a missing session has no events to read).
        stored, events, (app_state, user_state) = await asyncio.gather(
            self.repository.get_session(key),
            self._reader.read(key, config),
            self._scoped(app_name, user_id),
        )
        names = None if stored is None else identity(stored)
        if stored is None or names != (app_name, user_id, sid):
            return None
        return adk_session(stored, names, app_state, user_state, events)

    async def list_sessions(
        self, *, app_name: str, user_id: str | None = None
    ) -> ListSessionsResponse:
        found: list[tuple[Session, tuple[str, str, str]]] = []
        if user_id is not None:  # the sessions and the state, read at once
            found, states = await asyncio.gather(
                self._sessions_of(app_name, user_id), self._states_of(app_name, [user_id])
            )
        else:
            registry = await self.repository.get_states([users_scope(app_name)])
            for user in sorted(registry[users_scope(app_name)]):
                found.extend(await self._sessions_of(app_name, user))
            states = await self._states_of(app_name, sorted({names[1] for _, names in found}))
        app_state = states.get(app_scope(app_name), {})
        users = {names[1]: states.get(user_scope(app_name, names[1]), {}) for _, names in found}
        sessions = [
            adk_session(stored, names, app_state, users[names[1]], []) for stored, names in found
        ]
        sessions.sort(key=lambda s: (s.last_update_time, s.user_id, s.id))
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        sid = session_id.strip() if session_id else session_id
        await finish(self.repository.delete_session(session_key(app_name, user_id, sid)))

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        _, user_state = await self._scoped(app_name, user_id)
        return user_state

    # -- events ------------------------------------------------------------------------------

    async def append_event(self, session: AdkSession, event: Event) -> Event:
        if event.partial:
            return event
        # As ADK's base service: temp: values reach the session object, never the store.
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        key = session_key(session.app_name, session.user_id, session.id)
        delta = event.actions.state_delta if event.actions else None
        app, user, own = split_state(delta)
        scopes: dict[str, dict[str, Any]] = {}
        if app:
            scopes[app_scope(session.app_name)] = app
        if user:
            scopes[user_scope(session.app_name, user_id=session.user_id)] = user
        message = event_message(key, event)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:  # appends through one session object go one at a time
            loaded = datetime.fromtimestamp(session.last_update_time, UTC)
            stored = await self._append(session, key, message, scopes, own, loaded)
            session.last_update_time = max(loaded, stored.created_at).timestamp()
            self._reader.remember(stored, event)
            return await super().append_event(session=session, event=event)

    async def _append(
        self,
        session: AdkSession,
        key: UUID,
        message: Message,
        scopes: dict[str, dict[str, Any]],
        own: dict[str, Any],
        loaded: datetime,
    ) -> Message:
        write = self.repository.append_message_with_state(
            message, state=scopes, session_state=own or None, if_last_activity=loaded
        )
        try:
            return await finish(write)
        except NotFoundError:
            raise SessionNotFoundError(f"Session {session.id} not found.") from None
        except DuplicateError:
            raise AlreadyExistsError(
                f"Event {message.metadata['adk'].get('id')} already exists in session {session.id}."
            ) from None
        except ConflictError:
            current = await self.repository.get_session(key)
            if current is not None and current.last_activity > loaded:
                raise StaleSessionError(_STALE) from None
            raise

    # -- reads -------------------------------------------------------------------------------

    async def _scoped(self, app_name: str, user_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        app, user = app_scope(app_name), user_scope(app_name, user_id)
        states = await self.repository.get_states([app, user])
        return states[app], states[user]

    async def _states_of(self, app_name: str, users: list[str]) -> dict[str, dict[str, Any]]:
        scopes = [app_scope(app_name), *(user_scope(app_name, user) for user in users)]
        states: dict[str, dict[str, Any]] = {}
        for start in range(0, len(scopes), MAX_LIMIT):
            states.update(await self.repository.get_states(scopes[start : start + MAX_LIMIT]))
        return states

    async def _sessions_of(
        self, app_name: str, user_id: str
    ) -> list[tuple[Session, tuple[str, str, str]]]:
        """Every ADK session of the user in the app (the user's sessions of other apps are
        read and skipped: the repository indexes sessions by user, not by app)."""
        found: dict[UUID, tuple[Session, tuple[str, str, str]]] = {}
        offset = 0
        while True:
            page = await self.repository.list_sessions(user_id, MAX_LIMIT, offset)
            for stored in page:
                names = identity(stored)
                if names is not None and names[:2] == (app_name, user_id):
                    found.setdefault(stored.id, (stored, names))
            if len(page) < MAX_LIMIT:
                return list(found.values())
            offset += len(page)
