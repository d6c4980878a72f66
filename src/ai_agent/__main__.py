"""``python -m ai_agent``: the same command line as ``ai-agent``."""

from ai_agent.cli.app import main

if __name__ == "__main__":
    main()
