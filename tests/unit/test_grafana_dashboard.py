"""The Grafana dashboard under deploy/ is valid JSON and queries only metrics the storage
layer exports (with the series suffixes Prometheus gives histograms and counters)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ai_agent.infrastructure.database.telemetry import (
    DURATION,
    ERRORS,
    FAILOVER_ACTIVE,
    JOURNAL_PENDING,
    POOL_CONNECTIONS,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ai-agent-dashboard.json"
SERIES = {
    f"{DURATION}_bucket",
    f"{DURATION}_count",
    ERRORS,
    POOL_CONNECTIONS,
    FAILOVER_ACTIVE,
    JOURNAL_PENDING,
}


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_every_panel_queries_exported_metrics_and_all_of_them_are_shown() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried = {
        name for expr in expressions(dashboard) for name in re.findall(r"ai_agent_\w+", expr)
    }
    assert queried == SERIES
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert {"Latency p50 by operation", "Latency p99 by operation", "Pool connections"} <= set(
        titles
    )
    assert len(set(titles)) == len(titles)
