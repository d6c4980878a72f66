"""Smoke test of ``bench/telemetry.py`` on the in-memory backend: it runs, and its table has
a cost per mode for each judged figure of W1 and W3 (timings are never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.memory
@pytest.mark.timeout(300)
def test_the_telemetry_bench_reports_every_mode(tmp_path: Path) -> None:
    out = tmp_path / "telemetry.md"
    script = str(ROOT / "bench" / "telemetry.py")
    done = subprocess.run(
        [sys.executable, script, "--backends", "memory", "--repeat", "1", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in out.read_text().splitlines() if line.startswith("| memory |")]
    assert [row.split("|")[2:4] for row in rows] == [
        [" W1 ", " msg_per_s "],
        [" W3 ", " p50_small "],
        [" W3 ", " p50_large "],
    ]
    for row in rows:
        assert len(re.findall(r"[+-]\d+\.\d %", row)) == 3
