"""LangChain chat histories in any ``Repository``: ``pip install 'ai-agent[langchain]'``.

Async code passes a connected repository; ``RunnableWithMessageHistory.ainvoke`` then works::

    from ai_agent.integrations.langchain import RepositoryChatMessageHistory

    chain = RunnableWithMessageHistory(
        model, lambda session_id: RepositoryChatMessageHistory(session_id, repository)
    )
    await chain.ainvoke("Hi", config={"configurable": {"session_id": "user-42:support"}})

Synchronous code (``invoke``) needs the repository on an event loop of its own: a
:class:`RepositoryThread` runs it in a private daemon thread, shared by every history::

    with RepositoryThread.from_url("postgresql://app@db/app") as background:
        chain = RunnableWithMessageHistory(
            model, lambda session_id: RepositoryChatMessageHistory(session_id, background)
        )
        chain.invoke("Hi", config={"configurable": {"session_id": "user-42:support"}})

``RepositoryChatMessageHistory.from_url(session_id, url)`` builds a history that owns such a
thread; ``close()`` (or ``with``) stops it. The sync API (``messages``, ``add_messages``,
``clear``) of a history over a plain repository raises ``RuntimeError`` instead of blocking
its loop.

``session_id`` maps to the ``Session`` whose id is ``ai_agent.integrations.session_uuid
(session_id)``: a UUID string names that session, any other string maps to
``uuid5(SESSION_NAMESPACE, session_id)``. Each LangChain message is one ``Message``:
``human`` -> user, ``ai`` -> assistant (its ``tool_calls`` in ``Message.tool_calls`` as
``{"id", "type": "function", "function": {"name", "arguments": JSON text}}``), ``system``
-> system, ``tool``/``function`` -> tool (``tool_call_id`` also in
``metadata["tool_call_id"]``), ``chat`` -> its role when it is one of ours, else user;
``content`` is the text (text parts of a list joined with "\\n"). The message itself is in
``metadata["langchain"]`` as ``message_to_dict`` gives it, and read back from there, so it
round-trips exactly. A message without that key (written by another adapter or through the
repository) is rebuilt from role, content, tool calls and ``tool_call_id``, with ``id`` the
stored message's id.

``BaseChatMessageHistory`` and ``RunnableWithMessageHistory`` are deprecated by
langchain-core (since 1.6.4 and 1.3.3, removal announced for 2.0), hence ``<2`` in the extra.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import Message, MessageRole
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.scoped import ClosesOnExit
from ai_agent.integrations import extra_required
from ai_agent.integrations._conversation import Conversation, as_json, function_call, text_of
from ai_agent.integrations._threaded import RepositoryThread

with extra_required("langchain", "langchain_core", needed_by=__name__):
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.messages import (
        AIMessage,
        BaseMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
        message_to_dict,
        messages_from_dict,
    )
    from langchain_core.messages.tool import invalid_tool_call, tool_call

__all__ = ["RepositoryChatMessageHistory", "RepositoryThread"]

FRAMEWORK = "langchain"
_T = TypeVar("_T")
_TYPES = {
    "human": MessageRole.USER,
    "ai": MessageRole.ASSISTANT,
    "AIMessageChunk": MessageRole.ASSISTANT,
    "system": MessageRole.SYSTEM,
    "tool": MessageRole.TOOL,
    "function": MessageRole.TOOL,
}
_CHAT_ROLES = {"user": MessageRole.USER, "assistant": MessageRole.ASSISTANT}
_CHAT_ROLES |= {"system": MessageRole.SYSTEM, "developer": MessageRole.SYSTEM}
_CHAT_ROLES |= {"tool": MessageRole.TOOL}


class RepositoryChatMessageHistory(BaseChatMessageHistory, ClosesOnExit):
    """The LangChain chat history of one conversation, stored in a repository.

    ``repository`` is a connected ``Repository`` (async API only) or a
    :class:`RepositoryThread` (async and sync API).
    """

    def __init__(
        self,
        session_id: str,
        repository: Repository | RepositoryThread,
        *,
        user_id: str | None = None,
    ) -> None:
        """``user_id`` is given to the ``Session`` created by the first append."""
        super().__init__()
        self.session_id = session_id
        self._thread = repository if isinstance(repository, RepositoryThread) else None
        store = repository.repository if isinstance(repository, RepositoryThread) else repository
        self._conversation = Conversation(store, session_id, user_id)
        self._owns_thread = False

    @classmethod
    def from_url(cls, session_id: str, url: str, **options: Any) -> RepositoryChatMessageHistory:
        """A history over its own :class:`RepositoryThread` for ``url``; ``close()`` stops it.

        ``options`` go to ``RepositoryFactory.from_url`` (pool sizes, ...).
        """
        background = RepositoryThread.from_url(url, **options)
        history = cls(session_id, background)
        history._owns_thread = True
        return history

    @property
    def session_uuid(self) -> UUID:
        """The ``Session.id`` this conversation is stored under."""
        return self._conversation.id

    # -- async API: native --------------------------------------------------------------

    async def aget_messages(self) -> list[BaseMessage]:
        stored = await self._call(self._conversation.everything())
        return [_message_of(message) for message in stored]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        session = self._conversation.id
        rows = [_stored(session, message, index) for index, message in enumerate(messages)]
        await self._call(self._conversation.append(rows))

    async def aclear(self) -> None:
        await self._call(self._conversation.clear())

    async def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._thread is None:
            return await coroutine
        return await self._thread.arun(coroutine)

    # -- sync API: through the RepositoryThread ------------------------------------------

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # an attribute there
        """Every message, oldest first."""
        stored = self._blocking(self._conversation.everything())
        return [_message_of(message) for message in stored]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        session = self._conversation.id
        rows = [_stored(session, message, index) for index, message in enumerate(messages)]
        self._blocking(self._conversation.append(rows))

    def clear(self) -> None:
        self._blocking(self._conversation.clear())

    def _blocking(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._thread is None:
            coroutine.close()
            raise RuntimeError(
                "RepositoryChatMessageHistory over a repository has only the async API "
                "(aget_messages, aadd_messages, aclear; ainvoke for runnables); for "
                "synchronous code build it over a RepositoryThread, or with "
                "RepositoryChatMessageHistory.from_url(session_id, url)"
            )
        return self._thread.run(coroutine)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop the thread ``from_url`` started (a thread passed in stays the caller's)."""
        if self._owns_thread and self._thread is not None:
            self._thread.close()


def _stored(session_id: UUID, message: BaseMessage, index: int) -> Message:
    """The ``Message`` that stores ``message``."""
    if not isinstance(message, BaseMessage):
        kind = type(message).__name__
        raise TypeError(f"message {index} is a {kind}, not a langchain BaseMessage")
    payload = as_json(message_to_dict(message), f"message {index}")
    role = _TYPES.get(message.type)
    if role is None:
        role = _CHAT_ROLES.get(str(getattr(message, "role", "")), MessageRole.USER)
    metadata: dict[str, Any] = {FRAMEWORK: payload}
    if isinstance(message, ToolMessage):
        metadata["tool_call_id"] = message.tool_call_id
    calls = message.tool_calls if isinstance(message, AIMessage) else []
    return Message(
        session_id=session_id,
        role=role,
        content=text_of(message.content),
        tool_calls=[
            function_call(call["id"] or "", call["name"], json.dumps(call["args"]))
            for call in calls
        ],
        metadata=metadata,
    )


def _message_of(message: Message) -> BaseMessage:
    """The LangChain message a stored message reads as."""
    payload = message.metadata.get(FRAMEWORK)
    if isinstance(payload, dict):
        try:
            return messages_from_dict([payload])[0]
        except (KeyError, TypeError, ValueError):  # not a message dict: read the fields
            pass
    return _rebuilt(message)


def _rebuilt(message: Message) -> BaseMessage:
    """A message written by another adapter or through the repository, from its fields."""
    content, message_id = message.content, str(message.id)
    if message.role is MessageRole.USER:
        return HumanMessage(content=content, id=message_id)
    if message.role is MessageRole.SYSTEM:
        return SystemMessage(content=content, id=message_id)
    if message.role is MessageRole.TOOL:
        call_id = message.metadata.get("tool_call_id")
        return ToolMessage(content=content, tool_call_id=str(call_id or ""), id=message_id)
    calls, invalid = _tool_calls(message.tool_calls)
    return AIMessage(content=content, id=message_id, tool_calls=calls, invalid_tool_calls=invalid)


def _tool_calls(stored: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """LangChain's ``tool_calls`` and ``invalid_tool_calls`` (arguments not a JSON object)."""
    calls, invalid = [], []
    for call in stored:
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        name, call_id = str(function.get("name", "")), str(call.get("id", ""))
        arguments = function.get("arguments", "{}")
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            args = None
        if isinstance(args, dict):
            calls.append(tool_call(name=name, args=args, id=call_id))
        else:
            error = "arguments are not a JSON object"
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id, error=error))
    return calls, invalid
