"""One framework conversation as one ``Session``: the repository calls every adapter makes.

Adapters convert framework items to :class:`Message` and back; :class:`Conversation` stores
them. What it guarantees, on every backend and behind the failover router:

* the session is created on the first append (``get_or_create_session``, so concurrent
  first appends create it once) and created again if it vanished meanwhile (deleted,
  pruned or expired);
* one append is one ``create_messages`` batch, all or nothing, or one ``create_message``
  per item when the ``bulk_operations`` flag is off;
* ``recent(n)`` costs the same however long the history is (one ``get_recent_messages``
  read up to the repository's page size); ``everything()`` pages by position;
* a mutation runs to its end even when the caller is cancelled meanwhile (as the Agents
  SDK's own sessions do), so a cancelled append is stored whole or not at all.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import Message, Session
from ai_agent.infrastructure.database.contract import MAX_LIMIT, Repository
from ai_agent.infrastructure.database.errors import (
    NotFoundError,
    OperationDisabledError,
    RepositoryValidationError,
)
from ai_agent.integrations import session_uuid

__all__ = ["Conversation", "as_json", "finish", "function_call", "text_of"]

_T = TypeVar("_T")


async def finish(awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable`` to its end even if the caller is cancelled; then re-raise that."""
    task = asyncio.ensure_future(awaitable)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio logs no "exception was never retrieved"
        raise cancelled
    return task.result()


def as_json(value: Any, what: str) -> Any:
    """``value`` as JSON text would give it back (tuples become lists, as the frameworks'
    own JSON stores do), or RepositoryValidationError naming ``what`` is not JSON."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise RepositoryValidationError(f"{what} is not JSON: {exc}") from None


def text_of(content: Any) -> str:
    """The plain text of a framework content value: a string, or the text parts of a list
    joined with newlines (parts of other kinds, images or files, have none)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            text = part.get("text", part.get("refusal"))
            if isinstance(text, str):
                texts.append(text)
    return "\n".join(texts)


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """One entry of ``Message.tool_calls``: the OpenAI chat shape every adapter reads."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


class Conversation:
    """The messages of the session that a framework calls ``session_id``."""

    def __init__(self, repository: Repository, session_id: str, user_id: str | None) -> None:
        self.repository = repository
        self.id: UUID = session_uuid(session_id)
        self._user_id = user_id
        self._created = False

    async def append(self, messages: Sequence[Message]) -> None:
        """Store ``messages`` at the end of the conversation, all of them or none."""
        if messages:
            await finish(self._append(messages))

    async def _append(self, messages: Sequence[Message]) -> None:
        if not self._created:
            await self._ensure_session()
        try:
            await self._store(messages)
        except NotFoundError:
            # The session went away since we saw it (deleted, pruned, expired): nothing of
            # the batch was stored, so create it again and store the batch once more.
            await self._ensure_session()
            await self._store(messages)

    async def _ensure_session(self) -> None:
        await self.repository.get_or_create_session(Session(id=self.id, user_id=self._user_id))
        self._created = True

    async def _store(self, messages: Sequence[Message]) -> None:
        try:
            await self.repository.create_messages(messages)
        except OperationDisabledError:  # bulk_operations is off: one at a time, in order
            for message in messages:
                await self.repository.create_message(message)

    async def recent(self, limit: int) -> list[Message]:
        """The newest ``limit`` messages (``limit`` >= 1), oldest first."""
        if limit <= MAX_LIMIT:
            return await self.repository.get_recent_messages(self.id, limit)
        newest: deque[Message] = deque(maxlen=limit)
        async for message in self.repository.iter_messages(self.id, MAX_LIMIT):
            newest.append(message)
        return list(newest)

    async def everything(self) -> list[Message]:
        """The whole history, oldest first, however long."""
        return [message async for message in self.repository.iter_messages(self.id, MAX_LIMIT)]

    async def pop(self) -> Message | None:
        """Remove and return the newest message (atomic: concurrent pops never share one)."""
        return await finish(self.repository.pop_message(self.id))

    async def clear(self) -> None:
        """Delete every message; the session itself (user, title, metadata) stays."""
        await finish(self.repository.clear_messages(self.id))
