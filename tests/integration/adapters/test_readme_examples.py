"""The README's adapter examples run as written, with a canned model instead of a network one."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from ai_agent.infrastructure.database import InMemoryRepository
from integration.adapters.fakes import CannedModel, RecordingChatModel, text
from unit.test_docstring_examples import expected_output, readme_example


async def run(code: str, namespace: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    exec(
        compile("async def example():\n" + textwrap.indent(code, "    "), "<readme>", "exec"),
        namespace,
    )
    capsys.readouterr()
    await namespace["example"]()
    assert capsys.readouterr().out.splitlines() == expected_output(code)


@pytest.mark.usefixtures("agent_db")
async def test_openai_agents_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = readme_example("### OpenAI Agents SDK")
    agent = 'Agent(name="Assistant", instructions="Reply very concisely.")'
    assert agent in code
    code = code.replace(agent, agent[:-1] + ", model=model)")
    model = CannedModel([text("San Francisco")], [text("California")])
    await run(code, {"model": model}, capsys)
    assert "San Francisco" in str(model.inputs[1])  # the second turn saw the first


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
async def test_langchain_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = readme_example("### LangChain")
    url = "postgresql://app:secret@db/app"
    assert url in code
    code = code.replace(url, "memory://") + "assert reply.content == 'reply 2: Who am I?'\n"
    model = RecordingChatModel()
    async with InMemoryRepository() as repository:
        await run(code, {"model": model, "repository": repository}, capsys)
    assert [m.content for m in model.seen[0]] == ["Hi, I'm Ada"]
