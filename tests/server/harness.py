"""Real processes for server tests: a redis-server, a `clarify serve`, Node Yjs clients.

Nothing here imitates our own code: the server is the real CLI in a subprocess, the document
clients are stock Yjs ``WebsocketProvider`` instances in Node.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[2]
YCLIENT = ROOT / "tests" / "yclient" / "client.mjs"
ADMIN = "test-admin-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """A redis-server the test owns, so it can be stopped and started mid-session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class ServerProcess:
    """`clarify serve` in a subprocess on a free port."""

    def __init__(
        self,
        data_dir: Path,
        *,
        image: str,
        kernel_dir: Path,
        redis_url: str | None,
        server_id: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CLARIFY_DATA_DIR": str(data_dir),
            "CLARIFY_ADMIN_TOKEN": ADMIN,
            "CLARIFY_SANDBOX__IMAGE": image,
            "CLARIFY_SANDBOX__KERNEL_DIR": str(kernel_dir),
            "CLARIFY_SANDBOX__SERVER_ID": server_id,
            "CLARIFY_SANDBOX__POOL_SIZE": "1",
            **(extra_env or {}),
        }
        if redis_url:
            self.env["CLARIFY_REDIS_URL"] = redis_url
        self.data_dir = data_dir
        self.log = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as logf:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=logf,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                r = httpx.get(f"{self.base}/healthz", timeout=1)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what the design must survive."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def create_session(self, candidate: str = "Ada") -> dict[str, Any]:
        r = httpx.post(
            f"{self.base}/api/sessions",
            json={"candidate": candidate},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return r.json()


class YClient:
    """A Node Yjs WebsocketProvider in a subprocess."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self._ids = 0

    @classmethod
    async def start(cls, ws_base: str, session_id: str, token: str, name: str = "client") -> YClient:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(YCLIENT),
            f"{ws_base}/ws/doc",
            session_id,
            token,
            name,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.events.append(json.loads(line))
            self._new.set()

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for ev in self.events[seen:]:
                    if pred(ev):
                        return ev
                seen = len(self.events)
                self._new.clear()
                await self._new.wait()

    async def synced(self, timeout: float = 15.0) -> None:
        await self.wait_for(lambda e: e["event"] == "sync" and e["synced"], timeout)

    async def text(self) -> str:
        self._ids += 1
        ident = self._ids
        self.send(op="get", id=ident)
        ev = await self.wait_for(lambda e: e["event"] == "get" and e["id"] == ident)
        return ev["text"]

    async def wait_text(self, expected: str, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while (current := await self.text()) != expected:
                await asyncio.sleep(0.05)
        assert current == expected

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                self.send(op="quit")
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()


def events_socket(server: ServerProcess, session_id: str, token: str):
    """A raw events websocket (the caller uses ``async with``)."""
    return websockets.connect(f"{server.ws_base}/ws/events/{session_id}?token={token}", max_size=None)


async def recv_until(ws, pred: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> list[dict[str, Any]]:
    """Messages received until one matches ``pred`` (inclusive)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads(await ws.recv())
            seen.append(msg)
            if pred(msg):
                return seen


async def staff_get(server: ServerProcess, path: str, **params: Any) -> httpx.Response:
    """GET with the admin token."""
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        return await http.get(path, params=params or None, timeout=30)
