"""The configuration error raised when settings cannot be loaded."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ConfigurationError"]


class ConfigurationError(ValueError):
    """Settings could not be loaded from the environment.

    ``problems`` holds one readable sentence per problem, each naming the environment
    variable and what it accepts. No message ever contains a secret value.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or ("invalid configuration",)
        super().__init__("; ".join(self.problems))
