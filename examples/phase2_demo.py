"""Phase 2 demo: configuration, repositories, health checks and clean-up.

Runs on the in-memory default with no server and no set-up::

    python examples/phase2_demo.py                      # in-memory
    python examples/phase2_demo.py --backend sqlite     # ./ai_agent.db (SQLITE_PATH)
    python examples/phase2_demo.py --backend redis      # REDIS_* or REDIS_URL
    python examples/phase2_demo.py --backend postgresql # DB_* or DATABASE_URL

The steps themselves live in ``ai_agent.demo`` (so ``ai-agent demo`` runs the same code);
read that module for the repository calls. Exits non-zero when any step fails.
"""

from ai_agent.cli.demo import main

if __name__ == "__main__":
    main()
