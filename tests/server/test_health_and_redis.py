"""The server's lifespan with a managed redis-server, a real Docker engine and the warm pool."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis.asyncio as aioredis
from starlette.testclient import TestClient

from sandbox import SandboxConfig
from server.app import create_app
from server.managed_redis import ManagedRedis
from server.settings import Settings


def test_healthz_reports_redis_docker_and_a_filled_pool(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    sandbox = sandbox_config.model_copy(update={"server_id": f"{sandbox_config.server_id}-health", "pool_size": 1})
    settings = Settings(data_dir=tmp_path / "data", sandbox=sandbox)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while True:
            body = client.get("/healthz").json()
            if body["pool"]["ready"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert body["status"] == "ok"
        assert body["redis"] == {"ok": True}
        assert body["docker"]["ok"] is True and body["docker"]["image"] == sandbox.image
        assert body["pool"]["ready"] == 1 and body["pool"]["max"] == sandbox.max_kernels
    # The generated admin token is stored privately in the data directory.
    token_file = tmp_path / "data" / "admin_token"
    assert token_file.stat().st_mode & 0o077 == 0
    assert len(token_file.read_text().strip()) >= 40


async def test_managed_redis_has_aof_on_restarts_when_killed_and_stops(tmp_path: Path) -> None:
    async with ManagedRedis(tmp_path / "redis") as managed:
        client = aioredis.from_url(managed.url)
        try:
            assert (await client.config_get("appendonly"))["appendonly"] == "yes"
            assert (await client.config_get("appendfsync"))["appendfsync"] in ("everysec", "always")
            await client.set("kept", "1")
            await client.execute_command("BGREWRITEAOF")
            await asyncio.sleep(1.5)  # appendfsync everysec
            assert managed._proc is not None
            managed._proc.kill()
            async with asyncio.timeout(15):
                while True:
                    try:
                        if await client.get("kept") == b"1":
                            break
                    except Exception:  # noqa: BLE001 - connection refused while it restarts
                        pass
                    await asyncio.sleep(0.1)
            assert managed.restarts == 1
        finally:
            await client.aclose()
        proc = managed._proc
        assert proc is not None and proc.poll() is None
    assert managed._proc is None
    assert proc.poll() is not None  # stopped on exit
    assert (tmp_path / "redis" / "appendonlydir").is_dir()
