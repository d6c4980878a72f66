"""One conversation, three readers: the repository, the Agents SDK adapter, LangChain's.

A conversation written through one adapter reads through the repository (roles, content,
tool calls) and through the other adapter; the Agents SDK's ``Runner`` can go on with a
conversation that LangChain wrote. Also over the health monitor's routing repository.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from agents import Agent, Runner
from agents.items import TResponseInputItem
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langchain_core.runnables.history import RunnableWithMessageHistory

from ai_agent.infrastructure.database import InMemoryRepository, Repository, RepositoryHealthMonitor
from ai_agent.integrations.langchain import RepositoryChatMessageHistory, RepositoryThread
from ai_agent.integrations.openai_agents import RepositorySession
from integration.adapters.fakes import CannedModel, RecordingChatModel, stored_call, text
from unit.health.support import routing_over_memory

AGENT_ITEMS: list[dict[str, Any]] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "Weather in Paris?"},
    {"type": "reasoning", "id": "rs_1", "summary": []},
    {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": '{"city": "Paris"}'},
    {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
    {
        "type": "message",
        "role": "assistant",
        "id": "m1",
        "content": [{"type": "output_text", "text": "Sunny.", "annotations": []}],
    },
]


def ids_of(messages: list[Any]) -> list[Any]:
    return [getattr(m, "id", None) for m in messages]


async def test_agents_conversation_reads_through_repository_and_langchain(
    repository: Repository,
) -> None:
    session = RepositorySession("shared", repository)
    await session.add_items(cast(list[TResponseInputItem], AGENT_ITEMS))
    stored = await repository.get_messages_by_session(session.session_uuid)
    assert [(str(m.role), m.content) for m in stored] == [
        ("system", "be brief"),
        ("user", "Weather in Paris?"),
        ("assistant", ""),
        ("assistant", ""),
        ("tool", "sunny"),
        ("assistant", "Sunny."),
    ]
    assert stored[3].tool_calls == [stored_call("c1", "weather", '{"city": "Paris"}')]
    read = await RepositoryChatMessageHistory("shared", repository).aget_messages()
    assert read == [
        SystemMessage("be brief", id=str(stored[0].id)),
        HumanMessage("Weather in Paris?", id=str(stored[1].id)),
        AIMessage("", id=str(stored[2].id)),
        AIMessage(
            "",
            id=str(stored[3].id),
            tool_calls=[tool_call(name="weather", args={"city": "Paris"}, id="c1")],
        ),
        ToolMessage("sunny", tool_call_id="c1", id=str(stored[4].id)),
        AIMessage("Sunny.", id=str(stored[5].id)),
    ]


async def test_langchain_conversation_reads_through_the_agents_sdk(
    repository: Repository,
) -> None:
    history = RepositoryChatMessageHistory("shared", repository)
    await history.aadd_messages(
        [
            SystemMessage("be brief"),
            HumanMessage([{"type": "text", "text": "Weather"}, {"type": "text", "text": "Paris?"}]),
            AIMessage(
                "Checking.",
                tool_calls=[
                    tool_call(name="weather", args={"city": "Paris"}, id="c1"),
                    tool_call(name="time", args={}, id="c2"),
                ],
            ),
            ToolMessage("sunny", tool_call_id="c1"),
            ToolMessage("noon", tool_call_id="c2"),
            AIMessage("Sunny at noon."),
        ]
    )
    session = RepositorySession("shared", repository)
    expected = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Weather\nParis?"},
        {"role": "assistant", "content": "Checking."},
        {
            "type": "function_call",
            "call_id": "c1",
            "name": "weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call", "call_id": "c2", "name": "time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "c2", "output": "noon"},
        {"role": "assistant", "content": "Sunny at noon."},
    ]
    assert await session.get_items() == expected
    assert await session.get_items(4) == expected[-4:]
    # The Runner goes on with it: the model sees LangChain's turns as SDK items.
    model = CannedModel([text("Still sunny.")])
    result = await Runner.run(Agent(name="a", model=model), "And now?", session=session)
    assert result.final_output == "Still sunny."
    assert model.inputs[0] == [*expected, {"role": "user", "content": "And now?"}]
    # A message that reads as several items is popped whole; its last item is returned.
    assert len(await history.aget_messages()) == 8
    await session.pop_item()
    await session.pop_item()
    assert await session.pop_item() == {"role": "assistant", "content": "Sunny at noon."}
    assert await session.pop_item() == expected[6]


@pytest.fixture
async def routed() -> AsyncIterator[Repository]:
    async with routing_over_memory() as repository:
        yield repository


@pytest.mark.memory
@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
async def test_both_adapters_work_behind_the_health_monitor(routed: Repository) -> None:
    model = CannedModel([text("one")], [text("two")])
    agent = Agent(name="a", model=model)
    session = RepositorySession("routed", routed)
    await Runner.run(agent, "first", session=session)
    await Runner.run(agent, "second", session=session)
    assert [item.get("role") for item in model.inputs[1]] == ["user", "assistant", "user"]
    assert (await session.pop_item()) is not None and len(await session.get_items()) == 3

    chat = RecordingChatModel()
    chain = RunnableWithMessageHistory(chat, lambda sid: RepositoryChatMessageHistory(sid, routed))
    config: Any = {"configurable": {"session_id": "routed-chat"}}
    await chain.ainvoke("hello", config)
    await chain.ainvoke("again", config)
    assert [m.content for m in chat.seen[-1]] == ["hello", "reply 1: hello", "again"]


@pytest.mark.memory
@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_sync_langchain_behind_the_health_monitor_on_a_repository_thread() -> None:
    monitor = RepositoryHealthMonitor(
        primary_repository=InMemoryRepository(), fallback_repository=InMemoryRepository()
    )
    with RepositoryThread(monitor.get_healthy_repository) as background:
        chat = RecordingChatModel()
        chain = RunnableWithMessageHistory(
            chat, lambda sid: RepositoryChatMessageHistory(sid, background)
        )
        config: Any = {"configurable": {"session_id": "routed-sync"}}
        chain.invoke("hello", config)
        chain.invoke("again", config)
        assert [m.content for m in chat.seen[-1]] == ["hello", "reply 1: hello", "again"]
        assert monitor.status().active == "primary"
    assert background.closed
