"""Decoding what a backend stored rebuilds the model without validating it again.

These paths trust the store (every write was validated); what this version did not write
must still end in a ``RepositoryError`` that says what is wrong, never in a half-built model.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC
from enum import IntEnum
from typing import Any
from uuid import uuid4

import pytest

from ai_agent.domain.models import Agent, Message, MessageRole, Session, Tool
from ai_agent.infrastructure.database.copies import clone, construct, field_kinds, owned
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.json_text import decode_json
from ai_agent.infrastructure.database.redis import _codec as codec


def _message() -> Message:
    return Message(
        session_id=uuid4(),
        role=MessageRole.TOOL,
        content="héllo 😀",
        metadata={"n": 10**30, "f": 1.5, "nested": {"a": [1, {"b": None}]}},
        tool_calls=[{"name": "x", "arguments": {}}],
        parent_message_id=uuid4(),
    )


def _frame(message: Message) -> str:
    parent = str(message.parent_message_id or "")
    return f"{codec.micros(message.created_at)}\0{parent}\0{codec.message_body(message)}"


def test_a_stored_message_comes_back_equal_with_its_types() -> None:
    message = _message()
    decoded = codec.decode_message(_frame(message))
    assert decoded == message
    assert decoded.role is MessageRole.TOOL
    assert decoded.updated_at.tzinfo is UTC and decoded.created_at.tzinfo is UTC
    assert list(decoded.__dict__) == list(Message.model_fields)


def test_a_stored_session_comes_back_equal_in_field_order() -> None:
    session = Session(user_id="u", title="t", metadata={"k": ["v"]})
    row: list[str | None] = [
        codec.session_doc(session),
        str(codec.micros(session.created_at)),
        str(codec.micros(session.last_activity)),
        "3",
        "u",
    ]
    stored = codec.decode_session(row)
    assert stored == session.model_copy(update={"message_count": 3})
    assert stored is not None and list(stored.__dict__) == list(Session.model_fields)


@pytest.mark.parametrize(
    "change",
    [
        lambda body: {key: value for key, value in body.items() if key != "role"},
        lambda body: {**body, "id": "not-a-uuid"},
        lambda body: {**body, "role": "robot"},
        lambda body: {**body, "updated_at": "yesterday"},
    ],
)
def test_data_this_version_did_not_write_is_an_error(change: object) -> None:
    message = _message()
    created, parent, body = _frame(message).split("\0", 2)
    altered = json.dumps(change(json.loads(body)))  # type: ignore[operator]
    with pytest.raises(RepositoryError, match="is not a valid Message"):
        codec.decode_message(f"{created}\0{parent}\0{altered}")


def test_stored_json_reads_what_json_reads() -> None:
    # pydantic-core's parser on the fast path; what it refuses goes to json.loads.
    texts = [
        '{"n":1000000000000000000000000000001,"f":0.1,"e":1e-7,"s":"\\u00e9\\n"}',
        '{"lone":"\\ud800"}',  # a lone surrogate escape: json.loads takes it
        '{"a":[],"b":{},"c":null,"d":true}',
        "{}",
        "[]",
        "[{}]",
    ]
    for text in texts:
        assert decode_json(text) == json.loads(text)
    with pytest.raises(ValueError):
        decode_json('{"a":')
    # past Python's int <-> text digit limit (json.loads refuses it): read exactly
    assert decode_json("[" + "1" * 5000 + "]") == [(10**5000 - 1) // 9]


def test_owned_and_clone_share_nothing_mutable() -> None:
    agent = Agent(name="a", llm_config={"deep": {"list": [1]}}, tools=["t"])
    copy = owned(Agent.model_validate(dict(agent.__dict__)))
    assert copy == agent
    assert copy.llm_config["deep"] is not agent.llm_config["deep"]
    again = clone(copy)
    again.llm_config["deep"]["list"].append(2)
    again.tools.append("u")
    assert copy.llm_config == {"deep": {"list": [1]}} and copy.tools == ["t"]


def test_validation_copies_json_into_plain_types_in_the_same_walk() -> None:
    class Level(IntEnum):
        HIGH = 3

    nested: dict[str, Any] = {"deep": [{"level": Level.HIGH}], "order": OrderedDict(b=1, a=2)}
    message = Message(session_id=uuid4(), role=MessageRole.USER, content="hi", metadata=nested)
    assert message.metadata == {"deep": [{"level": 3}], "order": {"b": 1, "a": 2}}
    assert message.metadata["deep"] is not nested["deep"]
    assert type(message.metadata["deep"][0]["level"]) is int
    assert type(message.metadata["order"]) is dict
    nested["deep"][0]["level"] = 0  # the caller's input, changed after validation
    assert message.metadata["deep"] == [{"level": 3}]
    with pytest.raises(ValueError, match=r"value\['deep'\]\[0\]\['x'\] holds a set"):
        Message(
            session_id=uuid4(),
            role=MessageRole.USER,
            content="hi",
            metadata={"deep": [{"x": {1}}]},
        )


def test_construct_builds_a_model_that_behaves_like_a_validated_one() -> None:
    tool = Tool(name="t", tool_schema={"type": "object"})
    built = construct(Tool, dict(tool.__dict__))
    assert built == tool
    built.description = "now validated on assignment"
    assert "description" in built.model_fields_set
    with pytest.raises(ValueError, match="NUL"):
        built.description = "\x00"


def test_field_kinds_strip_optional_and_annotated() -> None:
    kinds = field_kinds(Message)
    assert kinds["parent_message_id"].__name__ == "UUID"
    assert kinds["content"] is str and kinds["metadata"] is dict and kinds["tool_calls"] is list
    assert kinds["role"] is MessageRole
