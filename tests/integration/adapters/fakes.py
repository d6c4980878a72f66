"""Models that answer from a script and record what they were given: no network.

``CannedModel`` implements the Agents SDK's ``Model`` (``get_response``); ``RecordingChatModel``
is a LangChain chat model. Both keep a deep copy of every input they saw.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Tool, Usage
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
)
from openai.types.responses.response_reasoning_item import Summary
from pydantic import Field


def stored_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A tool call as the repository stores it, in the OpenAI chat format."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def text(reply: str, item_id: str = "msg") -> ResponseOutputMessage:
    """An assistant message output item."""
    part = ResponseOutputText(text=reply, type="output_text", annotations=[])
    return ResponseOutputMessage(
        id=item_id, type="message", role="assistant", status="completed", content=[part]
    )


def call(name: str, arguments: str, call_id: str) -> ResponseFunctionToolCall:
    """A function call output item."""
    return ResponseFunctionToolCall(
        id=f"fc-{call_id}", type="function_call", name=name, arguments=arguments, call_id=call_id
    )


def reasoning(summary: str, item_id: str = "rs") -> ResponseReasoningItem:
    """A reasoning output item with a summary and encrypted content."""
    return ResponseReasoningItem(
        id=item_id,
        type="reasoning",
        summary=[Summary(text=summary, type="summary_text")],
        encrypted_content="opaque==",
    )


class CannedModel(Model):
    """Returns the queued outputs in order, one list per model call; records every input."""

    def __init__(self, *outputs: list[TResponseOutputItem]) -> None:
        self.outputs = list(outputs)
        self.inputs: list[list[Any]] = []

    def enqueue(self, *outputs: list[TResponseOutputItem]) -> None:
        self.outputs.extend(outputs)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: Any,
    ) -> ModelResponse:
        seen = [{"role": "user", "content": input}] if isinstance(input, str) else input
        self.inputs.append(copy.deepcopy(list(seen)))
        if not self.outputs:
            raise AssertionError("CannedModel called more often than scripted")
        return ModelResponse(output=self.outputs.pop(0), usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        # The SDK's Model declares it abstract; no test streams, so a call is a test bug.
        raise AssertionError("CannedModel is scripted for Runner.run, not run_streamed")


class RecordingChatModel(BaseChatModel):
    """Answers ``"reply <n>: <last human text>"`` and records every message list it saw."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording-fake"

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        self.seen.append(copy.deepcopy(messages))
        reply = AIMessage(
            content=f"reply {len(self.seen)}: {messages[-1].content}",
            response_metadata={"model_name": "recording-fake", "turn": len(self.seen)},
            usage_metadata={"input_tokens": len(messages), "output_tokens": 1, "total_tokens": 2},
        )
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        # On the caller's event loop: LangChain's default would answer from a worker thread.
        return self._answer(messages)
