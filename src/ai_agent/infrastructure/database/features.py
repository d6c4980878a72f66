"""The feature flags this layer consults, read through one seam.

Repositories, the failover router, the breaker and the metrics ask a :class:`Features`
(``features("retries")``) on every call, never :mod:`ai_agent.config.feature_flags`
directly. The default, :data:`PROCESS_FLAGS`, reads the process-wide flags with their
``feature_flags.override`` blocks, so an override affects repositories built before it::

    repository.features = Features(lambda flag: flag != "retries")   # a fixed choice
    with forced("bulk_operations", True):                             # this context only
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Literal

from ai_agent.config import feature_flags

__all__ = ["PROCESS_FLAGS", "Features", "Flag", "forced"]

Flag = Literal["retries", "fallbacks", "circuit_breakers", "bulk_operations", "detailed_metrics"]

_NONE: Mapping[str, bool] = MappingProxyType({})
_forced: ContextVar[Mapping[str, bool]] = ContextVar(
    "ai_agent_database_forced_flags", default=_NONE
)


class Features:
    """Answers whether a flag is on now: a ``forced`` block first, then ``source``."""

    __slots__ = ("_source",)

    def __init__(self, source: Callable[[str], bool] = feature_flags.is_enabled) -> None:
        self._source = source

    def __call__(self, flag: Flag) -> bool:
        decided = _forced.get()
        if flag in decided:
            return decided[flag]
        return self._source(flag)


#: The process-wide flags (``feature_flags.load`` / ``set_flag`` / ``override``).
PROCESS_FLAGS = Features()


@contextmanager
def forced(flag: Flag, enabled: bool) -> Iterator[None]:
    """Within the block, every :class:`Features` of this layer answers ``enabled`` for ``flag``.

    For work the library does on its own behalf, such as replaying writes that were accepted
    while a flag was on; callers' choices go through ``feature_flags.override``.
    """
    token = _forced.set(MappingProxyType({**_forced.get(), flag: enabled}))
    try:
        yield
    finally:
        _forced.reset(token)
