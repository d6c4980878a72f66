"""Benchmark the project's repositories against raw driver code on the same servers.

    python bench/run.py [--backends memory,sqlite,redis,postgresql] [--scale small|full]
                        [--workloads W1,W2,...] [--repeat N] [--profile DIR] [--out DIR]
                        [--postgres-url URL] [--redis-url URL]

Without URLs it starts throwaway durable servers (PostgreSQL fsync on; Redis AOF everysec)
from the local binaries, as the test suite does. A given PostgreSQL database is used as is:
the bench migrates it and TRUNCATEs its sessions and messages tables, and (re)creates the
``bench_raw`` schema, so point it at a throwaway database. Redis keys go under fresh
``bench-*`` prefixes and are deleted afterwards.

W1, W3 and W4 open both sides' stores at once and alternate between them in short turns, so
that both sides' figures come from the same time window; W2, W5 and W6 run raw, then project.
Each workload runs ``--repeat`` times and its medians are kept.

Prints the table and writes ``results.md`` and ``results.json`` to ``--out``. Exit status 1
when any correctness check failed (a missed target is reported, not an error).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from ai_agent.infrastructure.database import migrations  # noqa: E402
from bench.backends import BACKENDS, POOL_SIZE, Backend, prepare  # noqa: E402
from bench.data import SCALES, Figures, Scale  # noqa: E402
from bench.report import evaluate_targets, print_table, write_files  # noqa: E402
from bench.servers import Endpoints, durability, endpoints  # noqa: E402
from bench.workloads import SIDES, WORKLOADS, Workload  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="small", help="small: a smoke run in seconds"
    )
    parser.add_argument(
        "--workloads", default=",".join(w.key for w in WORKLOADS), help="e.g. W1,W2"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per workload and side; medians reported"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="cProfile the project side of each workload into DIR/<backend>-<W>-project.prof "
        "(W1, W3, W4 interleave both sides: DIR/<backend>-<W>-raw+project.prof); the figures "
        "profiled are then inflated by the profiler",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where results.md and results.json go (default bench/results, git-ignored)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="a throwaway database (default $BENCH_POSTGRES_URL, else a server is started)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="default $BENCH_REDIS_URL, else a server is started",
    )
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s) {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    chosen = {key.strip().upper() for key in args.workloads.split(",") if key.strip()}
    unknown = chosen - {w.key for w in WORKLOADS}
    if unknown or not chosen:
        parser.error(f"unknown workload(s) {sorted(unknown)}; choose from W1 to W{len(WORKLOADS)}")
    args.workloads = [w for w in WORKLOADS if w.key in chosen]
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _medians(runs: list[Figures]) -> Figures:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


@contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    """cProfile the block into ``path`` (``python -m pstats path`` or snakeviz to read it)."""
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        path.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(path)


class _SideFailed(Exception):
    """A workload failed on ``side`` (a failed check or a broken store)."""

    def __init__(self, side: str, exc: Exception) -> None:
        super().__init__(f"{side}: {type(exc).__name__}: {exc}")


def _profile_path(args: argparse.Namespace, backend: Backend, key: str, side: str) -> Path | None:
    return None if args.profile is None else args.profile / f"{backend.name}-{key}-{side}.prof"


async def _solo(
    backend: Backend, workload: Workload, scale: Scale, args: argparse.Namespace
) -> dict[str, Figures]:
    """Raw, then project, each in a fresh store of its own."""
    assert workload.solo is not None
    figures: dict[str, Figures] = {}
    for side, opener in (("raw", backend.raw), ("project", backend.project)):
        started = time.perf_counter()
        profile = _profile_path(args, backend, workload.key, side) if side == "project" else None
        try:
            async with opener() as store:
                with _profiled(profile):
                    figures[side] = await workload.solo(store, scale)
        except Exception as exc:
            raise _SideFailed(side, exc) from exc
        _log(f"  {backend.name} {workload.key} {side}: {time.perf_counter() - started:.1f} s")
    return figures


async def _interleaved(
    backend: Backend, workload: Workload, scale: Scale, args: argparse.Namespace
) -> dict[str, Figures]:
    """Both sides' fresh stores open at once; the workload alternates between them."""
    assert workload.interleaved is not None
    started = time.perf_counter()
    # The profile covers both sides here: the raw calls show up beside the project's.
    profile = _profile_path(args, backend, workload.key, "raw+project")
    try:
        async with backend.raw() as raw, backend.project() as project:
            with _profiled(profile):
                figures = await workload.interleaved({"raw": raw, "project": project}, scale)
    except Exception as exc:  # the check's message names the side
        raise _SideFailed("raw+project", exc) from exc
    _log(f"  {backend.name} {workload.key} raw+project: {time.perf_counter() - started:.1f} s")
    return figures


async def _run_workload(
    backend: Backend, workload: Workload, scale: Scale, args: argparse.Namespace
) -> dict[str, Any]:
    """``--repeat`` runs of both sides (so drift hits both); medians kept."""
    entry: dict[str, Any] = {"title": workload.title, "ok": True, "error": None}
    runs: dict[str, list[Figures]] = {side: [] for side in SIDES}
    run = _interleaved if workload.interleaved is not None else _solo
    for _ in range(args.repeat):
        try:
            figures = await run(backend, workload, scale, args)
        except _SideFailed as exc:  # a failed check or a broken store: record it, go on
            entry.update(ok=False, error=str(exc))
            _log(f"  {backend.name} {workload.key} FAILED: {entry['error']}")
            return entry
        for side in SIDES:
            runs[side].append(figures[side])
    entry.update(raw=_medians(runs["raw"]), project=_medians(runs["project"]))
    return entry


async def _prime(backend: Backend) -> None:
    """Run small-scale W1 on both sides, untimed: a freshly started server (allocator, AOF,
    caches) would otherwise slow whichever side runs first, and raw always runs first."""
    prime = WORKLOADS[0].interleaved
    assert prime is not None
    async with backend.raw() as raw, backend.project() as project:
        await prime({"raw": raw, "project": project}, SCALES["small"])


def _revision() -> str:
    """The commit measured, and whether src/ had uncommitted changes (they run too)."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"{commit} (src/ with uncommitted changes)" if dirty else commit


async def _run_all(args: argparse.Namespace, found: Endpoints, workdir: Path) -> dict[str, Any]:
    scale = SCALES[args.scale]
    if found.postgres_url is not None:  # a given database may not exist yet
        await migrations.ensure_database(found.postgres_url)
    environment = {
        "commit": _revision(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "pool_size": str(POOL_SIZE),
        "servers": ", ".join(found.started) + " started by the bench" if found.started else "given",
        **await durability(found),
    }
    results: dict[str, Any] = {
        "scale": scale.name,
        "repeat": args.repeat,
        "parameters": dataclasses.asdict(scale),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment,
        "backends": {},
    }
    for name in args.backends:
        _log(f"{name}:")
        backend = await prepare(
            name, workdir=workdir, postgres_url=found.postgres_url, redis_url=found.redis_url
        )
        await _prime(backend)
        workloads = {}
        for workload in args.workloads:
            workloads[workload.key] = await _run_workload(backend, workload, scale, args)
        results["backends"][name] = {"raw_note": backend.raw_note, "workloads": workloads}
    results["targets"] = evaluate_targets(results)
    results["ok"] = all(
        w["ok"] for b in results["backends"].values() for w in b["workloads"].values()
    )
    results["targets_met"] = all(t["met"] for t in results["targets"])
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.perf_counter()
    with (
        endpoints(args.backends, args.postgres_url, args.redis_url) as found,
        tempfile.TemporaryDirectory(prefix="ai-agent-bench-") as workdir,
    ):
        results = asyncio.run(_run_all(args, found, Path(workdir)))
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print_table(results)
    write_files(results, args.out)
    missed = [t for t in results["targets"] if not t["met"]]
    _log(f"targets met: {len(results['targets']) - len(missed)} of {len(results['targets'])}")
    for target in missed:
        got = "nothing" if target["value"] is None else f"{target['value']:.3g}"
        _log(
            f"  missed: {target['backend']} {target['workload']} {target['figure']} "
            f"{target['target']} (got {got})"
        )
    _log(f"wall time {results['wall_s']} s; results in {args.out}")
    if not results["ok"]:
        _log("correctness checks FAILED (see the table)")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
