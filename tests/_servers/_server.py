"""What every throwaway server shares: its child process, log, port picking and `with` use.

A subclass names itself (`_NAME`, used for the log file and in errors) and supplies
`_make_workdir()`, `_argv()`, `_ready()` and `stop()`; `start()` then runs it on the given or a
free loopback port, trying another when a picked one was taken in the meantime, and `kill()`,
`restart()` and `close()` are the same for every server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal, Self

from ._process import ManagedProcess, ServerError, log_tail, pick_port, remove_workdir, wait_until

__all__ = ["LocalServer", "StartStop"]


class StartStop(ABC):
    """`with server:` starts it and always closes it, also when starting fails half-way."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LocalServer(StartStop):
    """Base of `PostgresServer` and `RedisServer` (not used on its own)."""

    _NAME: ClassVar[str]  # e.g. "postgres": the log is <workdir>/postgres.log
    _LABEL: ClassVar[str]  # e.g. "PostgreSQL", in messages

    def __init__(self, *, port: int | None, workdir: Path | None, startup_timeout: float) -> None:
        self.port = port
        self.workdir = workdir
        self.startup_timeout = startup_timeout
        self._own_workdir = workdir is None  # a given work dir is the caller's to remove
        self._port_fixed = port is not None
        self._started_once = False
        self._process: ManagedProcess | None = None

    def start(self) -> Self:
        """Start (or start again, same port and data) and wait until it is ready."""
        if self.running:
            return self
        if self.workdir is None:
            self.workdir = self._make_workdir()
        # A picked port can be taken between the check and the bind: pick again, a few times.
        may_move = not (self._port_fixed or self._started_once)
        self._launch_on_a_port(may_move=may_move, offsets=self._port_offsets())
        if not self._started_once:
            self._first_start()
        self._started_once = True
        return self

    @abstractmethod
    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """`fast`: the server's own clean shutdown; `immediate`: as quick as it allows."""

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; `start()` then recovers what it kept."""
        if self._process is not None:
            self._process.kill()

    def restart(self, mode: Literal["fast", "immediate"] = "fast") -> Self:
        self.stop(mode)
        return self.start()

    def close(self) -> None:
        """Stop the server and delete its work dir (unless the caller gave it). Safe to call
        more than once."""
        self.stop("immediate")
        if self.workdir is not None and self._own_workdir:
            remove_workdir(self.workdir)

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise ServerError(f"{self._LABEL} server was never started")
        return self.workdir / f"{self._NAME}.log"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    def _launch_on_a_port(self, *, may_move: bool, offsets: Sequence[int] = (0,)) -> None:
        """Launch on `port`, or on a picked one; `may_move`: pick again if it was taken."""
        attempts = 3 if may_move else 1
        for attempt in range(attempts):
            if self.port is None or attempt:
                self.port = pick_port(offsets)
            try:
                self._spawn()
                return
            except ServerError:
                if attempt == attempts - 1 or "already in use" not in log_tail(self.log_path, 10):
                    raise

    def _spawn(self) -> None:
        assert self.workdir is not None
        self._process = ManagedProcess(
            self._argv(), log_path=self.log_path, cwd=self.workdir, user=self._os_user()
        )
        self._process.start()
        try:
            wait_until(
                self._ready,
                timeout=self.startup_timeout,
                process=self._process,
                what=f"{self._LABEL} on port {self.port}",
            )
        except BaseException:
            self._process.kill()
            raise

    @abstractmethod
    def _make_workdir(self) -> Path: ...

    def _port_offsets(self) -> Sequence[int]:
        """Offsets from the port that must be free as well (a cluster node's bus port)."""
        return (0,)

    def _first_start(self) -> None:
        """Set-up that needs the running server, once (a PostgreSQL role and database)."""

    @abstractmethod
    def _argv(self) -> list[str]: ...

    @abstractmethod
    def _ready(self) -> bool: ...

    def _os_user(self) -> str | None:
        return None
