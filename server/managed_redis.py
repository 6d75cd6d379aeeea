"""A ``redis-server`` that Clarify starts, supervises and stops itself.

Used when ``CLARIFY_REDIS_URL`` is unset: the server keeps its recordings in a Redis of its
own under the data directory, with AOF on (``appendfsync everysec``).

Other local users must not reach it (it holds token hashes): it listens on no TCP port, only
on a unix socket in a 0700 directory, and it requires a password generated once and stored
0600 in its directory. The password reaches redis-server through a 0600 config file (never the
command line, which any user can read in ``/proc``), reaches callers inside :attr:`ManagedRedis.url`
(a ``unix://`` URL), and is never logged.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
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


# sun_path is 108 bytes on Linux including the terminating NUL.
_MAX_SOCKET_PATH = 107
_PRIVATE_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC


def _private_dir(path: Path) -> Path:
    """``path`` as a directory only this user can enter (0700), refusing a link in its place."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _PRIVATE_FILE_FLAGS)
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            raise RuntimeError(f"{path} is not owned by the server's uid; refusing to keep Redis there")
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path.resolve()


def _read_or_make_password(path: Path) -> str:
    """The password stored (0600) at ``path``, generated on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _PRIVATE_FILE_FLAGS, 0o600)
    except FileExistsError:
        return _read_password(path)
    password = secrets.token_hex(32)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, 0o600)
        f.write(password + "\n")
    return password


def _read_password(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | _PRIVATE_FILE_FLAGS)  # ELOOP for a planted link
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            raise RuntimeError(f"{path} is not a regular file owned by the server; refusing to use it")
        os.fchmod(fd, 0o600)
        password = os.read(fd, 4096).decode(errors="replace").strip()
    finally:
        os.close(fd)
    if len(password) < 32 or not password.isalnum():
        raise RuntimeError(f"{path} does not hold a usable Redis password; delete it to make a new one")
    return password


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _PRIVATE_FILE_FLAGS, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, 0o600)
        f.write(text)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ManagedRedis:
    """``async with ManagedRedis(dir) as r: r.url`` — started, restarted if it dies, stopped.

    ``url`` is a ``unix://`` URL that carries the password: a secret, never to be logged.
    """

    def __init__(self, directory: Path, *, binary: str = "redis-server") -> None:
        self.directory = directory
        self.binary = binary
        self.socket_path: Path | None = None
        self.url = ""
        self._password = ""
        self._own_socket_dir: Path | None = None  # a short fallback directory this instance made
        self._proc: subprocess.Popen[bytes] | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._stack = contextlib.AsyncExitStack()
        self.restarts = 0

    def _prepare(self) -> None:
        """The private directory, password and socket path (once per instance)."""
        directory = _private_dir(self.directory)
        self._password = _read_or_make_password(directory / "password")
        socket_path = directory / "redis.sock"
        if len(str(socket_path).encode()) > _MAX_SOCKET_PATH:
            # A unix socket path cannot be that long: a fresh 0700 directory (mkdtemp) instead.
            self._own_socket_dir = Path(tempfile.mkdtemp(prefix="clarify-redis-"))
            log.info(
                "managed redis: %s is longer than a unix socket path may be; its socket is in %s",
                socket_path,
                self._own_socket_dir,
            )
            socket_path = self._own_socket_dir / "redis.sock"
        self.socket_path = socket_path
        self.url = f"unix://:{self._password}@{socket_path}?db=0"

    def _spawn(self) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise RuntimeError(f"{self.binary} not found; install redis-server or set CLARIFY_REDIS_URL")
        if self.socket_path is None:
            self._prepare()
        assert self.socket_path is not None
        directory = _private_dir(self.directory)
        pidfile = directory / "redis.pid"
        _stop_stale(pidfile)
        config = "\n".join(
            [
                "port 0",  # no TCP at all
                f"unixsocket {_quote(str(self.socket_path))}",
                "unixsocketperm 700",
                f"requirepass {_quote(self._password)}",
                f"dir {_quote(str(directory))}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "daemonize no",
                f"logfile {_quote('redis.log')}",
                "protected-mode yes",
                "",
            ]
        )
        conf = directory / "redis.conf"
        _write_private(conf, config)
        self._proc = subprocess.Popen(
            [exe, str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent
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
        log.info(
            "managed redis-server on unix socket %s (password required; data in %s)", self.socket_path, self.directory
        )
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
        if self._own_socket_dir is not None:
            shutil.rmtree(self._own_socket_dir, ignore_errors=True)

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
