"""A throwaway PostgreSQL cluster on a loopback port.

    with PostgresServer() as server:     # initdb + start + role/database; removed on exit
        asyncpg.connect(server.url)
        server.restart()                 # same port, same data
        server.kill()                    # SIGKILL, as a crash; start() runs crash recovery

The cluster lives in a fresh temp dir (mode 0755) that also holds its Unix socket. Postgres
refuses to run as root, so under root the server runs as the `postgres` OS user, which owns the
dir. The test role's password holds URL-special characters; `url` percent-escapes it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from ._process import (
    ServerError,
    ServerUnavailable,
    make_workdir,
    run_logged,
)
from ._server import LocalServer

__all__ = ["DEFAULT_PASSWORD", "PostgresServer", "find_postgres_bindir"]

DEFAULT_USER = "ai_agent"
DEFAULT_PASSWORD = "p@ss:w/rd%#?"
DEFAULT_DATABASE = "ai_agent_test"
_SUPERUSER = "postgres"
_REQUIRED = ("initdb", "postgres", "psql")
StopMode = Literal["smart", "fast", "immediate"]
_STOP_SIGNALS: dict[str, int] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_postgres_bindir(explicit: Path | None = None) -> Path:
    """The directory holding initdb/postgres/psql: newest `/usr/lib/postgresql/*/bin`, or PATH."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    else:
        candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key)[::-1]
        found = shutil.which("initdb")
        if found:
            candidates.append(Path(found).parent)
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in _REQUIRED):
            return directory
    where = explicit or "/usr/lib/postgresql/*/bin or PATH"
    raise ServerUnavailable(
        f"PostgreSQL server binaries ({', '.join(_REQUIRED)}) not found in {where}; "
        "install the Debian package `postgresql` (./scripts/test does)"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class PostgresServer(LocalServer):
    """A private PostgreSQL cluster: `start()`, `stop()`, `kill()`, `restart()`, `close()`."""

    _NAME = "postgres"
    _LABEL = "PostgreSQL"

    def __init__(
        self,
        *,
        port: int | None = None,
        user: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        database: str = DEFAULT_DATABASE,
        durable: bool = False,
        bin_dir: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        """Describe the cluster; nothing runs until `start()`.

        Args:
            port: TCP port on 127.0.0.1; a free one is picked when None.
            user, password, database: the login role and the database it owns (CREATEDB).
            durable: keep `fsync` on. Off by default: committed data still survives a killed
                server (the WAL reaches the OS), just not a crash of the machine.
            bin_dir: where initdb/postgres/psql live; found automatically when None.
            startup_timeout: seconds to wait for the server to accept connections.
        """
        super().__init__(port=port, workdir=None, startup_timeout=startup_timeout)
        self.user = user
        self.password = password
        self.database = database
        self.durable = durable
        self._bin_dir = bin_dir
        self._os_user_name = _SUPERUSER if os.geteuid() == 0 else None

    # -- addresses ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`postgresql://user:password@127.0.0.1:port/db`, user and password percent-escaped."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{quote(self.database, safe='')}"

    @property
    def redacted_url(self) -> str:
        return f"postgresql://{quote(self.user, safe='')}:***@127.0.0.1:{self.port}/{self.database}"

    # -- lifecycle ---------------------------------------------------------------------------
    def stop(self, mode: StopMode = "fast") -> None:
        """Shut down (`fast` ends sessions cleanly, `immediate` skips the checkpoint)."""
        if self._process is not None:
            self._process.stop(_STOP_SIGNALS[mode], timeout=60.0)

    def psql(self, sql: str, *, database: str | None = None) -> str:
        """Run SQL as the superuser over the Unix socket (for fault tests); return stdout."""
        if not self.running:
            raise ServerError("PostgreSQL server is not running")
        assert self.workdir is not None
        argv = [
            str(self._bindir() / "psql"),
            *("-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"),
            *("-h", str(self.workdir), "-p", str(self.port), "-U", _SUPERUSER),
            *("-d", database or "postgres"),
        ]
        result = subprocess.run(
            argv, input=sql, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise ServerError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    # -- internals ---------------------------------------------------------------------------
    def _bindir(self) -> Path:
        if self._bin_dir is None or not (self._bin_dir / "postgres").exists():
            self._bin_dir = find_postgres_bindir(self._bin_dir)
        return self._bin_dir

    def _make_workdir(self) -> Path:
        """A new cluster (initdb) in a new temp dir."""
        bindir = self._bindir()
        workdir = make_workdir("postgres", owner=self._os_user_name)
        self.workdir = workdir  # the log lives there
        argv = [
            str(bindir / "initdb"),
            *("-D", str(workdir / "data"), "-U", _SUPERUSER),
            *("--auth-local=trust", "--auth-host=scram-sha-256"),
            *("--encoding=UTF8", "--locale=C", "--no-sync"),
        ]
        user = self._os_user_name
        run_logged(argv, log_path=self.log_path, cwd=workdir, user=user, timeout=120.0)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": _literal(str(workdir)),
            "max_connections": "200",
            "shared_buffers": "64MB",
            "fsync": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
        }
        with (workdir / "data" / "postgresql.conf").open("a") as conf:
            conf.write("\n# ai-agent test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        return workdir

    def _argv(self) -> list[str]:
        assert self.workdir is not None
        argv = [str(self._bindir() / "postgres"), "-D", str(self.workdir / "data")]
        return [*argv, "-p", str(self.port)]

    def _os_user(self) -> str | None:
        return self._os_user_name

    def _ready(self) -> bool:
        assert self.workdir is not None
        try:
            lines = (self.workdir / "data" / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        # Line 1 is the pid (a killed server leaves its file behind), line 8 the status.
        return len(lines) >= 8 and lines[0] == str(self.pid) and lines[7].strip() == "ready"

    def _first_start(self) -> None:
        self.psql(
            f"CREATE ROLE {_ident(self.user)} LOGIN CREATEDB PASSWORD {_literal(self.password)};\n"
            f"CREATE DATABASE {_ident(self.database)} OWNER {_ident(self.user)};\n"
        )
