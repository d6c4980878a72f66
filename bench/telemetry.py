"""What telemetry costs: the project's repository with metrics, and with full tracing, against
the same repository with telemetry off, on W1 (appends) and W3 (recent 50) of every backend.

    python bench/telemetry.py [--backends memory,sqlite,redis,postgresql] [--scale small|full]
                              [--repeat N] [--postgres-url URL] [--redis-url URL]

Each comparison opens two fresh project stores at once, one with ``Telemetry(metrics_enabled=
False)`` and one with the mode measured, and runs the interleaved workload of ``bench/run.py``
on them (the off store in the place of raw), so both figures come from the same time window:
``metrics`` records on a fresh registry; ``tracing`` adds a span per operation at sample rate
1.0 through an SDK tracer provider whose batch processor hands the spans to an exporter that
drops them (what is measured is making and queueing them); ``sampled`` is that at the
default ``OBSERVABILITY_TRACING_SAMPLE_RATE`` of 0.1. PostgreSQL: the two stores live in
two databases of the server (the given one and ``<name>_telemetry``), which swap roles on
every other repeat. Cost = how much slower the measured store was, in percent: W1 by its
append rate, W3 by its p50 latency (small and large session). Targets: metrics <= 5 %, full
tracing <= 15 %. Prints the table; ``--out`` also writes it as Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from prometheus_client import CollectorRegistry  # noqa: E402

from ai_agent.infrastructure.database.telemetry import Measured, Telemetry  # noqa: E402
from bench.backends import BACKENDS, Backend, prepare  # noqa: E402
from bench.data import SCALES, Figures, Scale  # noqa: E402
from bench.servers import endpoints  # noqa: E402
from bench.stores import Opener, RepositoryStore, Store  # noqa: E402
from bench.workloads import WORKLOADS, Workload  # noqa: E402

# Metrics; metrics and a span per operation; the same at the default sample rate.
MODES = ("metrics", "tracing", "sampled")
SAMPLE_RATES = {"metrics": 0.0, "tracing": 1.0, "sampled": 0.1}
TARGETS = {"metrics": 5.0, "tracing": 15.0, "sampled": 15.0}
# The figure each workload is judged by, and whether larger is better.
FIGURES = {"W1": (("msg_per_s", True),), "W3": (("p50_small", False), ("p50_large", False))}


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _telemetry(mode: str) -> Telemetry:
    if mode == "off":
        return Telemetry(metrics_enabled=False)
    rate = SAMPLE_RATES[mode]
    return Telemetry(registry=CollectorRegistry(), tracing_enabled=rate > 0, sample_rate=rate)


def _with(opener: Opener, mode: str) -> Opener:
    @asynccontextmanager
    async def opened() -> AsyncIterator[Store]:
        async with opener() as store:
            assert isinstance(store, RepositoryStore)
            assert isinstance(store.repository, Measured)
            store.repository.telemetry = _telemetry(mode)
            yield store

    return opened


async def _compare(pair: tuple[Backend, Backend], mode: str, w: Workload, scale: Scale) -> Figures:
    """Percent cost of ``mode`` over telemetry off, per judged figure of ``w``."""
    assert w.interleaved is not None
    off, on = pair
    async with _with(off.project, "off")() as quiet, _with(on.project, mode)() as measured:
        figures = await w.interleaved({"raw": quiet, "project": measured}, scale)
    costs: Figures = {}
    for name, larger_is_better in FIGURES[w.key]:
        base, value = figures["raw"][name], figures["project"][name]
        ratio = base / value if larger_is_better else value / base
        costs[name] = (ratio - 1) * 100
    return costs


async def _backends(
    name: str, workdir: Path, postgres: str | None, redis: str | None
) -> tuple[Backend, Backend]:
    first = await prepare(name, workdir=workdir, postgres_url=postgres, redis_url=redis)
    if name != "postgresql" or postgres is None:
        return first, first  # fresh stores per open: no clash between the two sides
    url = make_url(postgres)
    other = url.set(database=f"{url.database}_telemetry").render_as_string(hide_password=False)
    second = await prepare(name, workdir=workdir, postgres_url=other, redis_url=redis)
    return first, second


@dataclass(frozen=True)
class Row:
    backend: str
    workload: str
    figure: str
    mode: str
    cost_pct: float

    @property
    def met(self) -> bool:
        return self.cost_pct <= TARGETS[self.mode]


async def _measure(
    pair: tuple[Backend, Backend], w: Workload, args: argparse.Namespace
) -> list[Row]:
    rows = []
    for mode in MODES:
        # The two stores swap places every other run: any difference between them cancels.
        runs = [
            await _compare(pair if i % 2 == 0 else (pair[1], pair[0]), mode, w, SCALES[args.scale])
            for i in range(args.repeat)
        ]
        for figure in runs[0]:
            cost = statistics.median(run[figure] for run in runs)
            rows.append(Row(pair[0].name, w.key, figure, mode, cost))
            print(f"  {pair[0].name} {w.key} {figure} {mode}: {cost:+.1f} %", file=sys.stderr)
    return rows


async def _run(args: argparse.Namespace, postgres: str | None, redis: str | None) -> list[Row]:
    chosen = [w for w in WORKLOADS if w.key in FIGURES]
    rows: list[Row] = []
    with TemporaryDirectory(prefix="ai-agent-bench-telemetry-") as workdir:
        for name in args.backends:
            pair = await _backends(name, Path(workdir), postgres, redis)
            await _compare(pair, "metrics", chosen[0], SCALES["small"])  # warm-up, untimed
            for workload in chosen:
                rows.extend(await _measure(pair, workload, args))
    return rows


def table(rows: list[Row]) -> str:
    """Markdown: one line per backend, workload and figure; a cost per mode."""
    lines = [
        "| backend | workload | figure | metrics | metrics + tracing (1.0) | tracing at 0.1 |",
        "|---|---|---|---|---|---|",
    ]
    keyed = {(r.backend, r.workload, r.figure, r.mode): r for r in rows}
    for backend, workload, figure in dict.fromkeys((r.backend, r.workload, r.figure) for r in rows):
        cells = []
        for mode in MODES:
            row = keyed[(backend, workload, figure, mode)]
            cells.append(f"{row.cost_pct:+.1f} %" + ("" if row.met else " (over target)"))
        lines.append(f"| {backend} | {workload} | {figure} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/telemetry.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median kept")
    parser.add_argument("--postgres-url", help="a throwaway database (else a server is started)")
    parser.add_argument("--redis-url", help="else a server is started")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) here")
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if unknown := set(args.backends) - set(BACKENDS):
        parser.error(f"unknown backend(s) {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    trace.set_tracer_provider(provider)
    with endpoints(args.backends, args.postgres_url, args.redis_url) as found:
        rows = asyncio.run(_run(args, found.postgres_url, found.redis_url))
    provider.shutdown()
    text = table(rows)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    missed = [row for row in rows if not row.met]
    print(f"targets met: {len(rows) - len(missed)} of {len(rows)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
