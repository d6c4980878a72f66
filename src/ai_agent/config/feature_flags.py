"""Feature flags: read by name, set process-wide, override for a block.

The flags are the fields of :class:`~ai_agent.config.sections.FeatureFlags`
(``FEATURE_ENABLE_*``); this module is their only registry. Library code never reads
``os.environ``: entry points call :func:`load` with ``settings.features`` once; before
that, the class defaults apply. Usage::

    from ai_agent.config import feature_flags

    feature_flags.load(settings.features)        # entry point, once
    if feature_flags.is_enabled("retries"):      # or "enable_retries"
        ...
    with feature_flags.override("fallbacks", False):   # this context only
        ...

Overrides live in a ``ContextVar``: an asyncio task sees the overrides active where it
was created and never those of a concurrent task. Precedence: innermost override, then
the process-wide value (:func:`set_flag` / :func:`load`), then the class default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from ai_agent.config.sections import FeatureFlags

__all__ = [
    "FLAG_NAMES",
    "UnknownFeatureFlagError",
    "all_flags",
    "is_enabled",
    "load",
    "override",
    "reset",
    "set_flag",
]

_FIELD_PREFIX = "enable_"
FLAG_NAMES: tuple[str, ...] = tuple(
    sorted(name.removeprefix(_FIELD_PREFIX) for name in FeatureFlags.model_fields)
)
_DEFAULTS: Mapping[str, bool] = MappingProxyType(
    {flag: bool(FeatureFlags.model_fields[_FIELD_PREFIX + flag].default) for flag in FLAG_NAMES}
)

_lock = threading.Lock()
_process: Mapping[str, bool] = _DEFAULTS
_overrides: ContextVar[Mapping[str, bool] | None] = ContextVar(
    "ai_agent_feature_flag_overrides", default=None
)


class UnknownFeatureFlagError(ValueError):
    """A flag name that is not one of :data:`FLAG_NAMES`."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown feature flag {name!r}; valid flags: {', '.join(FLAG_NAMES)}")


def _flag(name: str) -> str:
    """``retries``, ``enable_retries`` and ``FEATURE_ENABLE_RETRIES`` all name one flag."""
    folded = name.strip().lower().removeprefix("feature_").removeprefix(_FIELD_PREFIX)
    if folded not in _DEFAULTS:
        raise UnknownFeatureFlagError(name)
    return folded


def is_enabled(name: str) -> bool:
    """Whether flag ``name`` is on in the current context.

    Raises:
        UnknownFeatureFlagError: ``name`` is not a flag (the message lists them).
    """
    flag = name if name in _DEFAULTS else _flag(name)  # the canonical name: no folding
    overrides = _overrides.get()
    if overrides is not None and flag in overrides:
        return overrides[flag]
    return _process[flag]


def all_flags() -> dict[str, bool]:
    """Every flag and its value in the current context."""
    return {flag: is_enabled(flag) for flag in FLAG_NAMES}


def set_flag(name: str, enabled: bool) -> None:
    """Set a flag for the whole process (active overrides still win in their block)."""
    global _process
    flag = _flag(name)
    with _lock:
        _process = MappingProxyType({**_process, flag: bool(enabled)})


def load(features: FeatureFlags) -> None:
    """Take every process-wide value from settings (``settings.features``)."""
    global _process
    values = {flag: bool(getattr(features, _FIELD_PREFIX + flag)) for flag in FLAG_NAMES}
    with _lock:
        _process = MappingProxyType(values)


def reset() -> None:
    """Back to the class defaults, and drop the current context's overrides."""
    global _process
    with _lock:
        _process = _DEFAULTS
    _overrides.set(None)


@contextmanager
def override(name: str, enabled: bool) -> Iterator[None]:
    """Within the ``with`` block (and tasks started in it), flag ``name`` is ``enabled``."""
    flag = _flag(name)
    current = _overrides.get() or {}
    token = _overrides.set(MappingProxyType({**current, flag: bool(enabled)}))
    try:
        yield
    finally:
        _overrides.reset(token)
