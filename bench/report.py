"""Figures, targets, and the table (terminal, markdown, JSON) built from a run's results.

``results`` shape (also the JSON file)::

    {"scale": ..., "environment": {...}, "ok": bool, "targets_met": bool,
     "backends": {name: {"raw_note": str, "workloads": {"W1": {
         "title": str, "raw": {figure: value}, "project": {figure: value},
         "ok": bool, "error": str | None}}}},
     "targets": [{"backend", "workload", "figure", "target", "value", "met"}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

__all__ = ["FIGURES", "TARGETS", "Target", "evaluate_targets", "print_table", "write_files"]

SERVERS = ("postgresql", "redis")

# workload -> [(figure key, label, unit)]
FIGURES: dict[str, list[tuple[str, str, str]]] = {
    "W1": [("msg_per_s", "append", "msg/s"), ("last_over_first", "last/first block", "x")],
    "W2": [("msg_per_s", "concurrent append", "msg/s")],
    "W3": [
        ("p50_small", "recent 50 p50 (smaller)", "ms"),
        ("p99_small", "recent 50 p99 (smaller)", "ms"),
        ("p50_large", "recent 50 p50 (10x larger)", "ms"),
        ("p99_large", "recent 50 p99 (10x larger)", "ms"),
        ("large_over_small", "p50 larger/smaller", "x"),
    ],
    "W4": [("p50", "list 20 p50", "ms"), ("p99", "list 20 p99", "ms")],
    "W5": [("ms", "delete session (median of 3)", "ms")],
    "W6": [
        ("single_msg_per_s", "one at a time", "msg/s"),
        ("bulk_msg_per_s", "batches of 500", "msg/s"),
        ("speedup", "bulk speed-up", "x"),
    ],
}


@dataclass(frozen=True)
class Target:
    backends: tuple[str, ...]
    workload: str
    figure: str
    kind: Literal["ratio", "value"]  # project/raw, or the project's own figure
    op: Literal[">=", "<="]
    bound: float

    @property
    def text(self) -> str:
        subject = "x raw" if self.kind == "ratio" else ""
        return f"{self.op} {self.bound:g}{subject}"

    def met(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound


ALL = ("memory", "sqlite", "redis", "postgresql")
# Issue 20's targets: ratios are project / raw in the same run.
TARGETS = [
    Target(SERVERS, "W1", "msg_per_s", "ratio", ">=", 0.85),
    Target(SERVERS, "W2", "msg_per_s", "ratio", ">=", 0.9),
    Target(SERVERS, "W3", "p50_small", "ratio", "<=", 1.2),
    Target(SERVERS, "W3", "p50_large", "ratio", "<=", 1.2),
    Target(SERVERS, "W4", "p50", "ratio", "<=", 1.2),
    Target(("sqlite",), "W1", "msg_per_s", "ratio", ">=", 0.7),
    Target(("sqlite",), "W3", "p50_small", "ratio", "<=", 1.5),
    Target(("sqlite",), "W3", "p50_large", "ratio", "<=", 1.5),
    Target(("sqlite",), "W4", "p50", "ratio", "<=", 1.5),
    Target(ALL, "W3", "large_over_small", "value", "<=", 1.2),
    Target(("postgresql", "sqlite", "redis"), "W6", "speedup", "value", ">=", 5.0),
    Target(("memory",), "W1", "msg_per_s", "value", ">=", 100_000),
    Target(("memory",), "W1", "last_over_first", "value", "<=", 1.25),
    Target(("memory",), "W3", "p50_small", "value", "<=", 0.020),
    Target(("memory",), "W3", "p50_large", "value", "<=", 0.020),
]


def _value(workload: dict[str, Any], target: Target) -> float | None:
    project = workload.get("project", {}).get(target.figure)
    if project is None:
        return None
    if target.kind == "value":
        return float(project)
    raw = workload.get("raw", {}).get(target.figure)
    return float(project) / float(raw) if raw else None


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target that applies to a backend and workload of this run."""
    verdicts = []
    for target in TARGETS:
        for backend in target.backends:
            workload = results["backends"].get(backend, {}).get("workloads", {})
            if target.workload not in workload:
                continue
            value = _value(workload[target.workload], target)
            verdicts.append(
                {
                    "backend": backend,
                    "workload": target.workload,
                    "figure": target.figure,
                    "target": target.text,
                    "value": value,
                    "met": value is not None and target.met(value),
                }
            )
    return verdicts


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "msg/s":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.3f}"
    return f"{value:.2f}"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """backend, workload, figure, unit, raw, project, project/raw, target, met."""
    verdicts = {(v["backend"], v["workload"], v["figure"]): v for v in results["targets"]}
    table = []
    for backend, data in results["backends"].items():
        for key, workload in data["workloads"].items():
            if not workload["ok"]:
                table.append([backend, key, "FAILED", "", "", "", "", workload["error"], "FAIL"])
                continue
            for figure, label, unit in FIGURES[key]:
                raw = workload["raw"].get(figure)
                project = workload["project"].get(figure)
                ratio = project / raw if raw and project is not None else None
                verdict = verdicts.get((backend, key, figure))
                table.append(
                    [
                        backend,
                        key,
                        label,
                        unit,
                        _number(raw, unit),
                        _number(project, unit),
                        _number(ratio, "x"),
                        verdict["target"] if verdict else "",
                        ("pass" if verdict["met"] else "MISS") if verdict else "",
                    ]
                )
    return table


HEADERS = ["backend", "W", "figure", "unit", "raw", "project", "ratio", "target", "met"]


def print_table(results: dict[str, Any]) -> None:
    table = Table(title=f"ai-agent bench ({results['scale']} scale)")
    for header in HEADERS:
        table.add_column(header, justify="right" if header in {"raw", "project"} else "left")
    for row in rows(results):
        table.add_row(*row)
    Console(width=140).print(table)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# ai-agent bench ({results['scale']} scale)",
        "",
        "ratio = project / raw; for latencies lower is better, for msg/s higher is better.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    lines += ["", f"Parameters (median of {results.get('repeat', 1)} run(s) per side):", ""]
    lines += [f"- {key}: {value}" for key, value in results["parameters"].items()]
    lines += ["", "Raw code per backend:", ""]
    lines += [f"- {name}: {data['raw_note']}" for name, data in results["backends"].items()]
    lines += ["", "Environment:", ""]
    lines += [f"- {key}: {value}" for key, value in results["environment"].items()]
    return "\n".join(lines) + "\n"


def write_files(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results))
