"""A missing extra is one typed error naming the pip command (``ai_agent.extras``)."""

from __future__ import annotations

import sys

import pytest

from ai_agent.integrations import MissingExtraError, extra_required, install_hint, require


@pytest.fixture
def absent(monkeypatch: pytest.MonkeyPatch) -> str:
    """A module name that cannot be imported (a None entry stops the import system)."""
    monkeypatch.setitem(sys.modules, "ai_agent_absent_framework", None)
    return "ai_agent_absent_framework"


def test_require_names_the_extra(absent: str) -> None:
    with pytest.raises(MissingExtraError) as caught:
        require(f"{absent}.memory", "openai-agents", needed_by="ai_agent.integrations.x")
    assert str(caught.value) == (
        "ai_agent.integrations.x needs the 'ai_agent_absent_framework' package from the "
        "openai-agents extra, which is not installed; install it with: "
        "pip install 'ai-agent[openai-agents]'"
    )
    assert isinstance(caught.value, ImportError)
    assert caught.value.extra == "openai-agents"
    assert caught.value.name == absent


def test_require_returns_the_module() -> None:
    assert require("json", "none") is sys.modules["json"]


def test_extra_required_translates_only_the_named_modules(absent: str) -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'ai-agent\[langchain\]'$"):
        with extra_required("langchain", absent):
            __import__(absent)
    # Another missing module inside the block is a real bug: it propagates untouched.
    with pytest.raises(ModuleNotFoundError) as caught:
        with extra_required("langchain", "langchain_core"):
            __import__(absent)
    assert not isinstance(caught.value, MissingExtraError)


def test_install_hint() -> None:
    assert install_hint("otel") == "pip install 'ai-agent[otel]'"
