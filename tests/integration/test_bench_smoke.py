"""Smoke test of the benchmark harness: `bench/run.py --scale small` on every backend.

Correctness only: the run must exit 0 and record every workload of every backend with its
checks passed and its figures present. Timings are never asserted (the machine is shared).
The workloads that interleave both sides must still fail on a wrong result from either side.
PostgreSQL runs in a database of its own on the session server (the bench truncates its
tables), dropped afterwards; Redis keys live under fresh prefixes the bench deletes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from bench.data import SCALES, CheckFailed  # noqa: E402
from bench.raw_memory import RawMemoryStore  # noqa: E402
from bench.workloads import SIDES, WORKLOADS, Workload  # noqa: E402

BACKENDS = ("memory", "sqlite", "redis", "postgresql")
FIGURES = {
    "W1": {"msg_per_s", "last_over_first"},
    "W2": {"msg_per_s"},
    "W3": {"p50_small", "p99_small", "p50_large", "p99_large", "large_over_small"},
    "W4": {"p50", "p99"},
    "W5": {"ms"},
    "W6": {"single_msg_per_s", "bulk_msg_per_s", "speedup"},
}
BENCH_DATABASE = "ai_agent_bench_smoke"


@pytest.fixture
def bench_postgres_url(postgres_url: str) -> Iterator[str]:
    """The session server's URL with a database of the bench's own (created by the bench)."""
    parts = urlsplit(postgres_url)
    yield urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))

    async def drop() -> None:
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


def test_small_bench_runs_every_workload_correctly(
    bench_postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    argv = [sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "small"]
    argv += ["--backends", ",".join(BACKENDS), "--out", str(tmp_path)]
    argv += ["--postgres-url", bench_postgres_url, "--redis-url", redis_url]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, f"bench failed:\n{done.stdout}\n{done.stderr}"

    results = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.md").is_file()
    assert results["ok"] is True
    assert list(results["backends"]) == list(BACKENDS)
    for backend in BACKENDS:
        workloads = results["backends"][backend]["workloads"]
        assert sorted(workloads) == sorted(FIGURES), backend
        for key, workload in workloads.items():
            assert workload["ok"] is True, (backend, key, workload["error"])
            for side in ("raw", "project"):
                assert set(workload[side]) == FIGURES[key], (backend, key, side)
                assert all(value > 0 for value in workload[side].values()), (backend, key, side)
    assert all("met" in verdict for verdict in results["targets"])


class _WrongStore(RawMemoryStore):
    """A real in-memory store that answers reads in the wrong order."""

    async def recent(self, session_id: UUID, limit: int) -> list[dict[str, Any]]:
        return list(reversed(await super().recent(session_id, limit)))

    async def list_sessions(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        return list(reversed(await super().list_sessions(user_id, limit)))


INTERLEAVED = [w for w in WORKLOADS if w.interleaved is not None]


@pytest.mark.parametrize("wrong", SIDES)
@pytest.mark.parametrize("workload", INTERLEAVED, ids=[w.key for w in INTERLEAVED])
async def test_interleaved_workload_fails_on_a_wrong_result(workload: Workload, wrong: str) -> None:
    assert workload.interleaved is not None
    stores = {side: _WrongStore() if side == wrong else RawMemoryStore() for side in SIDES}
    with pytest.raises(CheckFailed, match=f"^{wrong}: "):
        await workload.interleaved(stores, SCALES["small"])
