"""Context-manager mixins: ``async with`` connects and disconnects, ``with`` closes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

__all__ = ["ClosesOnExit", "ConnectsInContext"]


class ConnectsInContext(ABC):
    """``async with`` connects on entry and disconnects on exit."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()


class ClosesOnExit(ABC):
    """``with`` returns the object itself and closes it on exit."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
