"""Small factories for contract data: valid entities with every field set, overridable.

Timestamps are explicit (``at(seconds)``) so no test depends on the wall clock's ordering;
names carry a random suffix so entities never collide unless a test wants them to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from ai_agent.domain.models import (
    Agent,
    AgentStatus,
    ExternalService,
    ExternalServiceType,
    MCPServer,
    Message,
    MessageRole,
    Session,
    Tool,
)

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)

# Credentials the suite checks never leak into an error message or a repr.
SECRET = "s3cr3t-contract-token-9f2c"

RICH_JSON: dict[str, Any] = {
    "nested": {"list": [1, [2, [3, {"deep": True}]], {"x": None}], "empty": {}, "none": []},
    "unicode": "héllo wörld ñ 中文 русский العربية",
    "emoji": "🙂🚀👩‍👩‍👧‍👦",
    "🔑 key with spaces": "value",
    "big_int": 2**80,
    "negative_big_int": -(2**80),
    "max_int64_plus_one": 2**63,
    "floats": [0.1, 1.5, -2.25, 3.141592653589793, 1e-7, 1.0],
    "bools": [True, False],
    "null": None,
    'quote " and backslash \\': "'single' \"double\" \\back",
}


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``: explicit, distinct timestamps."""
    return T0 + timedelta(seconds=seconds)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:12]}"


def make_session(**overrides: Any) -> Session:
    fields: dict[str, Any] = {
        "user_id": "user-1",
        "title": "Billing question",
        "metadata": {"channel": "web", "tags": ["billing", "urgent"], "score": 0.5},
        "created_at": T0,
        "updated_at": T0,
        "last_activity": T0,
    }
    fields.update(overrides)
    return Session(**fields)


def make_message(session: Session | UUID, **overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "session_id": session.id if isinstance(session, Session) else session,
        "role": MessageRole.USER,
        "content": "Why was I charged twice?",
        "metadata": {"tokens": 12, "model": "gpt-x"},
        "tool_calls": [{"name": "lookup", "arguments": {"invoice": 42}}],
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Message(**fields)


def make_agent(**overrides: Any) -> Agent:
    fields: dict[str, Any] = {
        "name": unique("agent"),
        "description": "Answers billing questions",
        "system_prompt": "You are helpful.",
        "llm_config": {"model": "gpt-x", "temperature": 0.2, "max_tokens": 512},
        "tools": ["lookup", "refund"],
        "status": AgentStatus.PROCESSING,
        "metadata": {"team": "billing"},
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Agent(**fields)


def make_tool(**overrides: Any) -> Tool:
    fields: dict[str, Any] = {
        "name": unique("tool"),
        "description": "Looks up an invoice",
        "tool_schema": {"type": "object", "properties": {"invoice": {"type": "integer"}}},
        "enabled": True,
        "metadata": {"owner": "billing"},
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Tool(**fields)


def make_mcp_server(**overrides: Any) -> MCPServer:
    fields: dict[str, Any] = {
        "name": unique("mcp"),
        "description": "Billing MCP server",
        "endpoint": "http://127.0.0.1:9000/mcp",
        "authentication": {"type": "bearer", "token": SECRET},
        "capabilities": ["tools", "resources"],
        "health_check_url": "http://127.0.0.1:9000/health",
        "enabled": True,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return MCPServer(**fields)


def make_external_service(**overrides: Any) -> ExternalService:
    fields: dict[str, Any] = {
        "name": unique("service"),
        "service_type": ExternalServiceType.LLM_PROVIDER,
        "endpoint": "https://llm.example.test/v1",
        "authentication": {"api_key": SECRET},
        "retry_config": {"max_attempts": 3, "backoff": 0.5},
        "circuit_breaker_config": {"failure_threshold": 5},
        "health_check_url": "https://llm.example.test/health",
        "enabled": True,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return ExternalService(**fields)


def nested_json(levels: int) -> dict[str, Any]:
    """A JSON object nested ``levels`` deep: the outermost object is level 1, ``{}`` the last."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value
