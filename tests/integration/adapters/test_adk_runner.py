"""An ADK ``Runner`` over ``RepositorySessionService``: a canned model, no network.

Each turn the model sees the whole conversation (the earlier turns come back from the
store, not from the session object), calls a tool on one turn, and writes state that the
next turn reads; a second service over the same repository (another process, say) continues
the conversation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from pydantic import Field

from ai_agent.infrastructure.database import Repository
from ai_agent.integrations.adk import RepositorySessionService, session_key

APP, USER = "runner_app", "u-1"


class CannedModel(BaseLlm):
    """Answers from a script; records the texts of every request it was sent."""

    model: str = "canned"
    script: list[types.Content] = Field(default_factory=list)
    seen: list[list[str]] = Field(default_factory=list)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        self.seen.append(
            [
                part.text
                for content in llm_request.contents
                for part in content.parts or []
                if part.text
            ]
        )
        yield LlmResponse(content=self.script.pop(0))


def reply(text: str) -> types.Content:
    return types.Content(role="model", parts=[types.Part(text=text)])


def remember(city: str, tool_context: ToolContext) -> dict[str, Any]:
    """Remember the user's city."""
    tool_context.state["user:city"] = city
    tool_context.state["temp:scratch"] = "never stored"
    return {"stored": city}


def user_says(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


async def run(runner: Runner, session_id: str, text: str) -> list[str]:
    said = []
    async for event in runner.run_async(
        user_id=USER, session_id=session_id, new_message=user_says(text)
    ):
        if event.content and event.content.parts:
            said += [part.text for part in event.content.parts if part.text]
    return said


async def test_runner_keeps_history_and_state_across_turns(repository: Repository) -> None:
    call = types.FunctionCall(name="remember", args={"city": "Paris"})
    model = CannedModel(
        script=[
            reply("Hello Ada."),
            types.Content(role="model", parts=[types.Part(function_call=call)]),
            reply("Noted: Paris."),
            reply("You are Ada, in Paris."),
        ]
    )
    agent = LlmAgent(name="assistant", model=model, tools=[remember], instruction="Be brief.")
    service = RepositorySessionService(repository)
    runner = Runner(agent=agent, app_name=APP, session_service=service)
    session = await service.create_session(app_name=APP, user_id=USER)

    assert await run(runner, session.id, "I am Ada.") == ["Hello Ada."]
    assert await run(runner, session.id, "I live in Paris.") == ["Noted: Paris."]
    assert model.seen[-1][:3] == ["I am Ada.", "Hello Ada.", "I live in Paris."]

    # Another service over the same store: the conversation goes on where it was.
    other = Runner(agent=agent, app_name=APP, session_service=RepositorySessionService(repository))
    assert await run(other, session.id, "Who am I?") == ["You are Ada, in Paris."]
    assert model.seen[-1][0] == "I am Ada."
    assert model.seen[-1][-1] == "Who am I?"

    stored = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert stored is not None
    assert stored.state == {"user:city": "Paris"}
    assert await service.get_user_state(app_name=APP, user_id=USER) == {"city": "Paris"}
    authors = [event.author for event in stored.events]
    assert authors == [
        "user",
        "assistant",
        "user",
        "assistant",
        "assistant",
        "assistant",
        "user",
        "assistant",
    ]
    messages = await repository.get_messages_by_session(session_key(APP, USER, session.id))
    assert [m.role.value for m in messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
