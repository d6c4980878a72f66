"""Benchmark retention and copy: prune under load on PostgreSQL, copy SQLite -> PostgreSQL.

    python bench/maintenance.py [--scale small|full] [--postgres-url URL] [--out DIR]

* **Prune under load**: old sessions holding ``messages`` messages in all are pruned by age
  while 20 writers append to recent sessions; the writers' p50/p99 append latency during the
  prune is printed beside their latency in a window of the same length with no prune
  (target: p99 at most 3x), and the prune's rate in messages per second.
* **Copy**: a SQLite file of ``messages`` messages is copied into PostgreSQL with
  ``transfer.copy_repository`` (target: at least 20,000 messages per second), then checked
  with ``compare_repositories``.

Full scale is 1,000,000 messages for each (about 5 minutes with set-up); small is 20,000.
Without ``--postgres-url`` a throwaway durable server is started (fsync on). A given
database is TRUNCATEd: point it at a throwaway one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from ai_agent.domain.models import Message, MessageRole, Session, utc_now  # noqa: E402
from ai_agent.infrastructure.database import migrations  # noqa: E402
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository  # noqa: E402
from ai_agent.infrastructure.database.retention import RetentionPolicy, prune  # noqa: E402
from ai_agent.infrastructure.database.sqlite import SQLiteRepository  # noqa: E402
from ai_agent.infrastructure.database.transfer import (  # noqa: E402
    compare_repositories,
    copy_repository,
)
from bench.data import percentiles  # noqa: E402
from bench.servers import endpoints  # noqa: E402

SCALES = {"small": 20_000, "full": 1_000_000}
PER_SESSION = 1_000
WRITERS = 20
BATCH = 1_000


def _thread(session: Session, count: int, start: float) -> list[Message]:
    return [
        Message(
            session_id=session.id,
            role=MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT,
            content="x" * 500,
            metadata={"turn": i, "source": "bench"},
            created_at=session.created_at + timedelta(microseconds=start + i),
        )
        for i in range(count)
    ]


async def _fill(repository: Any, total: int, *, days_ago: int) -> None:
    """``total`` messages in sessions of ``PER_SESSION``, last active ``days_ago`` days ago."""
    when = utc_now() - timedelta(days=days_ago)
    for index in range(0, total, PER_SESSION):
        session = await repository.create_session(
            Session(user_id=f"user-{index % 97}", created_at=when, last_activity=when)
        )
        thread = _thread(session, min(PER_SESSION, total - index), 0)
        for start in range(0, len(thread), BATCH):
            await repository.create_messages(thread[start : start + BATCH])


async def _writers(
    repository: Any, sessions: Sequence[Session], stop: asyncio.Event
) -> list[float]:
    latencies: list[float] = []

    async def write(session: Session) -> None:
        turn = 0
        while not stop.is_set():
            message = Message(session_id=session.id, role=MessageRole.USER, content=f"t{turn}")
            started = time.perf_counter()
            await repository.create_message(message)
            latencies.append(time.perf_counter() - started)
            turn += 1

    await asyncio.gather(*(write(session) for session in sessions))
    return latencies


async def _truncate(repository: PostgreSQLRepository) -> None:
    assert repository.pool is not None
    async with repository.pool.acquire() as connection:
        await connection.execute("TRUNCATE sessions, messages CASCADE")


async def prune_under_load(url: str, total: int) -> dict[str, float]:
    repository = PostgreSQLRepository.from_url(url, min_pool_size=WRITERS + 2, max_pool_size=30)
    async with repository:
        await _truncate(repository)
        await _fill(repository, total, days_ago=60)
        recent = [await repository.create_session(Session(user_id="live")) for _ in range(WRITERS)]
        # Baseline: the writers alone, for as long as the prune will take (measured below
        # by a first dry estimate of ~5 s, then matched exactly).
        stop = asyncio.Event()
        writing = asyncio.create_task(_writers(repository, recent, stop))
        started = time.perf_counter()
        report = await prune(repository, RetentionPolicy(session_max_age_days=30), batch_size=5_000)
        prune_seconds = time.perf_counter() - started
        stop.set()
        during = await writing
        stop = asyncio.Event()
        writing = asyncio.create_task(_writers(repository, recent, stop))
        await asyncio.sleep(prune_seconds)
        stop.set()
        alone = await writing
    if report.messages_deleted != total:
        raise SystemExit(f"prune deleted {report.messages_deleted} messages, expected {total}")
    alone_p50, alone_p99 = percentiles(alone)
    during_p50, during_p99 = percentiles(during)
    return {
        "prune_messages": report.messages_deleted,
        "prune_seconds": prune_seconds,
        "prune_rate": report.messages_deleted / prune_seconds,
        "writers_alone_p50_ms": alone_p50,
        "writers_alone_p99_ms": alone_p99,
        "writers_during_p50_ms": during_p50,
        "writers_during_p99_ms": during_p99,
        "p99_ratio": during_p99 / alone_p99,
    }


async def copy_sqlite_to_postgres(url: str, total: int, workdir: Path) -> dict[str, float]:
    path = workdir / "source.db"
    await migrations.upgrade(f"sqlite:///{path}")
    source = SQLiteRepository(path, synchronous="NORMAL")
    target = PostgreSQLRepository.from_url(url, min_pool_size=2, max_pool_size=10)
    async with source, target:
        await _truncate(target)
        await _fill(source, total, days_ago=1)
        started = time.perf_counter()
        report = await copy_repository(source, target, batch_size=BATCH)
        seconds = time.perf_counter() - started
        differences = await compare_repositories(source, target)
    if differences or report.copied["messages"] != total:
        raise SystemExit(f"copy check failed: {differences or report.copied}")
    return {"copy_messages": total, "copy_seconds": seconds, "copy_rate": total / seconds}


def _print(results: dict[str, float]) -> None:
    print("| figure | value |\n|---|---|")
    for name, value in results.items():
        print(
            f"| {name} | {value:,.3f} |" if isinstance(value, float) else f"| {name} | {value:,} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/maintenance.py", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--postgres-url")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    arguments = parser.parse_args()
    total = SCALES[arguments.scale]
    with (
        endpoints(["postgresql"], arguments.postgres_url, None) as found,
        tempfile.TemporaryDirectory() as tmp,
    ):
        assert found.postgres_url is not None
        await migrations.upgrade(found.postgres_url)
        results = await prune_under_load(found.postgres_url, total)
        results |= await copy_sqlite_to_postgres(found.postgres_url, total, Path(tmp))
    _print(results)
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / f"maintenance-{arguments.scale}.json").write_text(
        json.dumps(results, indent=2)
    )


if __name__ == "__main__":
    asyncio.run(main())
