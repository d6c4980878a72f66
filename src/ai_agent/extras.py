"""Optional dependencies ("extras"): one error, one message, one way to ask for them.

The base install (``pip install ai-agent``) gives configuration, the memory and SQLite
backends, migrations and the CLI. Everything else comes from an extra, and using a part whose
extra is missing fails with one line naming the pip command::

    from ai_agent.extras import extra_required, require

    agents = require("agents", "openai-agents")      # the module, or MissingExtraError

    with extra_required("langchain", "langchain_core"):
        from langchain_core.chat_history import BaseChatMessageHistory

Both raise :class:`MissingExtraError` (an ``ImportError``) whose message ends with
``pip install 'ai-agent[EXTRA]'``. Only a missing *named* module is translated: an import
error from inside an installed package is a real bug and propagates as it is.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = ["MissingExtraError", "extra_required", "install_hint", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message, name=module)
        self.extra = extra


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install 'ai-agent[EXTRA]'``."""
    return f"pip install 'ai-agent[{extra}]'"


def _message(module: str, extra: str, needed_by: str | None) -> str:
    who = f"{needed_by} needs" if needed_by else "this needs"
    return (
        f"{who} the {module!r} package from the {extra} extra, which is not installed; "
        f"install it with: {install_hint(extra)}"
    )


def _is_missing(exc: ImportError, modules: tuple[str, ...]) -> bool:
    missing = (exc.name or "").split(".")[0]
    return isinstance(exc, ModuleNotFoundError) and missing in modules


def require(module: str, extra: str, *, needed_by: str | None = None) -> ModuleType:
    """Import and return ``module``, or raise :class:`MissingExtraError` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if not _is_missing(exc, (top,)):
            raise
        raise MissingExtraError(_message(top, extra, needed_by), extra=extra, module=top) from exc


@contextmanager
def extra_required(extra: str, *modules: str, needed_by: str | None = None) -> Iterator[None]:
    """Turn a missing ``modules`` (top-level names) inside the block into MissingExtraError."""
    try:
        yield
    except ImportError as exc:
        if not _is_missing(exc, modules):
            raise
        missing = (exc.name or "").split(".")[0]
        message = _message(missing, extra, needed_by)
        raise MissingExtraError(message, extra=extra, module=missing) from exc
