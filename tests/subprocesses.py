"""Running a child process from a test: to the end, its text output captured.

Importable from any test module (``tests/`` is on ``sys.path``, as for ``_servers``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["run_captured"]


def run_captured(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (in ``cwd``, with exactly ``env`` when given); the caller judges the exit
    status, so a failing child shows its output in the assertion rather than a traceback."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
