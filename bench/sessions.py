"""Session-level benchmark: ``RepositorySession`` beside the Agents SDK's own stores.

    python bench/sessions.py [--scale small|full] [--backends postgresql,redis] [--repeat N]
                             [--postgres-url URL] [--redis-url URL] [--out DIR]

The peers are optional bench dependencies: ``pip install 'openai-agents[redis,sqlalchemy]'``
(the SDK's ``SQLAlchemySession`` over asyncpg, and ``RedisSession``). A missing peer is
reported and its column left empty. Without URLs, throwaway durable servers are started as
``bench/run.py`` does (PostgreSQL fsync on, Redis AOF everysec); a given PostgreSQL database
gets our tables migrated and truncated, and the SDK's ``agent_sessions``/``agent_messages``
dropped and created again, so point it at a throwaway database.

The same conversation goes through both sides, on the same server, in the same run, ours
then theirs for each figure, ``--repeat`` times (medians kept):

* ``append``: one conversation, turns of ``add_items([user, assistant])`` in sequence;
  items per second.
* ``append x16``: the same on 16 conversations at once; items per second.
* ``get_items(50)`` p50 and p99 in ms, with the conversation holding ``small`` and then
  ``large`` items (1,000 and 100,000 at full scale): a flat line is a cost independent of
  history.

Both sides use a pool of 20 connections. Each read is checked (50 items, the newest last),
so a side that returned the wrong items fails the run instead of looking fast.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from ai_agent.infrastructure.database import migrations  # noqa: E402
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository  # noqa: E402
from ai_agent.infrastructure.database.redis import RedisRepository  # noqa: E402
from ai_agent.integrations.openai_agents import RepositorySession  # noqa: E402
from bench.data import median_figures, percentiles  # noqa: E402
from bench.raw_redis import drop_keys, make_client  # noqa: E402
from bench.servers import endpoints, run_sql  # noqa: E402

POOL = 20
READ = 50
Maker = Callable[[str], Any]  # session id -> an Agents SDK Session
Side = Callable[[], Any]  # () -> async context manager yielding a Maker


@dataclass(frozen=True)
class Scale:
    turns: int  # sequential appends, 2 items each
    conversations: int  # concurrent conversations for "append x16"
    concurrent_turns: int
    small: int  # items in the conversation for the first read figure
    large: int
    reads: int


SCALES = {
    "small": Scale(
        turns=100, conversations=16, concurrent_turns=10, small=200, large=2_000, reads=50
    ),
    "full": Scale(
        turns=1_000, conversations=16, concurrent_turns=50, small=1_000, large=100_000, reads=300
    ),
}


def turn(number: int) -> list[Any]:
    """One turn as the Runner stores it: the user's message and the model's reply."""
    question = f"Question {number}: what changed in the quarterly figures since last time?"
    answer = f"Answer {number}: " + "revenue grew, costs held, margins widened. " * 6
    reply = {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": answer, "annotations": []}],
    }
    return [{"role": "user", "content": question}, reply]


# -- the sides ---------------------------------------------------------------------------


def ours_postgres(url: str) -> Side:
    @asynccontextmanager
    async def side() -> AsyncIterator[Maker]:
        await run_sql(url, "TRUNCATE messages, sessions")
        repository = PostgreSQLRepository.from_url(url, min_pool_size=POOL, max_pool_size=POOL)
        async with repository:
            yield lambda session_id: RepositorySession(session_id, repository)

    return side


def theirs_postgres(url: str) -> Side:
    from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
    from sqlalchemy.ext.asyncio import create_async_engine

    @asynccontextmanager
    async def side() -> AsyncIterator[Maker]:
        await run_sql(url, "DROP TABLE IF EXISTS agent_messages, agent_sessions")
        engine_url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        engine = create_async_engine(engine_url, pool_size=POOL, max_overflow=0)
        try:
            yield lambda session_id: SQLAlchemySession(
                session_id, engine=engine, create_tables=True
            )
        finally:
            await engine.dispose()

    return side


def ours_redis(url: str) -> Side:
    @asynccontextmanager
    async def side() -> AsyncIterator[Maker]:
        prefix = f"bench-sessions-{secrets.token_hex(4)}"
        repository = RedisRepository.from_url(url, key_prefix=prefix, max_connections=POOL)
        try:
            async with repository:
                yield lambda session_id: RepositorySession(session_id, repository)
        finally:
            client = make_client(url, 1)
            await drop_keys(client, prefix)
            await client.aclose()

    return side


def theirs_redis(url: str) -> Side:
    from agents.extensions.memory.redis_session import RedisSession

    @asynccontextmanager
    async def side() -> AsyncIterator[Maker]:
        prefix = f"bench-sdk-{secrets.token_hex(4)}"
        client = make_client(url, POOL)
        try:
            yield lambda session_id: RedisSession(
                session_id, redis_client=client, key_prefix=prefix
            )
        finally:
            await drop_keys(client, prefix)
            await client.aclose()

    return side


# -- the figures -------------------------------------------------------------------------


async def append_rate(make: Maker, conversations: int, turns: int) -> float:
    """Items per second appended by ``conversations`` writers, ``turns`` turns each."""

    async def writer(session: Any) -> None:
        for number in range(turns):
            await session.add_items(turn(number))

    sessions = [make(f"append-{secrets.token_hex(6)}") for _ in range(conversations)]
    started = time.perf_counter()
    await asyncio.gather(*(writer(session) for session in sessions))
    return 2 * conversations * turns / (time.perf_counter() - started)


async def read_latency(make: Maker, size: int, reads: int) -> tuple[float, float]:
    """p50 and p99 (ms) of ``get_items(50)`` on a conversation of ``size`` items."""
    session = make(f"read-{secrets.token_hex(6)}")
    for start in range(0, size, 1_000):  # filled through add_items too, 500 turns at a time
        stop = min(start + 1_000, size)
        await session.add_items([item for n in range(start // 2, stop // 2) for item in turn(n)])
    expected_last = turn(size // 2 - 1)[-1]
    timings: list[float] = []
    for _ in range(reads):
        started = time.perf_counter()
        items = await session.get_items(READ)
        timings.append(time.perf_counter() - started)
        if len(items) != READ or items[-1] != expected_last:
            raise AssertionError(f"get_items({READ}) returned the wrong items")
    return percentiles(timings)


async def measure(side: Side, scale: Scale) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with side() as make:
        figures["append"] = await append_rate(make, 1, scale.turns)
        figures["append_x16"] = await append_rate(make, scale.conversations, scale.concurrent_turns)
        for label, size in (("small", scale.small), ("large", scale.large)):
            p50, p99 = await read_latency(make, size, scale.reads)
            figures[f"p50_{label}"], figures[f"p99_{label}"] = p50, p99
    return figures


# -- running and reporting ---------------------------------------------------------------


def _peer(backend: str, url: str) -> Side | str:
    """The SDK's store for ``backend``, or why it cannot run."""
    try:
        return theirs_postgres(url) if backend == "postgresql" else theirs_redis(url)
    except ImportError as exc:
        return f"{exc.name or exc} is missing: pip install 'openai-agents[redis,sqlalchemy]'"


async def run_backend(backend: str, url: str, scale: Scale, repeat: int) -> dict[str, Any]:
    ours = ours_postgres(url) if backend == "postgresql" else ours_redis(url)
    peer = _peer(backend, url)
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "sdk": []}
    for _ in range(repeat):  # ours then theirs each time, so drift hits both
        runs["ours"].append(await measure(ours, scale))
        if not isinstance(peer, str):
            runs["sdk"].append(await measure(peer, scale))
    result: dict[str, Any] = {"sdk_missing": peer if isinstance(peer, str) else None}
    for name, figures in runs.items():
        if figures:
            result[name] = median_figures(figures)
    return result


def table(results: dict[str, Any], scale: Scale) -> str:
    head = (
        f"| backend | store | append items/s | append x{scale.conversations} items/s | "
        f"get_items(50) p50 @{scale.small:,} ms | p50 @{scale.large:,} ms | "
        f"p99 @{scale.large:,} ms |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|"]
    peers = {"postgresql": "SDK SQLAlchemySession (asyncpg)", "redis": "SDK RedisSession"}
    for backend, result in results.items():
        for side, name in (("ours", "RepositorySession"), ("sdk", peers[backend])):
            f = result.get(side)
            if f is None:
                lines.append(f"| {backend} | {name} | {result['sdk_missing']} | | | | |")
                continue
            lines.append(
                f"| {backend} | {name} | {f['append']:,.0f} | {f['append_x16']:,.0f} | "
                f"{f['p50_small']:.2f} | {f['p50_large']:.2f} | {f['p99_large']:.2f} |"
            )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/sessions.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--backends", default="postgresql,redis", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser


async def _main(args: argparse.Namespace, urls: dict[str, str | None]) -> dict[str, Any]:
    scale = SCALES[args.scale]
    if urls.get("postgresql"):
        await migrations.ensure_database(str(urls["postgresql"]))
        await migrations.upgrade(str(urls["postgresql"]))
    results: dict[str, Any] = {}
    for backend in args.backends:
        print(f"{backend}...", file=sys.stderr, flush=True)
        results[backend] = await run_backend(backend, str(urls[backend]), scale, args.repeat)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if set(args.backends) - {"postgresql", "redis"} or args.repeat < 1:
        _parser().error("--backends takes postgresql and/or redis; --repeat at least 1")
    with endpoints(args.backends, args.postgres_url, args.redis_url) as found:
        urls = {"postgresql": found.postgres_url, "redis": found.redis_url}
        results = asyncio.run(_main(args, urls))
    scale = SCALES[args.scale]
    print(table(results, scale))
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"scale": args.scale, "parameters": asdict(scale), "results": results}
    (args.out / "sessions.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
