"""RepositorySession: the Agents SDK's ``Session`` over every backend.

The SDK's own session tests (``tests/memory/test_session.py``, ``test_session_limit.py``) are
ported as scenarios that run twice, on our session and on the SDK's reference
``SQLiteSession``: both must give the same answers, item for item. ``Runner.run`` drives a
canned model (no network) over several turns, on both sessions, and the model must see the
same input on every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast
from uuid import UUID, uuid4, uuid5

import pytest
from agents import Agent, RunConfig, Runner, SQLiteSession, function_tool
from agents.items import TResponseInputItem
from agents.memory import Session, SessionSettings

from ai_agent.config import feature_flags
from ai_agent.infrastructure.database import Repository, RepositoryValidationError
from ai_agent.integrations import SESSION_NAMESPACE
from ai_agent.integrations.openai_agents import RepositorySession
from integration.adapters.fakes import CannedModel, call, reasoning, stored_call, text

Items = list[TResponseInputItem]
Scenario = Callable[[Callable[[str], Session]], Awaitable[list[Any]]]

ZOO: list[dict[str, Any]] = [
    {"role": "user", "content": "plain"},
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": "https://example.org/a.png", "detail": "auto"},
        ],
    },
    {"role": "system", "content": "be brief"},
    {"role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
    {
        "type": "message",
        "role": "assistant",
        "id": "msg_1",
        "status": "completed",
        "content": [
            {"type": "output_text", "text": "hi", "annotations": [{"type": "file_citation"}]},
            {"type": "refusal", "refusal": "no"},
        ],
    },
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hm"}]},
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "lookup",
        "arguments": '{"q": "ü"}',
        "status": "completed",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "found"},
    {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [{"type": "input_text", "text": "a"}],
    },
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}},
    {"type": "computer_call_output", "call_id": "cc_1", "output": {"type": "computer_screenshot"}},
    {"type": "custom_tool_call", "call_id": "ct_1", "name": "grammar", "input": "free text"},
    {"type": "item_reference", "id": "ref_1"},
    {"role": "user", "content": "😊 \u2028 \"q\" O'Reilly'); DROP TABLE x;--", "x": [1, 2.5, None]},
]
# What the repository sees of each ZOO item: role, content, tool calls, tool_call_id.
ZOO_FIELDS: list[tuple[str, str, list[dict[str, Any]], str | None]] = [
    ("user", "plain", [], None),
    ("user", "look", [], None),
    ("system", "be brief", [], None),
    ("system", "rules", [], None),
    ("assistant", "hi\nno", [], None),
    ("assistant", "", [], None),
    (
        "assistant",
        "",
        [stored_call("call_1", "lookup", '{"q": "ü"}')],
        None,
    ),
    ("tool", "found", [], "call_1"),
    ("tool", "a", [], "call_2"),
    ("assistant", "", [], None),
    ("tool", "", [], "cc_1"),
    ("assistant", "", [], None),
    ("assistant", "", [], None),
    ("user", ZOO[-1]["content"], [], None),
]


def items(*contents: str) -> Items:
    return cast(Items, [{"role": "user", "content": content} for content in contents])


def sessions(repository: Repository) -> tuple[Callable[[str], Session], Callable[[str], Session]]:
    """Factories of our session and of the SDK's reference one, for one test."""
    reference_db: dict[str, SQLiteSession] = {}

    def ours(session_id: str) -> Session:
        return RepositorySession(session_id, repository)

    def reference(session_id: str) -> Session:
        reference_db[session_id] = SQLiteSession(session_id)
        return reference_db[session_id]

    return ours, reference


async def same_as_reference(repository: Repository, scenario: Scenario) -> list[Any]:
    ours, reference = sessions(repository)
    expected = await scenario(reference)
    assert await scenario(ours) == expected
    return expected


# -- the SDK's session scenarios, ours against SQLiteSession -------------------------------


async def direct(make: Callable[[str], Session]) -> list[Any]:
    session = make("direct_test")
    await session.add_items([*items("Hello"), {"role": "assistant", "content": "Hi there!"}])
    seen: list[Any] = [await session.get_items()]
    await session.clear_session()
    return [*seen, await session.get_items()]


async def pops(make: Callable[[str], Session]) -> list[Any]:
    session = make("pop_test")
    seen: list[Any] = [await session.pop_item()]
    await session.add_items(items("Hello", "Hi there!", "How are you?"))
    seen += [await session.pop_item(), await session.get_items()]
    seen += [await session.pop_item(), await session.pop_item(), await session.pop_item()]
    return [*seen, await session.get_items()]


async def pops_in_other_sessions(make: Callable[[str], Session]) -> list[Any]:
    one, two = make("session_1"), make("session_2")
    await one.add_items(items("Session 1 message"))
    await two.add_items(items("Session 2 message 1", "Session 2 message 2"))
    return [await two.pop_item(), await one.get_items(), await two.get_items()]


async def limits(make: Callable[[str], Session]) -> list[Any]:
    session = make("count_test")
    await session.add_items(items("M1", "R1", "M2", "R2", "M3", "R3"))
    return [await session.get_items(limit) for limit in (None, 2, 4, 6, 10, 1, 0, -1, -3)]


async def settings_limit(make: Callable[[str], Session]) -> list[Any]:
    session = make("settings")
    session.session_settings = SessionSettings(limit=3)
    await session.add_items(items(*(f"Message {i}" for i in range(10))))
    return [await session.get_items(), await session.get_items(limit=2)]


async def special_text(make: Callable[[str], Session]) -> list[Any]:
    session = make("special_chars_test")
    texts = ("こんにちは", "😊👍", "O'Reilly", "DROP TABLE sessions;", "Robert'); DROP--", "")
    await session.add_items(items(*texts))
    return [await session.get_items()]


async def concurrent_single_adds(make: Callable[[str], Session]) -> list[Any]:
    session = make("concurrent_test")
    await asyncio.gather(*(session.add_items(items(f"Message {i}")) for i in range(10)))
    return [sorted(str(item.get("content")) for item in await session.get_items())]


async def zoo(make: Callable[[str], Session]) -> list[Any]:
    session = make("zoo")
    await session.add_items(cast(Items, ZOO[:5]))
    await session.add_items(cast(Items, ZOO[5:]))
    seen: list[Any] = [await session.get_items()]
    seen += [await session.get_items(limit) for limit in range(1, len(ZOO) + 2)]
    return [*seen, await session.pop_item(), await session.pop_item(), await session.get_items()]


@pytest.mark.parametrize(
    "scenario",
    [
        direct,
        pops,
        pops_in_other_sessions,
        limits,
        settings_limit,
        special_text,
        concurrent_single_adds,
        zoo,
    ],
)
async def test_behaves_as_the_sdk_sqlite_session(
    repository: Repository, scenario: Scenario
) -> None:
    await same_as_reference(repository, scenario)


async def test_items_round_trip_exactly(repository: Repository) -> None:
    observed = await same_as_reference(repository, zoo)
    assert observed[0] == ZOO
    assert observed[3] == ZOO[-3:]


async def test_items_map_to_messages_readable_through_the_repository(
    repository: Repository,
) -> None:
    session = RepositorySession("mapped", repository, user_id="ada")
    await session.add_items(cast(Items, ZOO))
    stored = await repository.get_messages_by_session(session.session_uuid, limit=100)
    fields = [
        (str(m.role), m.content, m.tool_calls, m.metadata.get("tool_call_id")) for m in stored
    ]
    assert fields == ZOO_FIELDS
    assert [m.metadata["openai_agents"] for m in stored] == ZOO
    created = await repository.get_session(session.session_uuid)
    assert created is not None and created.user_id == "ada" and created.message_count == len(ZOO)


# -- Runner.run over several turns, ours against SQLiteSession ------------------------------


@function_tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def script() -> CannedModel:
    return CannedModel(
        [reasoning("greeting"), text("Hello Ada")],
        [call("weather", '{"city": "Paris"}', "call_w1")],
        [text("Sunny in Paris")],
        [text("You are Ada, and you asked about Paris")],
    )


async def conversation(session: Session, run_config: RunConfig | None = None) -> CannedModel:
    model = script()
    agent = Agent(name="assistant", model=model, tools=[weather])
    config = run_config or RunConfig()
    finals = []
    for turn in ("I am Ada", "Weather in Paris?", "Who am I and what did I ask?"):
        result = await Runner.run(agent, turn, session=session, run_config=config)
        finals.append(result.final_output)
    assert finals == ["Hello Ada", "Sunny in Paris", "You are Ada, and you asked about Paris"]
    return model


async def test_runner_keeps_history_across_turns(repository: Repository) -> None:
    ours, reference = RepositorySession("runner", repository), SQLiteSession("runner")
    model = await conversation(ours)
    assert model.inputs == (await conversation(reference)).inputs
    last = model.inputs[-1]
    assert [item.get("content") for item in last if item.get("role") == "user"] == [
        "I am Ada",
        "Weather in Paris?",
        "Who am I and what did I ask?",
    ]
    kinds = [item.get("type", "message") for item in last]
    assert kinds.count("function_call") == 1 and kinds.count("function_call_output") == 1
    assert "reasoning" in kinds
    assert await ours.get_items() == await reference.get_items()


@pytest.mark.parametrize("limit", [0, 1, 2, 5, None])
async def test_runner_with_a_session_limit_sees_what_the_reference_sees(
    repository: Repository, limit: int | None
) -> None:
    config = RunConfig(session_settings=SessionSettings(limit=limit))
    model = await conversation(RepositorySession("limited", repository), config)
    reference = await conversation(SQLiteSession("limited"), config)
    assert model.inputs == reference.inputs


async def test_runner_callbacks_and_list_input_as_the_reference(repository: Repository) -> None:
    def users_only(history: list[Any], new: list[Any]) -> list[Any]:
        return [item for item in history if item.get("role") == "user"] + new

    async def run(session: Session) -> tuple[list[list[Any]], Items]:
        await session.add_items([*items("Earlier"), {"role": "assistant", "content": "Saved"}])
        model = CannedModel([text("one")], [text("two")])
        agent = Agent(name="a", model=model)
        await Runner.run(agent, items("list input"), session=session)
        config = RunConfig(session_input_callback=users_only)
        await Runner.run(agent, "filtered", session=session, run_config=config)
        return model.inputs, await session.get_items()

    assert await run(RepositorySession("cb", repository)) == await run(SQLiteSession("cb"))


async def test_different_session_ids_keep_separate_histories(repository: Repository) -> None:
    model = CannedModel([text("cats")], [text("dogs")], [text("you like cats")])
    agent = Agent(name="a", model=model)
    cats, dogs = RepositorySession("one", repository), RepositorySession("two", repository)
    await Runner.run(agent, "I like cats", session=cats)
    await Runner.run(agent, "I like dogs", session=dogs)
    await Runner.run(agent, "What do I like?", session=cats)
    assert "dogs" not in str(model.inputs[-1]) and "I like cats" in str(model.inputs[-1])


# -- concurrency -------------------------------------------------------------------------


async def test_concurrent_pops_return_every_item_once(repository: Repository) -> None:
    session = RepositorySession("pops", repository)
    await session.add_items(items(*(f"m{i}" for i in range(20))))
    popped = await asyncio.gather(*(session.pop_item() for _ in range(20)))
    contents = sorted(str(item.get("content")) for item in popped if item is not None)
    assert contents == sorted(f"m{i}" for i in range(20))
    assert await session.get_items() == [] and await session.pop_item() is None
    stored = await repository.get_session(session.session_uuid)
    assert stored is not None and stored.message_count == 0


@pytest.mark.parametrize("shared", [True, False], ids=["one-instance", "instance-per-writer"])
async def test_concurrent_appends_lose_and_duplicate_nothing(
    repository: Repository, shared: bool
) -> None:
    """20 writers on a session that does not exist yet: one session, 60 items, each batch
    in its own order."""
    one = RepositorySession("appends", repository)
    writers = [one if shared else RepositorySession("appends", repository) for _ in range(20)]
    batches = [items(f"w{w}-0", f"w{w}-1", f"w{w}-2") for w in range(20)]
    await asyncio.gather(*(w.add_items(b) for w, b in zip(writers, batches, strict=True)))
    stored = [str(item.get("content")) for item in await one.get_items()]
    assert sorted(stored) == sorted(str(i.get("content")) for b in batches for i in b)
    for w in range(20):
        assert [c for c in stored if c.startswith(f"w{w}-")] == [f"w{w}-{i}" for i in range(3)]
    assert len(await repository.list_sessions(limit=1000)) == 1


# -- ids, limits, errors, fallbacks -------------------------------------------------------


async def test_session_ids_map_to_uuids(repository: Repository) -> None:
    named = str(uuid4())
    for session_id, expected in (
        (named, UUID(named)),
        (named.upper(), UUID(named)),
        ("user-42:support", uuid5(SESSION_NAMESPACE, "user-42:support")),
        ("", uuid5(SESSION_NAMESPACE, "")),
    ):
        session = RepositorySession(session_id, repository)
        assert session.session_id == session_id and session.session_uuid == expected
    session = RepositorySession("user-42:support", repository)
    await session.add_items(items("hi"))
    assert await repository.get_session(uuid5(SESSION_NAMESPACE, "user-42:support")) is not None


async def test_limits_above_the_page_size_and_no_limit_read_everything(
    repository: Repository,
) -> None:
    session = RepositorySession("long", repository)
    everything = items(*(f"m{i}" for i in range(1005)))
    await session.add_items(everything[:600])
    await session.add_items(everything[600:])
    assert await session.get_items() == everything
    assert await session.get_items(1003) == everything[-1003:]
    assert await session.get_items(1000) == everything[-1000:]
    assert await session.get_items(5000) == everything


async def test_an_item_that_is_not_json_is_refused_and_nothing_is_stored(
    repository: Repository,
) -> None:
    session = RepositorySession("bad", repository)
    await session.add_items(items("kept"))
    bad = cast(TResponseInputItem, {"role": "user", "content": {1, 2}})
    with pytest.raises(RepositoryValidationError, match="item 1 is not JSON"):
        await session.add_items([*items("lost"), bad])
    assert await session.get_items() == items("kept")


async def test_appends_one_by_one_when_bulk_operations_are_off(repository: Repository) -> None:
    session = RepositorySession("bulk-off", repository)
    with feature_flags.override("bulk_operations", False):
        await session.add_items(items("a", "b", "c"))
    assert await session.get_items() == items("a", "b", "c")


async def test_a_session_deleted_meanwhile_is_created_again(repository: Repository) -> None:
    session = RepositorySession("vanishing", repository, user_id="ada")
    await session.add_items(items("first"))
    assert await repository.delete_session(session.session_uuid)
    await session.add_items(items("second"))
    assert await session.get_items() == items("second")
    stored = await repository.get_session(session.session_uuid)
    assert stored is not None and stored.user_id == "ada"


async def test_clear_keeps_the_session_and_its_owner(repository: Repository) -> None:
    session = RepositorySession("cleared", repository, user_id="ada")
    await session.add_items(items("a", "b"))
    await session.clear_session()
    assert await session.get_items() == [] and await session.pop_item() is None
    stored = await repository.get_session(session.session_uuid)
    assert stored is not None and stored.user_id == "ada" and stored.message_count == 0
    await session.add_items(items("c"))
    assert await session.get_items() == items("c")


async def test_empty_appends_and_reads_of_an_unknown_session_store_nothing(
    repository: Repository,
) -> None:
    session = RepositorySession("nothing", repository)
    await session.add_items([])
    assert await session.get_items() == [] and await session.get_items(3) == []
    assert await session.pop_item() is None
    await session.clear_session()
    assert await repository.get_session(session.session_uuid) is None


def test_settings_default_and_dictionary() -> None:
    repository = cast(Repository, object())
    assert RepositorySession("s", repository).session_settings == SessionSettings()
    session = RepositorySession("s", repository, session_settings={"limit": 4})
    assert session.session_settings == SessionSettings(limit=4)
