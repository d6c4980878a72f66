"""Benchmark ``iter_messages``: the cost of one page must not grow with the history's length.

    python bench/iter_messages.py [--scale small|full] [--backends memory,sqlite,redis,postgresql]
                                  [--batch-size N] [--postgres-url URL] [--redis-url URL]

For each backend and each history length (small: 1,000 and 10,000 messages; full: also
100,000) one session is filled with bulk appends, then read whole with
``iter_messages(session_id, batch_size)``; the time from one page's first item to the next
page's first item is one sample (the first, which warms up, is left out). Printed per
length: the p50 page time over the first and the last tenth of the history, their ratio
(flat: about 1), and the p50 page time against the shortest history (flat: about 1).
Without URLs throwaway durable servers are started, as in ``bench/run.py``; a given
PostgreSQL database is migrated and its sessions TRUNCATEd.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from ai_agent.infrastructure.database import RepositoryFactory, migrations  # noqa: E402
from ai_agent.infrastructure.database.base import BaseRepository  # noqa: E402
from bench.data import make_messages, make_session  # noqa: E402
from bench.servers import endpoints, run_sql  # noqa: E402

LENGTHS = {"small": (1_000, 10_000), "full": (1_000, 10_000, 100_000)}
SEED_BATCH = 1_000


async def _page_times(repository: BaseRepository, session_id: UUID, batch: int) -> list[float]:
    """Seconds between the first items of consecutive pages, over the whole history."""
    samples: list[float] = []
    seen = 0
    mark = time.perf_counter()
    async for _ in repository.iter_messages(session_id, batch_size=batch):
        if seen and seen % batch == 0:
            now = time.perf_counter()
            samples.append(now - mark)
            mark = now
        seen += 1
    return samples


async def _measure(repository: BaseRepository, length: int, batch: int) -> dict[str, float]:
    session = await repository.create_session(make_session())
    messages = make_messages(session.id, length)
    for start in range(0, length, SEED_BATCH):
        await repository.create_messages(messages[start : start + SEED_BATCH])
    samples = (await _page_times(repository, session.id, batch))[1:]  # the first warms up
    tenth = max(1, len(samples) // 10)
    first = statistics.median(samples[:tenth])
    last = statistics.median(samples[-tenth:])
    await repository.delete_session(session.id)
    return {"p50": statistics.median(samples), "first": first, "last": last}


async def _backend(url: str, lengths: tuple[int, ...], batch: int) -> list[str]:
    if url.startswith(("postgresql", "sqlite")):
        await migrations.upgrade(url)
    lines: list[str] = []
    async with RepositoryFactory.from_url(url) as repository:
        base: float | None = None
        for length in lengths:
            p50, first, last = (await _measure(repository, length, batch)).values()
            base = base or p50
            lines.append(
                f"{length:>8,} messages: page p50 {p50 * 1e3:7.3f} ms (first tenth"
                f" {first * 1e3:.3f}, last tenth {last * 1e3:.3f}, last/first {last / first:.2f},"
                f" vs {lengths[0]:,} {p50 / base:.2f}x)"
            )
    return lines


async def _truncate(postgres_url: str) -> None:
    await run_sql(postgres_url, "TRUNCATE sessions CASCADE")


async def main(arguments: argparse.Namespace) -> None:
    backends = arguments.backends.split(",")
    lengths = LENGTHS[arguments.scale]
    with (
        tempfile.TemporaryDirectory() as workdir,
        endpoints(backends, arguments.postgres_url, arguments.redis_url) as found,
    ):
        urls = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{workdir}/iter.db",
            "redis": found.redis_url,
            "postgresql": found.postgres_url,
        }
        for name in backends:
            url = urls[name]
            assert url is not None
            print(f"{name} (batch_size={arguments.batch_size})")
            for line in await _backend(url, lengths, arguments.batch_size):
                print("  " + line)
            if name == "postgresql":
                await _truncate(url)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/iter_messages.py", description=__doc__)
    parser.add_argument("--scale", choices=sorted(LENGTHS), default="small")
    parser.add_argument("--backends", default="memory,sqlite,redis,postgresql")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--postgres-url")
    parser.add_argument("--redis-url")
    return parser


if __name__ == "__main__":
    asyncio.run(main(_parser().parse_args()))
