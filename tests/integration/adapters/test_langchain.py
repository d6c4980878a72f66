"""RepositoryChatMessageHistory: LangChain's chat history over every backend.

LangChain's own chat-history tests (``tests/unit_tests/chat_history``, ``test_chat_history``,
``runnables/test_history.py``) are ported as scenarios that run on our history and on the
reference ``InMemoryChatMessageHistory``: both must end with equal messages and outputs.
``RunnableWithMessageHistory`` runs with ``ainvoke`` over the test's repository, and with
``invoke`` from synchronous code over a ``RepositoryThread``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from ai_agent.infrastructure.database import InMemoryRepository, Repository, migrations
from ai_agent.integrations.langchain import RepositoryChatMessageHistory, RepositoryThread
from integration.adapters.fakes import RecordingChatModel, stored_call

# RunnableWithMessageHistory and the reference InMemoryChatMessageHistory are deprecated by
# langchain-core (removal announced for 2.0); SPEC.md section 8 names them, so their
# warnings are expected here.
pytestmark = pytest.mark.filterwarnings(
    "ignore::langchain_core._api.deprecation.LangChainDeprecationWarning"
)

Histories = Callable[[str], BaseChatMessageHistory]

ZOO: list[BaseMessage] = [
    SystemMessage("You are terse.", id="s1"),
    HumanMessage(
        [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "u"}}],
        name="ada",
        id="h1",
    ),
    AIMessage(
        [{"type": "text", "text": "calling"}],
        id="a1",
        name="bot",
        tool_calls=[
            tool_call(name="weather", args={"city": "Paris", "n": [1, 2.5, None]}, id="t1"),
            tool_call(name="time", args={}, id="t2"),
        ],
        invalid_tool_calls=[invalid_tool_call(name="bad", args="{oops", id="t3", error="json")],
        usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
        response_metadata={"model_name": "m", "finish_reason": "tool_calls"},
        additional_kwargs={"refusal": None},
    ),
    ToolMessage("sunny", tool_call_id="t1", artifact={"raw": [1, 2]}, status="success"),
    ToolMessage("failed", tool_call_id="t2", status="error", name="time"),
    AIMessageChunk(content="partial", id="c1"),
    ChatMessage(role="developer", content="dev note"),
    FunctionMessage(name="legacy", content="out"),
    HumanMessage("😊 O'Reilly'); DROP TABLE x;-- \u2028"),
    AIMessage(""),
]
# Role, content, tool calls and tool_call_id of each ZOO message, as the repository sees it.
ZOO_FIELDS = [
    ("system", "You are terse.", [], None),
    ("user", "look", [], None),
    (
        "assistant",
        "calling",
        [
            stored_call("t1", "weather", '{"city": "Paris", "n": [1, 2.5, null]}'),
            stored_call("t2", "time", "{}"),
        ],
        None,
    ),
    ("tool", "sunny", [], "t1"),
    ("tool", "failed", [], "t2"),
    ("assistant", "partial", [], None),
    ("system", "dev note", [], None),
    ("tool", "out", [], None),
    ("user", "😊 O'Reilly'); DROP TABLE x;-- \u2028", [], None),
    ("assistant", "", [], None),
]


def pair(repository: Repository) -> tuple[Histories, Histories]:
    """Factories of our history and of the reference in-memory one, for one test."""
    reference: dict[str, InMemoryChatMessageHistory] = {}

    def ours(session_id: str) -> BaseChatMessageHistory:
        return RepositoryChatMessageHistory(session_id, repository)

    def theirs(session_id: str) -> BaseChatMessageHistory:
        return reference.setdefault(session_id, InMemoryChatMessageHistory())

    return ours, theirs


Scenario = Callable[[Histories], Awaitable[list[Any]]]


async def same_as_reference(repository: Repository, scenario: Scenario) -> list[Any]:
    ours, theirs = pair(repository)
    expected = await scenario(theirs)
    assert await scenario(ours) == expected
    return expected


# -- LangChain's chat-history scenarios ----------------------------------------------------


async def async_interface(make: Histories) -> list[Any]:
    history = make("async")
    await history.aadd_messages([HumanMessage("Hello"), HumanMessage("World")])
    # Copies: the reference returns its own list, which the next call changes.
    seen: list[Any] = [list(await history.aget_messages())]
    await history.aadd_messages([HumanMessage("!")])
    seen.append(list(await history.aget_messages()))
    await history.aclear()
    return [*seen, await history.aget_messages()]


async def reopened(make: Histories) -> list[Any]:
    first = make("reopen")
    turns: list[BaseMessage] = [HumanMessage("Hello, AI!"), AIMessage("Hello, how can I help?")]
    turns += [HumanMessage("Tell me a joke."), AIMessage("Why did the chicken cross the road?")]
    await first.aadd_messages(turns)
    other = make("other")
    await other.aadd_messages([HumanMessage("elsewhere")])
    return [await make("reopen").aget_messages(), await make("other").aget_messages()]


async def tool_calls_kept(make: Histories) -> list[Any]:
    history = make("tools")
    await history.aadd_messages(ZOO[:5])
    messages = await history.aget_messages()
    ai = messages[2]
    assert isinstance(ai, AIMessage)
    return [messages, ai.tool_calls, ai.invalid_tool_calls, ai.usage_metadata]


async def zoo(make: Histories) -> list[Any]:
    history = make("zoo")
    await history.aadd_messages(ZOO[:4])
    await history.aadd_messages(ZOO[4:])
    return [await history.aget_messages()]


@pytest.mark.parametrize("scenario", [async_interface, reopened, tool_calls_kept, zoo])
async def test_behaves_as_the_in_memory_history(repository: Repository, scenario: Scenario) -> None:
    await same_as_reference(repository, scenario)


async def test_messages_round_trip_exactly(repository: Repository) -> None:
    [read] = await same_as_reference(repository, zoo)
    assert read == ZOO
    assert [type(m) for m in read] == [type(m) for m in ZOO]


async def test_messages_map_to_roles_content_and_tool_calls(repository: Repository) -> None:
    history = RepositoryChatMessageHistory("mapped", repository, user_id="ada")
    await history.aadd_messages(ZOO)
    stored = await repository.get_messages_by_session(history.session_uuid)
    fields = [
        (str(m.role), m.content, m.tool_calls, m.metadata.get("tool_call_id")) for m in stored
    ]
    assert fields == ZOO_FIELDS
    assert all(
        json.loads(c["function"]["arguments"]) is not None for m in stored for c in m.tool_calls
    )
    session = await repository.get_session(history.session_uuid)
    assert session is not None and session.user_id == "ada"


# -- RunnableWithMessageHistory ------------------------------------------------------------


def echo(inputs: Any) -> str:
    messages = inputs["history"] if isinstance(inputs, dict) else inputs
    said = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
    if isinstance(inputs, dict):
        said.append(inputs["input"])
    return "you said: " + "\n".join(said)


CHAINS: dict[str, tuple[Runnable[Any, Any], dict[str, str], Callable[[str], Any]]] = {
    "input-messages": (RunnableLambda(echo), {}, lambda text: [HumanMessage(text)]),
    "input-dict-history-key": (
        RunnableLambda(echo),
        {"input_messages_key": "input", "history_messages_key": "history"},
        lambda text: {"input": text},
    ),
    "output-message": (
        RunnableLambda(lambda inputs: AIMessage(echo(inputs))),
        {"input_messages_key": "input", "history_messages_key": "history"},
        lambda text: {"input": text},
    ),
    "output-dict": (
        RunnableLambda(lambda inputs: {"output": [AIMessage(echo(inputs))]}),
        {
            "input_messages_key": "input",
            "history_messages_key": "history",
            "output_messages_key": "output",
        },
        lambda text: {"input": text},
    ),
}


@pytest.mark.parametrize("chain", list(CHAINS))
async def test_runnable_with_history_as_the_reference(repository: Repository, chain: str) -> None:
    runnable, keys, make_input = CHAINS[chain]

    async def scenario(make: Histories) -> list[Any]:
        # keys holds only the *_messages_key options (str), not history_factory_config
        with_history = RunnableWithMessageHistory(runnable, make, **keys)  # type: ignore[arg-type]
        config: Any = {"configurable": {"session_id": f"chain-{chain}"}}
        outputs = [await with_history.ainvoke(make_input(t), config) for t in ("hello", "bye")]
        return [*outputs, await make(f"chain-{chain}").aget_messages()]

    *_, stored = await same_as_reference(repository, scenario)
    assert [m.content for m in stored] == [
        "hello",
        "you said: hello",
        "bye",
        "you said: hello\nbye",
    ]


async def test_chat_model_sees_earlier_turns_with_ainvoke(repository: Repository) -> None:
    model = RecordingChatModel()
    chain = RunnableWithMessageHistory(
        model, lambda session_id: RepositoryChatMessageHistory(session_id, repository)
    )
    config: Any = {"configurable": {"session_id": "user-42:support"}}
    for turn in ("I am Ada", "I like tea", "Who am I?"):
        await chain.ainvoke(turn, config)
    assert [[str(m.content) for m in seen] for seen in model.seen] == [
        ["I am Ada"],
        ["I am Ada", "reply 1: I am Ada", "I like tea"],
        ["I am Ada", "reply 1: I am Ada", "I like tea", "reply 2: I like tea", "Who am I?"],
    ]
    stored = await RepositoryChatMessageHistory("user-42:support", repository).aget_messages()
    assert stored == [*model.seen[-1], stored[-1]]
    assert isinstance(stored[-1], AIMessage) and stored[-1].response_metadata["turn"] == 3


# -- synchronous use: RepositoryThread ----------------------------------------------------

SYNC_BACKENDS = ("memory", "sqlite", "postgresql")


@pytest.fixture(
    params=[pytest.param(name, marks=getattr(pytest.mark, name), id=name) for name in SYNC_BACKENDS]
)
def thread_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for RepositoryThread.from_url (migrated); ``memory://`` needs no server."""
    if request.param == "memory":
        yield "memory://"
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'threaded.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    asyncio.run(migrations.upgrade(url))
    yield url


def test_chat_model_sees_earlier_turns_with_invoke(thread_url: str) -> None:
    model = RecordingChatModel()
    session_id = f"sync-{uuid4()}"
    with RepositoryThread.from_url(thread_url) as background:
        chain = RunnableWithMessageHistory(
            model, lambda sid: RepositoryChatMessageHistory(sid, background)
        )
        config: Any = {"configurable": {"session_id": session_id}}
        replies = [chain.invoke(turn, config).content for turn in ("one", "two", "three")]
        history = RepositoryChatMessageHistory(session_id, background)
        assert [m.content for m in history.messages] == [
            "one",
            replies[0],
            "two",
            replies[1],
            "three",
            replies[2],
        ]
        assert len(model.seen[-1]) == 5
        history.add_messages([HumanMessage("added")])
        assert history.messages[-1] == HumanMessage("added")
        assert asyncio.run(history.aget_messages()) == history.messages  # from another loop
        history.clear()
        assert history.messages == []
    assert background.closed


def test_from_url_owns_its_thread_and_close_stops_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'owned.db'}"
    asyncio.run(migrations.upgrade(url))
    with RepositoryChatMessageHistory.from_url("owned", url) as history:
        history.add_user_message("hi")
        history.add_ai_message("hello")
        assert [m.content for m in history.messages] == ["hi", "hello"]
        thread = history._thread
        assert thread is not None and not thread.closed
    assert thread.closed and not thread._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        history.clear()
    shared = RepositoryThread(InMemoryRepository())
    RepositoryChatMessageHistory("borrowed", shared).close()
    assert not shared.closed  # a thread passed in stays the caller's
    shared.close()
    shared.close()  # idempotent


async def test_sync_api_over_a_plain_repository_is_a_clear_error(repository: Repository) -> None:
    history = RepositoryChatMessageHistory("plain", repository)
    for call in (lambda: history.messages, lambda: history.add_user_message("x"), history.clear):
        with pytest.raises(RuntimeError, match="only the async API"):
            call()
    assert await history.aget_messages() == []


async def test_a_blocking_call_on_the_threads_own_loop_is_refused() -> None:
    background = RepositoryThread(InMemoryRepository())
    try:
        history = RepositoryChatMessageHistory("loop", background)

        async def inside() -> None:
            with pytest.raises(RuntimeError, match="wait for itself forever"):
                history.add_user_message("x")
            await history.aadd_messages([HumanMessage("async is fine")])

        background.run(inside())
        assert history.messages == [HumanMessage("async is fine")]
    finally:
        background.close()
