"""The test infrastructure itself: real servers that behave as `tests/_servers` promises."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
import pytest
import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

from _servers import (
    TMPDIR_ENV,
    PostgresFactory,
    PostgresServer,
    RedisFactory,
    RedisServer,
    ServerError,
    ServerUnavailable,
    ci_is_set,
    find_redis_binary,
    skip_or_fail,
)
from subprocesses import run_captured

ROOT = Path(__file__).resolve().parents[2]
SPECIAL = "p@ss:w/rd%#?"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _runner(*args: str, tmpdir: Path) -> list[str]:
    return [sys.executable, "-m", "tests._servers", "run", "--tmpdir", str(tmpdir), *args]


def _env_without_urls() -> dict[str, str]:
    urls = {"TEST_POSTGRES_URL", "TEST_REDIS_URL", "TEST_REDIS_CLUSTER_URL"}
    return {key: value for key, value in os.environ.items() if key not in urls}


@pytest.fixture
def redis_binary() -> str:
    try:
        return find_redis_binary()
    except ServerUnavailable as exc:
        skip_or_fail(exc)


# -- the shared servers ------------------------------------------------------------------------
@pytest.mark.postgresql
async def test_postgres_url_connects(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SELECT current_user") == unquote(
            urlsplit(postgres_url).username or ""
        )
    finally:
        await conn.close()


@pytest.mark.redis
async def test_redis_url_pings(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()


@pytest.mark.redis_cluster
async def test_redis_cluster_has_three_masters_and_serves_every_slot(
    redis_cluster_url: str,
) -> None:
    client = RedisCluster.from_url(redis_cluster_url, decode_responses=True)
    try:
        assert await client.ping()
        assert len(client.get_primaries()) == 3
        info = await client.cluster_info()
        assert info["cluster_state"] == "ok"
        keys = [f"ai-agent-infra-test:{n}" for n in range(30)]  # spread over the 3 masters
        for key in keys:
            await client.set(key, key, ex=60)
        assert [await client.get(key) for key in keys] == keys
        assert len({client.keyslot(key) for key in keys}) > 1
    finally:
        await client.aclose()


# -- private servers for fault tests -------------------------------------------------------------
@pytest.mark.postgresql
@pytest.mark.slow
async def test_private_postgres_special_password_restart_and_kill(
    postgres_server_factory: PostgresFactory,
) -> None:
    server = postgres_server_factory()
    assert server.password == SPECIAL
    conn = await asyncpg.connect(server.url)
    await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')")
    await conn.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(server.url.replace("%40", "%41"))  # scram over TCP, not trust

    port = server.port
    server.restart()
    server.kill()
    assert not server.running and not _port_open(port or 0)
    server.start()  # crash recovery
    assert server.port == port
    conn = await asyncpg.connect(server.url)
    try:
        assert await conn.fetchval("SELECT v FROM kept") == "before"
    finally:
        await conn.close()
    assert "automatic recovery in progress" in server.log_path.read_text()


def test_postgres_without_binaries_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ServerUnavailable, match="Debian package `postgresql`"):
        PostgresServer(bin_dir=tmp_path).start()


@pytest.mark.redis
@pytest.mark.slow
async def test_private_redis_with_aof_keeps_writes_across_kill(
    redis_server_factory: RedisFactory,
) -> None:
    server = redis_server_factory(appendonly=True, password=SPECIAL)
    client = redis.Redis.from_url(server.url)  # the password arrives percent-escaped
    try:
        await client.set("kept", "yes")
    finally:
        await client.aclose()
    port = server.port
    server.kill()
    assert not server.running and not _port_open(port or 0)
    server.start()
    assert server.port == port
    client = redis.Redis.from_url(server.url)
    try:
        assert await client.get("kept") == b"yes"
    finally:
        await client.aclose()


@pytest.mark.redis
def test_private_redis_without_aof_keeps_nothing_and_can_pause(
    redis_server_factory: RedisFactory,
) -> None:
    server = redis_server_factory()
    server.command("SET", "lost", "1")
    server.restart()
    assert server.command("GET", "lost") is None
    server.pause()
    with pytest.raises(TimeoutError):
        server.command("PING", timeout=0.2)
    server.resume()
    assert server.command("PING") == "PONG"


@pytest.mark.postgresql
@pytest.mark.redis
@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_taken_fixed_port_is_an_error_with_the_log(
    kind: str, postgres_server_factory: PostgresFactory, redis_server_factory: RedisFactory
) -> None:
    factory = postgres_server_factory if kind == "postgres" else redis_server_factory
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServerError, match="exited with status") as failure:
            factory(port=taken.getsockname()[1])
    assert "Address already in use" in str(failure.value)


# -- the runner behind ./scripts/test ------------------------------------------------------------
@pytest.mark.redis
def test_runner_exports_urls_passes_exit_status_and_cleans_up(
    redis_binary: str, tmp_path: Path
) -> None:
    code = "import os, sys; print(os.environ['TEST_REDIS_URL']); sys.exit(5)"
    result = run_captured(
        _runner("--only", "redis", "--", sys.executable, "-c", code, tmpdir=tmp_path),
        cwd=ROOT,
        env=_env_without_urls(),
    )
    assert result.returncode == 5, result.stderr
    url = result.stdout.strip().splitlines()[-2]  # the last line says it stopped the server
    assert url.startswith("redis://127.0.0.1:")
    assert not _port_open(urlsplit(url).port or 0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.redis
@pytest.mark.slow
def test_runner_stops_servers_on_sigterm(redis_binary: str, tmp_path: Path) -> None:
    code = "import os, time; print(os.environ['TEST_REDIS_URL'], flush=True); time.sleep(60)"
    with subprocess.Popen(
        _runner("--only", "redis", "--", sys.executable, "-c", code, tmpdir=tmp_path),
        cwd=ROOT,
        env=_env_without_urls(),
        stdout=subprocess.PIPE,
        text=True,
    ) as runner:
        assert runner.stdout is not None
        url = next(line for line in runner.stdout if line.startswith("redis://")).strip()
        assert _port_open(urlsplit(url).port or 0)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=60) == 128 + signal.SIGTERM
        runner.stdout.read()
    assert not _port_open(urlsplit(url).port or 0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.redis
def test_cleanup_kills_leftover_servers(
    redis_binary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "run"
    base.mkdir()
    monkeypatch.setenv(TMPDIR_ENV, str(base))
    server = RedisServer().start()
    try:
        subprocess.run(
            [sys.executable, "-m", "tests._servers", "cleanup", str(base)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert not base.exists()
        assert not _port_open(server.port or 0)
    finally:
        server.close()


def test_ci_policy() -> None:
    assert not ci_is_set({})
    assert not any(ci_is_set({"CI": value}) for value in ("", "0", "false", "False", "no"))
    assert all(ci_is_set({"CI": value}) for value in ("1", "true", "yes"))
    missing = ServerUnavailable("redis-server not found")
    with pytest.raises(pytest.skip.Exception, match="not found"):
        skip_or_fail(missing, {})
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        skip_or_fail(missing, {"CI": "true"})
