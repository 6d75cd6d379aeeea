"""A ``redis-server`` that Clarify starts, supervises and stops itself.

Used when ``CLARIFY_REDIS_URL`` is unset: the server keeps its recordings in a Redis of its
own under the data directory, with AOF on (``appendfsync everysec``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import anyio
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    # Runs in the child before exec: if the server is killed (even with SIGKILL), the kernel
    # sends redis-server SIGTERM, so it flushes its AOF and frees the data directory.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop_stale(pidfile: Path) -> None:
    """Stop a redis-server a previous (killed) server left running on this data directory."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if b"redis-server" not in cmdline:
        return
    log.warning("stopping a stale managed redis-server (pid %d)", pid)
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ManagedRedis:
    """``async with ManagedRedis(dir) as r: r.url`` — started, restarted if it dies, stopped."""

    def __init__(self, directory: Path, *, binary: str = "redis-server", port: int | None = None) -> None:
        self.directory = directory
        self.binary = binary
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._stack = contextlib.AsyncExitStack()
        self.restarts = 0

    def _spawn(self) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise RuntimeError(f"{self.binary} not found; install redis-server or set CLARIFY_REDIS_URL")
        self.directory.mkdir(parents=True, exist_ok=True)
        pidfile = self.directory / "redis.pid"
        _stop_stale(pidfile)
        args = [
            exe,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory.resolve()),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
            "--protected-mode",
            "yes",
        ]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        pidfile.write_text(f"{self._proc.pid}\n")

    async def _wait_ready(self, timeout: float = 10.0) -> None:
        client = aioredis.from_url(self.url)
        try:
            with anyio.fail_after(timeout):
                while True:
                    if self._proc is not None and self._proc.poll() is not None:
                        raise RuntimeError(
                            f"redis-server exited with {self._proc.returncode}; see {self.directory / 'redis.log'}"
                        )
                    try:
                        await client.ping()
                        return
                    except (RedisConnectionError, OSError):
                        await anyio.sleep(0.05)
        finally:
            await client.aclose()

    async def _supervise(self) -> None:
        while True:
            await anyio.sleep(1.0)
            if self._proc is not None and self._proc.poll() is not None:
                log.warning("managed redis-server exited with %s; restarting", self._proc.returncode)
                self.restarts += 1
                self._spawn()
                with contextlib.suppress(Exception):
                    await self._wait_ready()

    async def __aenter__(self) -> ManagedRedis:
        self._spawn()
        try:
            await self._wait_ready()
        except BaseException:
            self._stop()
            raise
        log.info("managed redis-server on %s (data in %s)", self.url, self.directory)
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._tg.start_soon(self._supervise)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tg is not None:
            self._tg.cancel_scope.cancel()
        await self._stack.aclose()
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # redis-server flushes the AOF on SIGTERM
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
