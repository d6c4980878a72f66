"""Process-level behaviour of the adapters, each in a fresh interpreter.

* Importing an adapter whose framework is missing (simulated with ``sys.modules[name] =
  None``) is one ``MissingExtraError`` naming ``pip install 'ai-agent[EXTRA]'``.
* A ``RepositoryThread`` (with an aiosqlite connection, whose worker thread is not a
  daemon) that is never closed does not keep the interpreter from exiting, and is closed on
  the way out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ai_agent.infrastructure.database import migrations
from subprocesses import run_captured


def python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_captured([sys.executable, "-W", "error", "-c", code], timeout=timeout)


@pytest.mark.parametrize(
    ("module", "framework", "extra"),
    [
        ("ai_agent.integrations.openai_agents", "agents", "openai-agents"),
        ("ai_agent.integrations.langchain", "langchain_core", "langchain"),
        ("ai_agent.integrations.adk", "google", "adk"),
    ],
)
def test_an_adapter_without_its_framework_is_one_clear_error(
    module: str, framework: str, extra: str
) -> None:
    done = python(
        "import sys\n"
        f"sys.modules[{framework!r}] = None\n"
        "from ai_agent.integrations import MissingExtraError\n"
        "try:\n"
        f"    __import__({module!r})\n"
        "except MissingExtraError as exc:\n"
        "    print(type(exc).__name__, exc.extra, str(exc), sep='|')\n"
    )
    assert done.returncode == 0, done.stderr
    name, named_extra, message = done.stdout.strip().split("|")
    assert (name, named_extra) == ("MissingExtraError", extra)
    assert message.endswith(f"pip install 'ai-agent[{extra}]'") and "\n" not in message
    assert module in message and framework in message


async def test_a_forgotten_repository_thread_does_not_hang_the_interpreter(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'forgotten.db'}"
    await migrations.upgrade(url)
    done = python(
        "from ai_agent.integrations.langchain import RepositoryChatMessageHistory\n"
        f"history = RepositoryChatMessageHistory.from_url('kept', {url!r})\n"
        "history.add_user_message('still here')\n"
        "thread = history._thread\n"
        "print(len(history.messages))\n",  # no close(): the interpreter exits with it open
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1" and done.stderr == ""
    again = python(
        "from ai_agent.integrations.langchain import RepositoryChatMessageHistory\n"
        f"with RepositoryChatMessageHistory.from_url('kept', {url!r}) as history:\n"
        "    print([m.content for m in history.messages])\n"
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "['still here']"


def test_a_garbage_collected_repository_thread_is_closed() -> None:
    done = python(
        "import gc, threading\n"
        "from ai_agent.infrastructure.database import InMemoryRepository\n"
        "from ai_agent.integrations.langchain import RepositoryThread\n"
        "background = RepositoryThread(InMemoryRepository())\n"
        "thread = background._thread\n"
        "del background\n"
        "gc.collect()\n"
        "thread.join(10)\n"
        "print(thread.is_alive())\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
