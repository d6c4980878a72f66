"""ADK session-service benchmark: ``RepositorySessionService`` beside ADK's own
``DatabaseSessionService``, on the same PostgreSQL server.

    python bench/adk_sessions.py [--scale small|full] [--repeat N] [--postgres-url URL]
                                 [--out DIR]

The peer needs SQLAlchemy's asyncio extension and asyncpg (``sqlalchemy[asyncio]`` is in the
base install, asyncpg in the ``postgresql`` extra; ADK itself in the ``adk`` extra). Without a
URL a throwaway durable server is started (fsync on) as ``bench/run.py`` does. Ours uses the
given database (migrated, its tables truncated); ADK's tables go to a database of their own
on the same server, ``<name>_adk_peer`` (dropped tables and all, each run), because both
name a table ``sessions``. Point it at a throwaway server.

Figures, ours then theirs in each run, ``--repeat`` runs (medians kept); both sides use a
pool of 20 connections and the same events (text of ~300 characters, a session-state delta
on every other event):

* ``append``: ``append_event`` in sequence on one session; events per second.
* ``append x16``: the same on 16 sessions at once; events per second.
* ``get_session(num_recent_events=50)`` p50 and p99 in ms on a session of ``events``
  events (10,000 at full scale); each read is checked (50 events, the newest last).
* ``list_sessions`` p50 in ms for a user of 100 sessions (checked: 100 sessions).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from google.adk.events import Event, EventActions
from google.adk.sessions import BaseSessionService
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from ai_agent.infrastructure.database import migrations  # noqa: E402
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository  # noqa: E402
from ai_agent.integrations.adk import RepositorySessionService  # noqa: E402
from bench.data import median_figures, percentiles  # noqa: E402
from bench.servers import endpoints, run_sql  # noqa: E402

POOL = 20
READ = 50
APP = "bench"
Side = Callable[[], Any]  # () -> async context manager yielding a BaseSessionService


@dataclass(frozen=True)
class Scale:
    appends: int  # sequential append_event calls on one session
    sessions: int  # concurrent sessions for "append x16"
    concurrent_appends: int
    events: int  # events in the session get_session reads
    reads: int
    listed: int  # sessions of the user list_sessions reads


SCALES = {
    "small": Scale(
        appends=200, sessions=16, concurrent_appends=10, events=1_000, reads=50, listed=100
    ),
    "full": Scale(
        appends=1_000, sessions=16, concurrent_appends=50, events=10_000, reads=300, listed=100
    ),
}


def event(number: int) -> Event:
    author = "user" if number % 2 == 0 else "assistant"
    text = f"Turn {number}: " + "revenue grew, costs held, margins widened. " * 7
    content = types.Content(
        role="user" if author == "user" else "model", parts=[types.Part(text=text)]
    )
    delta = {"turn": number} if number % 2 else {}
    return Event(
        invocation_id=f"inv-{number // 2}",
        author=author,
        content=content,
        actions=EventActions(state_delta=delta),
    )


# -- the sides ---------------------------------------------------------------------------


def ours(url: str) -> Side:
    @asynccontextmanager
    async def side() -> AsyncIterator[BaseSessionService]:
        await run_sql(url, "TRUNCATE messages, sessions, states")
        repository = PostgreSQLRepository.from_url(url, min_pool_size=POOL, max_pool_size=POOL)
        async with repository:
            yield RepositorySessionService(repository)

    return side


def theirs(url: str) -> Side:
    from google.adk.sessions.database_session_service import DatabaseSessionService

    peer_url = f"{url.rsplit('/', 1)[0]}/{url.rsplit('/', 1)[1].split('?')[0]}_adk_peer"

    @asynccontextmanager
    async def side() -> AsyncIterator[BaseSessionService]:
        await migrations.ensure_database(peer_url)
        await run_sql(
            peer_url,
            "DROP TABLE IF EXISTS events, sessions, app_states, user_states,"
            " adk_internal_metadata CASCADE",
        )
        engine_url = "postgresql+asyncpg://" + peer_url.split("://", 1)[1]
        service = DatabaseSessionService(engine_url, pool_size=POOL, max_overflow=0)
        try:
            await service.prepare_tables()
            yield service
        finally:
            await service.close()

    return side


# -- the figures -------------------------------------------------------------------------


async def append_rate(service: BaseSessionService, sessions: int, appends: int) -> float:
    """Events per second appended by ``sessions`` writers, ``appends`` events each."""
    made = [
        await service.create_session(app_name=APP, user_id=f"writer-{secrets.token_hex(4)}")
        for _ in range(sessions)
    ]
    batches = [[event(n) for n in range(appends)] for _ in made]

    async def writer(session: Any, events: list[Event]) -> None:
        for item in events:
            await service.append_event(session, item)

    started = time.perf_counter()
    await asyncio.gather(*(writer(s, events) for s, events in zip(made, batches, strict=True)))
    return sessions * appends / (time.perf_counter() - started)


async def read_latency(service: BaseSessionService, size: int, reads: int) -> tuple[float, float]:
    """p50 and p99 (ms) of ``get_session(num_recent_events=50)`` on ``size`` events."""
    session = await service.create_session(app_name=APP, user_id="reader")
    events = [event(n) for n in range(size)]
    for item in events:
        await service.append_event(session, item)
    config = GetSessionConfig(num_recent_events=READ)
    timings: list[float] = []
    for _ in range(reads):
        started = time.perf_counter()
        found = await service.get_session(
            app_name=APP, user_id="reader", session_id=session.id, config=config
        )
        timings.append(time.perf_counter() - started)
        if found is None or len(found.events) != READ or found.events[-1].id != events[-1].id:
            raise AssertionError("get_session(num_recent_events=50) returned the wrong events")
    return percentiles(timings)


async def list_latency(service: BaseSessionService, count: int, reads: int) -> float:
    """p50 (ms) of ``list_sessions`` for a user of ``count`` sessions."""
    for number in range(count):
        await service.create_session(app_name=APP, user_id="lister", state={"n": number})
    timings: list[float] = []
    for _ in range(reads):
        started = time.perf_counter()
        listed = await service.list_sessions(app_name=APP, user_id="lister")
        timings.append(time.perf_counter() - started)
        if len(listed.sessions) != count:
            raise AssertionError("list_sessions returned the wrong sessions")
    return percentiles(timings)[0]


async def measure(side: Side, scale: Scale) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with side() as service:
        figures["append"] = await append_rate(service, 1, scale.appends)
        figures["append_x16"] = await append_rate(service, scale.sessions, scale.concurrent_appends)
        figures["get_p50"], figures["get_p99"] = await read_latency(
            service, scale.events, scale.reads
        )
        figures["list_p50"] = await list_latency(service, scale.listed, scale.reads)
    return figures


# -- running and reporting ---------------------------------------------------------------


async def run(url: str, scale: Scale, repeat: int) -> dict[str, Any]:
    await migrations.ensure_database(url)
    await migrations.upgrade(url)
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "adk": []}
    for _ in range(repeat):  # ours then theirs each time, so drift hits both
        print("ours...", file=sys.stderr, flush=True)
        runs["ours"].append(await measure(ours(url), scale))
        print("ADK DatabaseSessionService...", file=sys.stderr, flush=True)
        runs["adk"].append(await measure(theirs(url), scale))
    return {name: median_figures(figures) for name, figures in runs.items()}


def table(results: dict[str, Any], scale: Scale) -> str:
    head = (
        f"| store | append_event events/s | append x{scale.sessions} events/s | "
        f"get_session(50) p50 @{scale.events:,} ms | p99 ms | "
        f"list_sessions({scale.listed}) p50 ms |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    names = {"ours": "RepositorySessionService", "adk": "ADK DatabaseSessionService"}
    for side, name in names.items():
        f = results[side]
        lines.append(
            f"| {name} | {f['append']:,.0f} | {f['append_x16']:,.0f} | {f['get_p50']:.2f} | "
            f"{f['get_p99']:.2f} | {f['list_p50']:.2f} |"
        )
    ours_f, adk_f = results["ours"], results["adk"]
    lines.append(
        f"| ours / ADK | {ours_f['append'] / adk_f['append']:.1f}x | "
        f"{ours_f['append_x16'] / adk_f['append_x16']:.1f}x | "
        f"{adk_f['get_p50'] / ours_f['get_p50']:.1f}x faster | "
        f"{adk_f['get_p99'] / ours_f['get_p99']:.1f}x faster | "
        f"{adk_f['list_p50'] / ours_f['list_p50']:.1f}x faster |"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/adk_sessions.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres-url")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.repeat < 1:
        _parser().error("--repeat must be at least 1")
    scale = SCALES[args.scale]
    with endpoints(["postgresql"], args.postgres_url, None) as found:
        assert found.postgres_url is not None
        results = asyncio.run(run(found.postgres_url, scale, args.repeat))
    print(table(results, scale))
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"scale": args.scale, "parameters": asdict(scale), "results": results}
    (args.out / f"adk-sessions-{args.scale}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
