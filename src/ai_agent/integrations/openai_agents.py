"""OpenAI Agents SDK sessions in any ``Repository``: ``pip install 'ai-agent[openai-agents]'``.

Usage::

    from agents import Agent, Runner
    from ai_agent.infrastructure.database import RepositoryFactory
    from ai_agent.integrations.openai_agents import RepositorySession

    async with RepositoryFactory.from_url("sqlite:///chat.db") as repository:
        session = RepositorySession("user-42:support", repository, user_id="user-42")
        await Runner.run(agent, "Hello", session=session)
        await Runner.run(agent, "What did I just say?", session=session)  # sees turn 1

``session_id`` stays the caller's string; the conversation is stored as the ``Session``
whose id is ``ai_agent.integrations.session_uuid(session_id)`` (a UUID string names that
session, any other string maps to ``uuid5(SESSION_NAMESPACE, session_id)``).

Each item the SDK hands over becomes one ``Message``; the item itself is kept in
``metadata["openai_agents"]`` exactly as JSON gives it back (the SDK's own stores keep
``json.dumps(item)``), and read back from there:

* a message item (``role`` user, assistant, system or developer): that role (developer is
  ``system``), ``content`` its text parts joined with "\\n";
* ``function_call``: ``assistant``, ``content`` "", ``tool_calls`` ``[{"id": call_id,
  "type": "function", "function": {"name": name, "arguments": arguments}}]``;
* a tool output (``function_call_output`` and every other ``*_output`` kind): ``tool``,
  ``content`` the output's text, ``call_id`` also in ``metadata["tool_call_id"]``;
* anything else (reasoning, hosted tool calls, ...): ``assistant``, ``content`` "".

A message without ``metadata["openai_agents"]`` (written by another adapter or through the
repository) is read as items rebuilt from its fields: a message item with its text, one
``function_call`` item per tool call, a ``function_call_output`` for a tool message with a
``tool_call_id`` (a tool message without one reads as a user message). Such a message can
give several items; ``pop_item`` then removes the whole message and returns its last item.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from ai_agent.domain.models import Message, MessageRole
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import RepositoryValidationError
from ai_agent.integrations import extra_required
from ai_agent.integrations._conversation import Conversation, as_json, function_call, text_of

with extra_required("openai-agents", "agents", needed_by=__name__):
    from agents.items import TResponseInputItem
    from agents.memory import SessionABC, SessionSettings

__all__ = ["RepositorySession"]

FRAMEWORK = "openai_agents"
_ROLES = {
    "user": MessageRole.USER,
    "assistant": MessageRole.ASSISTANT,
    "system": MessageRole.SYSTEM,
    "developer": MessageRole.SYSTEM,
}


class RepositorySession(SessionABC):
    """An Agents SDK session (``SessionABC``) over a connected ``Repository``.

    The repository's lifecycle is the caller's: connect it before use, disconnect it after.
    """

    def __init__(
        self,
        session_id: str,
        repository: Repository,
        *,
        user_id: str | None = None,
        session_settings: SessionSettings | dict[str, Any] | None = None,
    ) -> None:
        """``user_id`` is given to the ``Session`` created by the first ``add_items`` (an
        existing session keeps its own); ``session_settings.limit`` is the default of
        ``get_items``, as in the SDK's own sessions."""
        self._conversation = Conversation(repository, session_id, user_id)
        self.session_id = session_id
        if isinstance(session_settings, dict):  # as the SDK's own sessions accept
            session_settings = SessionSettings(**session_settings)
        self.session_settings = session_settings or SessionSettings()

    @property
    def repository(self) -> Repository:
        return self._conversation.repository

    @property
    def session_uuid(self) -> UUID:
        """The ``Session.id`` this conversation is stored under."""
        return self._conversation.id

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The newest ``limit`` items, oldest first; every item when ``limit`` and
        ``session_settings.limit`` are ``None``. As in the SDK's ``SQLiteSession``, a limit of
        0 gives none and a negative one every item."""
        if limit is None and self.session_settings is not None:
            limit = self.session_settings.limit
        if limit == 0:
            return []
        if limit is None or limit < 0:
            messages = await self._conversation.everything()
            return [item for message in messages for item in _items(message)]
        messages = await self._conversation.recent(limit)
        return [item for message in messages for item in _items(message)][-limit:]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append ``items`` in order, all of them or none (the first call creates the session)."""
        session = self._conversation.id
        messages = [_message(session, item, index) for index, item in enumerate(items)]
        await self._conversation.append(messages)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the newest item; ``None`` when there is none."""
        message = await self._conversation.pop()
        return None if message is None else _items(message)[-1]

    async def clear_session(self) -> None:
        """Remove every item (the stored ``Session`` stays, with its user and title)."""
        await self._conversation.clear()


def _message(session_id: UUID, item: TResponseInputItem, index: int) -> Message:
    """The ``Message`` that stores ``item``."""
    data = as_json(item, f"item {index}")
    if not isinstance(data, dict):
        kind = type(item).__name__
        raise RepositoryValidationError(f"item {index} is a {kind}, not a JSON object")
    role, content, tool_calls = _fields(data)
    metadata: dict[str, Any] = {FRAMEWORK: data}
    call_id = data.get("call_id")
    if role is MessageRole.TOOL and isinstance(call_id, str):
        metadata["tool_call_id"] = call_id
    return Message(
        session_id=session_id,
        role=role,
        content=content,
        tool_calls=tool_calls,
        metadata=metadata,
    )


def _fields(item: dict[str, Any]) -> tuple[MessageRole, str, list[dict[str, Any]]]:
    """Role, plain text and tool calls of one item (see the module's table)."""
    kind = item.get("type")
    role = _ROLES.get(str(item.get("role")))
    if role is not None and kind in (None, "message"):
        return role, text_of(item.get("content")), []
    if kind == "function_call":
        arguments = item.get("arguments")
        call = function_call(
            str(item.get("call_id", "")),
            str(item.get("name", "")),
            arguments if isinstance(arguments, str) else json.dumps(arguments),
        )
        return MessageRole.ASSISTANT, "", [call]
    if isinstance(kind, str) and kind.endswith("_output"):
        return MessageRole.TOOL, text_of(item.get("output")), []
    return MessageRole.ASSISTANT, "", []


def _items(message: Message) -> list[Any]:
    """The items a stored message reads as: its own item, or items rebuilt from its fields."""
    own = message.metadata.get(FRAMEWORK)
    if isinstance(own, dict):
        return [own]
    if message.role is MessageRole.TOOL:
        call_id = message.metadata.get("tool_call_id")
        if isinstance(call_id, str):
            return [{"type": "function_call_output", "call_id": call_id, "output": message.content}]
        return [{"role": "user", "content": message.content}]
    items: list[Any] = []
    if message.content or not message.tool_calls:
        items.append({"role": str(message.role), "content": message.content})
    items.extend(_function_call_item(call) for call in message.tool_calls)
    return items


def _function_call_item(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function")
    function = function if isinstance(function, dict) else {}
    arguments = function.get("arguments", "{}")
    return {
        "type": "function_call",
        "call_id": str(call.get("id", "")),
        "name": str(function.get("name", "")),
        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
    }
