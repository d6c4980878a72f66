"""``ai-agent --help`` and each group's help list every command with a one-line summary."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import typer
from typer.core import TyperGroup

from ai_agent.cli.app import app


def _commands(group: TyperGroup, path: str = "ai-agent") -> Iterator[tuple[str, str]]:
    """(``ai-agent db copy``, its help) for every command and group below ``group``."""
    context = typer.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        yield f"{path} {name}", command.help or ""
        if isinstance(command, TyperGroup):
            yield from _commands(command, f"{path} {name}")


def test_every_command_summary_is_one_line() -> None:
    """The command lists show the help's first paragraph as written: a broken line shows."""
    group = typer.main.get_group(app)
    assert isinstance(group, TyperGroup)
    commands = dict(_commands(group))
    assert {"ai-agent demo", "ai-agent health", "ai-agent db replay"} <= commands.keys()
    summaries = {name: inspect.cleandoc(text).split("\n\n")[0] for name, text in commands.items()}
    assert {name: text for name, text in summaries.items() if "\n" in text or not text} == {}
