"""Scoped state through the failover router: served by the primary only.

A scope is shared by many sessions, most of them older than any outage, so the fallback can
vouch for no scope's stored value: during an outage ``get_states`` is refused, and so are
``create_session_with_state`` and ``append_message_with_state`` whenever they carry state
(their scope deltas, session state, or ``if_last_activity`` check need stored values the
fallback may not hold). Without any, they are a plain ``create_session`` or
``create_message`` and follow those calls' rules (journaled). Arguments are checked first,
as everywhere, so bad input fails the same way in every state.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.health._routing import Router
from ai_agent.infrastructure.database.states import (
    checked_delta,
    checked_deltas,
    checked_instant,
    checked_scopes,
)

__all__ = ["StateRouter"]

_APPEND = inspect.signature(Repository.append_message_with_state)
_STATE = (
    "scoped state is kept by the primary only: the fallback holds just what was written"
    " during the outage"
)


class StateRouter(Router):
    """``get_states``, ``create_session_with_state`` and ``append_message_with_state``."""

    async def get_states(self, scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
        return await self._refused(
            lambda r: r.get_states(scopes), lambda _: checked_scopes(scopes), _STATE
        )

    async def create_session_with_state(
        self, session: Session, *, state: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Session:
        def check(repository: BaseRepository) -> bool:
            repository._entity(session, Session)
            return bool(checked_deltas(state))

        if not self._checked(check):
            return await self.create_session(session)
        return await self._refused(
            lambda r: r.create_session_with_state(session, state=state), check, _STATE
        )

    async def append_message_with_state(self, message: Message, **options: Any) -> Message:
        # The contract's keywords (state, session_state, if_last_activity), bound as it
        # declares them, so a wrong keyword fails here as it would on a repository.
        named = _APPEND.bind(self, message, **options).arguments
        state, session_state = named.get("state"), named.get("session_state")

        def check(repository: BaseRepository) -> bool:
            repository._entity(message, Message)
            deltas = checked_deltas(state)
            own = {} if session_state is None else checked_delta(session_state, "session_state")
            return bool(deltas or own or checked_instant(named.get("if_last_activity")))

        if not self._checked(check):
            return await self.create_message(message)
        return await self._refused(
            lambda r: r.append_message_with_state(message, **options), check, _STATE
        )

    def _checked(self, check: Any) -> bool:
        """Run ``check`` where ``_check`` would; ``True`` when no repository can (a stopped
        monitor: the call then fails as every call does)."""
        result: list[bool] = []
        self._check(lambda repository: result.append(check(repository)))
        return result[0] if result else True

    if TYPE_CHECKING:  # FailoverRepository's own, journaled during an outage

        async def create_session(self, session: Session) -> Session: ...
        async def create_message(self, message: Message) -> Message: ...
