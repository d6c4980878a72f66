"""The ``ai-agent`` command line (typer); see :mod:`ai_agent.cli.app`."""
