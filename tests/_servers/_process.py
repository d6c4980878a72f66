"""Plumbing shared by the server classes: errors, ports, work dirs and child processes.

Every server runs as a direct child of the Python process that started it, in a session of
its own (so a terminal's Ctrl-C reaches only the test runner, which then stops them in order)
and with a parent-death signal (so a runner killed with SIGKILL does not leave them behind).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "TMPDIR_ENV",
    "ManagedProcess",
    "ServerError",
    "ServerUnavailable",
    "ci_is_set",
    "die_with_parent",
    "log_tail",
    "make_workdir",
    "os_ids",
    "pick_port",
    "remove_workdir",
    "run_logged",
    "wait_until",
]

#: Directory under which servers create their work dirs (the test runner sets it, so that a
#: last-resort cleanup can find and remove everything); the system temp dir when unset.
TMPDIR_ENV = "AI_AGENT_TEST_TMPDIR"

# Ports are drawn below Linux's ephemeral range (32768+), so outgoing connections never hold
# them, and low enough that a Redis Cluster bus port (port + 10000) stays below it too.
_PORT_RANGE = (12000, 22000)
_PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """A test server failed to start, stop or answer; the message carries its log tail."""


class ServerUnavailable(ServerError):
    """The server's binaries are not installed on this machine."""


def ci_is_set(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `CI` is set to a true-ish value (anything non-empty but `0`/`false`/`no`/`off`)."""
    value = (os.environ if environ is None else environ).get("CI", "").strip().lower()
    return value not in {"", "0", "false", "no", "off"}


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR too: a port held only by TIME_WAIT entries is usable.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(offsets: Sequence[int] = (0,)) -> int:
    """Return a loopback port `p` such that `p + offset` is free for every offset."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(*_PORT_RANGE)
        if all(_port_is_free(port + offset) for offset in offsets):
            return port
    raise ServerError(f"no free port found in {_PORT_RANGE} on 127.0.0.1")


def make_workdir(prefix: str, owner: str | None = None) -> Path:
    """Create a fresh world-readable work dir (mode 0755), optionally owned by `owner`."""
    uid, gid, _ = os_ids(owner)
    base = os.environ.get(TMPDIR_ENV) or None
    path = Path(tempfile.mkdtemp(prefix=f"ai-agent-{prefix}-", dir=base))
    path.chmod(0o755)  # mkdtemp makes 0700; another OS user (postgres) must enter it
    if uid is not None and gid is not None:
        os.chown(path, uid, gid)
    return path


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def log_tail(path: Path, lines: int = 25) -> str:
    """The last `lines` lines of a log file, or a note when there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail) if tail else f"(empty log at {path})"


def wait_until(
    ready: Callable[[], bool], *, timeout: float, process: ManagedProcess, what: str
) -> None:
    """Poll `ready` until it returns true; fail early if `process` exits, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        status = process.poll()
        if status is not None:
            raise ServerError(
                f"{what} exited with status {status} during start-up; "
                f"log {process.log_path}:\n{log_tail(process.log_path)}"
            )
        if time.monotonic() > deadline:
            raise ServerError(
                f"{what} was not ready after {timeout:g}s; "
                f"log {process.log_path}:\n{log_tail(process.log_path)}"
            )
        time.sleep(0.02)


def os_ids(user: str | None) -> tuple[int | None, int | None, list[int] | None]:
    """`user`, `group` and `extra_groups` for subprocess to run a command as `user`."""
    if user is None:
        return None, None, None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ServerUnavailable(f"OS user {user!r} does not exist") from None
    return entry.pw_uid, entry.pw_gid, []


def run_logged(
    argv: Sequence[str], *, log_path: Path, cwd: Path, user: str | None, timeout: float
) -> None:
    """Run a set-up command to completion, appending its output to `log_path`."""
    uid, gid, groups = os_ids(user)
    with log_path.open("ab") as log:
        try:
            status = subprocess.run(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=uid,
                group=gid,
                extra_groups=groups,
                timeout=timeout,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            status = None
    if status != 0:
        outcome = f"timed out after {timeout:g}s" if status is None else f"exited with {status}"
        raise ServerError(f"{Path(argv[0]).name} {outcome}; log {log_path}:\n{log_tail(log_path)}")


def die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """`preexec_fn`: the child gets SIGTERM when the thread that forked it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """One long-running server process: started in its own session, stopped without leftovers."""

    def __init__(self, argv: Sequence[str], *, log_path: Path, cwd: Path, user: str | None = None):
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.user = user
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self) -> None:
        if self.running:
            return
        uid, gid, groups = os_ids(self.user)
        # The parent-death signal is tied to the thread that forks: only set it from the main
        # thread, whose exit means the whole process is going away.
        on_main = threading.current_thread() is threading.main_thread()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent if on_main else None,
                user=uid,
                group=gid,
                extra_groups=groups,
            )

    def poll(self) -> int | None:
        """The exit status once the process has ended (it is then reaped), else None."""
        return None if self._proc is None else self._proc.poll()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.running:
            assert self._proc is not None
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signum)

    def stop(self, signum: int, timeout: float) -> None:
        """Send `signum`, wait up to `timeout` seconds (then SIGKILL), and sweep leftovers."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            # Snapshot the children now: once the leader exits they are re-parented.
            family = _descendants(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return
            _kill_all(family)
        proc.wait()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the process and all its descendants at once, as a crash would.

        (Postgres backends call setsid(), so a process-group kill would miss them.)
        """
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGSTOP)  # no new children while we look
            family = _descendants(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            _kill_all(family)
        proc.wait()
        self._proc = None


_Identity = tuple[int, str]  # (pid, start time): a pid alone may be reused


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # skip "pid (comm) "; comm may hold spaces
    return int(fields[1]), fields[19]


def _descendants(root: int) -> list[_Identity]:
    children: dict[int, list[_Identity]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found: list[_Identity] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child[0])
    return found


def _kill_all(family: list[_Identity]) -> None:
    for pid, started in family:
        stat = _stat(pid)
        if stat is not None and stat[1] == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
