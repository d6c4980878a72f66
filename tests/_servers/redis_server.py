"""Throwaway Redis servers and a local Redis Cluster on loopback ports.

    with RedisServer(appendonly=True) as server:   # AOF with `appendfsync always`
        server.command("SET", "k", "v")
        server.kill()                               # SIGKILL; start() reloads the AOF
        server.start()

    with RedisCluster(masters=3) as cluster:        # `redis-cli --cluster create`, 3 masters
        cluster.url                                 # redis://127.0.0.1:<port of one node>

`command()` speaks RESP over a plain socket, so the lifecycle code needs no client library.
"""

from __future__ import annotations

import shutil
import signal
import socket
import time
from collections.abc import Sequence
from io import BufferedReader
from pathlib import Path
from typing import Literal, Self
from urllib.parse import quote

from ._process import (
    ServerError,
    ServerUnavailable,
    log_tail,
    make_workdir,
    remove_workdir,
    run_logged,
)
from ._server import LocalServer, StartStop

__all__ = ["RedisCluster", "RedisReplyError", "RedisServer", "find_redis_binary"]

Reply = str | int | None | list["Reply"]
_CLUSTER_SLOTS = 16384
_BUS_OFFSET = 10000  # Redis Cluster's default bus port is port + 10000


def find_redis_binary(name: str = "redis-server") -> str:
    for found in (shutil.which(name), f"/usr/bin/{name}", f"/usr/local/bin/{name}"):
        if found and Path(found).is_file():
            return found
    raise ServerUnavailable(
        f"{name} not found on PATH; install the Debian package `redis-server` (./scripts/test does)"
    )


class RedisReplyError(ServerError):
    """Redis answered a command with an error reply."""


def _read_reply(stream: BufferedReader) -> Reply:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ServerError("connection closed by Redis")
    kind, body = line[:1], line[1:-2].decode()
    if kind == b"+":
        return body
    if kind == b"-":
        raise RedisReplyError(body)
    if kind == b":":
        return int(body)
    if kind == b"$":
        if int(body) < 0:
            return None
        data = stream.read(int(body) + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        return None if int(body) < 0 else [_read_reply(stream) for _ in range(int(body))]
    raise ServerError(f"unexpected Redis reply {line!r}")


def resp_command(
    port: int, *args: str | int, password: str | None = None, timeout: float = 5.0
) -> Reply:
    """Send one command to 127.0.0.1:`port` (after AUTH when a password is given)."""
    commands: list[tuple[str | int, ...]] = [("AUTH", password)] if password is not None else []
    commands.append(args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with sock.makefile("rb") as stream:
            reply: Reply = None
            for command in commands:
                parts = [str(arg).encode() for arg in command]
                payload = b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)
                sock.sendall(b"*%d\r\n%s" % (len(parts), payload))
                reply = _read_reply(stream)
            return reply


def _conf_string(value: str) -> str:
    """A redis.conf double-quoted string that survives any character."""
    return '"' + "".join(f"\\x{byte:02x}" for byte in value.encode()) + '"'


class RedisServer(LocalServer):
    """A private redis-server: `start()`, `stop()`, `kill()`, `restart()`, `pause()`, `close()`."""

    _NAME = "redis"
    _LABEL = "redis-server"

    def __init__(
        self,
        *,
        port: int | None = None,
        appendonly: bool = False,
        password: str | None = None,
        cluster: bool = False,
        workdir: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        """Describe the server; nothing runs until `start()`.

        Args:
            port: TCP port on 127.0.0.1; a free one is picked when None.
            appendonly: persist with an AOF (`appendfsync always`), so a killed server restarts
                with every acknowledged write. Without it the server keeps nothing.
            password: `requirepass` for the default user (it goes into `url`, escaped).
            cluster: run as a Redis Cluster node (bus port = port + 10000).
            workdir: where data, config and log go (kept by `close()`); a temp dir when None.
            startup_timeout: seconds to wait for PING to succeed.
        """
        super().__init__(port=port, workdir=workdir, startup_timeout=startup_timeout)
        self.appendonly = appendonly
        self.password = password
        self.cluster = cluster

    @property
    def url(self) -> str:
        """`redis://[:password@]127.0.0.1:port/0` (no database index for cluster nodes)."""
        auth = f":{quote(self.password, safe='')}@" if self.password is not None else ""
        return f"redis://{auth}127.0.0.1:{self.port}" + ("" if self.cluster else "/0")

    @property
    def redacted_url(self) -> str:
        return self.url.replace(quote(self.password, safe=""), "***") if self.password else self.url

    def command(self, *args: str | int, timeout: float = 5.0) -> Reply:
        """Run one Redis command on this server and return the decoded reply."""
        assert self.port is not None, "server was never started"
        return resp_command(self.port, *args, password=self.password, timeout=timeout)

    # -- lifecycle ---------------------------------------------------------------------------
    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """`fast`: SIGTERM, Redis's own clean shutdown (AOF flushed); `immediate`: SIGKILL."""
        if self._process is None:
            return
        if mode == "immediate":
            self._process.kill()
        else:
            self.resume()  # a paused server cannot handle SIGTERM
            self._process.stop(signal.SIGTERM, timeout=30.0)

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open but nothing answers (timeouts)."""
        if self._process is not None:
            self._process.signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.signal(signal.SIGCONT)

    # -- internals ---------------------------------------------------------------------------
    def _make_workdir(self) -> Path:
        return make_workdir("redis")

    def _port_offsets(self) -> Sequence[int]:
        return (0, _BUS_OFFSET) if self.cluster else (0,)

    def _write_config(self) -> Path:
        assert self.workdir is not None
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            "protected-mode no",
            "daemonize no",
            f"dir {_conf_string(str(self.workdir))}",
            f"pidfile {_conf_string(str(self.workdir / 'redis.pid'))}",
            'logfile ""',
            'save ""',
            f"appendonly {'yes' if self.appendonly else 'no'}",
            "appendfsync always",
        ]
        if self.password is not None:
            lines.append(f"requirepass {_conf_string(self.password)}")
        if self.cluster:
            lines += ["cluster-enabled yes", "cluster-config-file nodes.conf"]
            lines += ["cluster-node-timeout 5000"]
        path = self.workdir / "redis.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _argv(self) -> list[str]:
        return [find_redis_binary(), str(self._write_config())]

    def _ready(self) -> bool:
        try:
            return self.command("PING", timeout=1.0) == "PONG"
        except (OSError, ServerError):  # refused while starting, or LOADING the AOF
            return False


class RedisCluster(StartStop):
    """A local Redis Cluster of `masters` nodes with no replicas, all slots assigned."""

    def __init__(self, *, masters: int = 3, appendonly: bool = False, timeout: float = 60.0):
        self.masters = masters
        self.timeout = timeout
        self.workdir: Path | None = None
        self.nodes: list[RedisServer] = []
        self._appendonly = appendonly

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:port` of the first node; cluster clients discover the rest."""
        if not self.nodes:
            raise ServerError("Redis Cluster was never started")
        return self.nodes[0].url

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def redacted_url(self) -> str:
        return self.url

    def cluster_info(self, node: int = 0) -> dict[str, str]:
        reply = self.nodes[node].command("CLUSTER", "INFO")
        assert isinstance(reply, str)
        pairs = (line.split(":", 1) for line in reply.splitlines() if ":" in line)
        return dict(pairs)

    def start(self) -> Self:
        """Start every node, create the cluster if new, and wait for `cluster_state:ok`."""
        if self.nodes and all(node.running for node in self.nodes):
            return self
        if self.workdir is None:
            self.workdir = make_workdir("redis-cluster")
        if not self.nodes:
            for index in range(self.masters):
                (self.workdir / f"node{index}").mkdir()
                self.nodes.append(
                    RedisServer(
                        cluster=True,
                        appendonly=self._appendonly,
                        workdir=self.workdir / f"node{index}",
                    )
                )
            for node in self.nodes:
                node.start()
            self._create()
        else:
            for node in self.nodes:
                node.start()
        self._wait_until_ok()
        return self

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        for node in self.nodes:
            node.stop(mode)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        if self.workdir is not None:
            remove_workdir(self.workdir)

    def _create(self) -> None:
        assert self.workdir is not None
        argv = [find_redis_binary("redis-cli"), "--cluster", "create"]
        argv += [f"127.0.0.1:{node.port}" for node in self.nodes]
        argv += ["--cluster-replicas", "0", "--cluster-yes"]
        log_path = self.workdir / "cluster-create.log"
        run_logged(argv, log_path=log_path, cwd=self.workdir, user=None, timeout=self.timeout)

    def _healthy(self) -> bool:
        for index in range(len(self.nodes)):
            try:
                info = self.cluster_info(index)
            except (OSError, ServerError):
                return False
            if (
                info.get("cluster_state") != "ok"
                or info.get("cluster_slots_ok") != str(_CLUSTER_SLOTS)
                or info.get("cluster_known_nodes") != str(self.masters)
            ):
                return False
        return True

    def _wait_until_ok(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._healthy():
            if time.monotonic() > deadline:
                details = self.cluster_info() if self.nodes[0].running else {}
                raise ServerError(
                    f"Redis Cluster not ok after {self.timeout:g}s: {details}; "
                    f"node log {self.nodes[0].log_path}:\n{log_tail(self.nodes[0].log_path)}"
                )
            time.sleep(0.05)
