"""Shared by the ADK tests: names, event builders and the ``service`` fixture (over the
contract suite's ``repository``, so every backend)."""

from __future__ import annotations

from typing import Any

import pytest
from google.adk.events import Event, EventActions
from google.genai import types

from ai_agent.infrastructure.database import Repository
from ai_agent.integrations.adk import RepositorySessionService

APP, USER = "my_app", "test_user"


@pytest.fixture
def service(repository: Repository) -> RepositorySessionService:
    return RepositorySessionService(repository)


def text_event(text: str, author: str = "user", **fields: Any) -> Event:
    role = "user" if author == "user" else "model"
    content = types.Content(role=role, parts=[types.Part(text=text)])
    return Event(invocation_id="invocation", author=author, content=content, **fields)


def delta_event(delta: dict[str, Any], **fields: Any) -> Event:
    return text_event("text", actions=EventActions(state_delta=delta), **fields)
