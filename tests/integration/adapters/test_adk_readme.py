"""The README's Google ADK example runs as written, with a canned model instead of Gemini."""

from __future__ import annotations

import pytest

from integration.adapters.test_adk_runner import CannedModel, reply
from integration.adapters.test_readme_examples import run
from unit.test_docstring_examples import readme_example


@pytest.mark.usefixtures("agent_db")
async def test_adk_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = readme_example("### Google ADK")
    assert 'model="gemini-2.5-flash"' in code
    code = code.replace('model="gemini-2.5-flash"', "model=model")
    model = CannedModel(script=[reply("San Francisco"), reply("California")])
    await run(code, {"model": model}, capsys)
    assert model.seen[1][:2] == ["What city is the Golden Gate Bridge in?", "San Francisco"]
