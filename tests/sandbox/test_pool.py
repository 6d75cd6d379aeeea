"""The warm pool against a real Docker engine: ready kernels, refill, cap, reaping, culling."""

from __future__ import annotations

import asyncio

import pytest

from sandbox import CapacityReached, DockerLauncher, Kernel, KernelPool, SandboxConfig
from sandbox.launcher import LABEL_SERVER


async def wait_until(predicate, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.fixture
def pool_config(sandbox_config: SandboxConfig, request: pytest.FixtureRequest) -> SandboxConfig:
    # Each test gets its own server id so reaping never touches another test's kernels.
    return sandbox_config.model_copy(update={"server_id": f"{sandbox_config.server_id}-{request.node.name[:20]}"})


async def test_acquire_hands_out_ready_kernels_and_refills(pool_config: SandboxConfig, docker_client) -> None:
    launcher = DockerLauncher(pool_config, client=docker_client)
    async with KernelPool(launcher, size=2, max_kernels=4) as pool:
        await wait_until(lambda: pool.stats()["ready"] == 2)
        a = await pool.acquire()
        b = await pool.acquire()
        assert a.id != b.id and a.state == b.state == "idle"
        _, result = await a.run("1 + 1")
        assert result.status == "ok"
        await wait_until(lambda: pool.stats()["ready"] == 2)  # refilled in the background
        assert pool.stats()["in_use"] == 2 and pool.live == 4
        await pool.release(a)
        assert a.state == "dead"
        assert pool.stats()["in_use"] == 1
    # Leaving the pool shuts everything down.
    left = docker_client.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={pool_config.server_id}"})
    assert left == []


async def test_capacity_reached_is_clear_and_release_makes_room(pool_config: SandboxConfig, docker_client) -> None:
    launcher = DockerLauncher(pool_config, client=docker_client)
    async with KernelPool(launcher, size=1, max_kernels=1) as pool:
        await wait_until(lambda: pool.stats()["ready"] == 1)
        first = await pool.acquire()
        with pytest.raises(CapacityReached, match="capacity reached: all 1 kernels are in use"):
            await pool.acquire()
        await pool.release(first)
        second = await pool.acquire()
        _, result = await second.run("'fresh'")
        assert result.status == "ok"


async def test_replace_gives_a_fresh_container(pool_config: SandboxConfig, docker_client) -> None:
    launcher = DockerLauncher(pool_config, client=docker_client)
    async with KernelPool(launcher, size=1, max_kernels=3) as pool:
        old = await pool.acquire()
        await old.run("leftover = 1")
        new = await pool.replace(old)
        assert new.id != old.id and old.state == "dead"
        _, result = await new.run("leftover")
        assert result.status == "error"


async def test_orphans_of_a_previous_run_are_reaped(pool_config: SandboxConfig, docker_client) -> None:
    launcher = DockerLauncher(pool_config, client=docker_client)
    orphan = await Kernel.start(launcher)  # as if a previous server process died holding it
    orphan.client.close()
    async with KernelPool(launcher, size=0, max_kernels=2) as pool:
        assert pool.reaped == 1
    assert not orphan.handle.kdir.root.exists()
    ids = [c.id for c in docker_client.containers.list(all=True)]
    assert orphan.handle.container_id not in ids


async def test_idle_kernels_are_culled(pool_config: SandboxConfig, docker_client) -> None:
    culled: list[Kernel] = []

    async def on_cull(kernel: Kernel) -> None:
        culled.append(kernel)

    launcher = DockerLauncher(pool_config, client=docker_client)
    async with KernelPool(launcher, size=0, max_kernels=2, cull_idle_s=1.0, on_cull=on_cull) as pool:
        kernel = await pool.acquire()
        await wait_until(lambda: culled == [kernel], timeout=30)
        assert kernel.state == "dead"
        assert pool.stats()["in_use"] == 0
