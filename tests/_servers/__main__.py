"""Run a command with throwaway servers, or clean up after a runner that was killed.

    python -m tests._servers run [--only postgres,redis,redis-cluster] [--tmpdir DIR] -- CMD...
    python -m tests._servers cleanup DIR

`run` starts each server whose `TEST_*_URL` is not already set, exports the URLs to CMD, and
stops every server on every way out: CMD's exit, an error, SIGINT, SIGTERM or SIGHUP (CMD is
given a chance to finish first). It exits with CMD's status (128 + N after signal N).
`cleanup` SIGKILLs any process still working under DIR (a server left by a runner that was
itself killed), then removes DIR.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from ._process import TMPDIR_ENV, ServerError, die_with_parent, remove_workdir
from .postgres_server import PostgresServer
from .redis_server import RedisCluster, RedisServer

_Startable = PostgresServer | RedisServer | RedisCluster
SERVERS: dict[str, tuple[str, Callable[[], _Startable]]] = {
    "postgres": ("TEST_POSTGRES_URL", PostgresServer),
    "redis": ("TEST_REDIS_URL", RedisServer),
    "redis-cluster": ("TEST_REDIS_CLUSTER_URL", RedisCluster),
}
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_CHILD_GRACE = 10.0  # seconds a child that saw Ctrl-C itself gets before we send SIGTERM
_CHILD_TERM_TIMEOUT = 30.0


class Interrupted(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _ignore_signals() -> None:
    for signum in _SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _end_child(proc: subprocess.Popen[bytes], signum: int) -> None:
    # After a terminal's Ctrl-C the child got SIGINT too: let it wind down on its own first.
    if signum == signal.SIGINT and _wait(proc, _CHILD_GRACE):
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    if not _wait(proc, _CHILD_TERM_TIMEOUT):
        proc.kill()
        proc.wait()


def _run_child(command: Sequence[str], env: dict[str, str]) -> int:
    # Our handlers are installed by now, so the child starts with default dispositions even
    # when we were started with SIGINT ignored (bash does that to background jobs).
    # And it goes when we go: without us, nobody would stop its servers.
    proc = subprocess.Popen(command, env=env, preexec_fn=die_with_parent)
    try:
        return proc.wait()
    except Interrupted as exc:
        _ignore_signals()
        _end_child(proc, exc.signum)
        raise


def run(kinds: Sequence[str], command: Sequence[str]) -> int:
    for signum in _SIGNALS:
        signal.signal(signum, _raise_interrupted)
    env = dict(os.environ)
    started: list[_Startable] = []
    try:
        for kind in kinds:
            variable, server_class = SERVERS[kind]
            if os.environ.get(variable):
                _say(f"{kind}: using ${variable} from the environment")
                continue
            began = time.monotonic()
            server = server_class()
            started.append(server)
            server.start()
            env[variable] = server.url
            took = time.monotonic() - began
            _say(f"{kind}: {server.redacted_url} (${variable}, {took:.1f}s)")
        return _run_child(command, env) if command else 0
    except Interrupted as exc:
        _say(f"interrupted by {signal.Signals(exc.signum).name}")
        return 128 + exc.signum
    finally:
        _ignore_signals()
        began = time.monotonic()
        for server in reversed(started):
            server.close()
        if started:
            _say(f"stopped {len(started)} server(s) ({time.monotonic() - began:.1f}s)")


def _processes_inside(directory: Path) -> list[int]:
    """Pids of the processes whose working directory is under `directory` (servers chdir there)."""
    root = str(directory.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd").removesuffix(" (deleted)")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(int(entry.name))
    return found


def cleanup(directory: Path) -> int:
    """SIGKILL every process still working under `directory`, then remove it."""
    deadline = time.monotonic() + 10.0
    while (pids := _processes_inside(directory)) and time.monotonic() < deadline:
        for pid in pids:
            _say(f"killing leftover server process {pid}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    remove_workdir(directory)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests._servers", description=__doc__)
    commands = parser.add_subparsers(dest="action", required=True)
    run_parser = commands.add_parser("run", help="start servers, run a command, stop them")
    run_parser.add_argument("--only", default=",".join(SERVERS), help="comma-separated kinds")
    run_parser.add_argument("--tmpdir", type=Path, help=f"parent dir for servers (${TMPDIR_ENV})")
    run_parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    cleanup_parser = commands.add_parser("cleanup", help="kill leftovers under DIR, remove it")
    cleanup_parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.action == "cleanup":
        return cleanup(args.directory)
    kinds = [kind.strip() for kind in args.only.split(",") if kind.strip()]
    if unknown := set(kinds) - set(SERVERS):
        parser.error(f"unknown server kind(s): {', '.join(sorted(unknown))}")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.tmpdir is not None:
        os.environ[TMPDIR_ENV] = str(args.tmpdir.resolve())
    try:
        return run(kinds, command)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
