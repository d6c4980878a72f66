#!/usr/bin/env python3
"""Database migrations for ai-agent: ``migrate``, ``reset``, ``check``, ``status``.

The same commands, options and exit statuses as ``ai-agent db ...`` (one implementation,
:mod:`ai_agent.cli.db`)::

    python scripts/migrate_database.py migrate
    python /path/to/checkout/scripts/migrate_database.py status --url sqlite:///agent.db

It works from any directory: the revisions ship inside the ``ai_agent`` package, and this
checkout's ``src/`` is used when present. Settings (``.env``, a relative ``SQLITE_PATH``) are
read relative to the working directory, as by every other command.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parent.parent / "src"


def main() -> None:
    if (_SOURCE / "ai_agent").is_dir() and str(_SOURCE) not in sys.path:
        sys.path.insert(0, str(_SOURCE))  # run this checkout's code, not another install's
    from ai_agent.cli.db import main as run_db_commands

    run_db_commands(prog_name=Path(sys.argv[0]).name)


if __name__ == "__main__":
    main()
