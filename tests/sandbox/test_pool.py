"""The warm pool against a real Docker engine: ready kernels, refill, cap, reaping, culling."""

from __future__ import annotations

import asyncio

import pytest

from sandbox import CapacityReached, DockerLauncher, Kernel, KernelDead, KernelPool, KernelStartError, SandboxConfig
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
    with pytest.raises(KernelDead, match="cannot be restarted"):
        await kernel.restart()
    assert pool.stats()["culled"] == 1


# -- liveness, broken refills, removed containers ---------------------------------------------------


async def test_a_dead_or_silent_ready_kernel_is_discarded_not_handed_out(
    pool_config: SandboxConfig, docker_client
) -> None:
    launcher = DockerLauncher(pool_config, client=docker_client)
    async with KernelPool(launcher, size=1, max_kernels=3) as pool:
        await wait_until(lambda: pool.stats()["ready"] == 1)
        dead = pool._ready._queue[0]  # type: ignore[attr-defined]
        docker_client.containers.get(dead.handle.container_id).kill()
        fresh = await pool.acquire()
        assert fresh is not dead and fresh.state == "idle"
        _, result = await fresh.run("1 + 1")
        assert result.status == "ok"
        assert pool.stats()["discarded"] == 1 and dead.state == "dead"
        # Running but not answering (a paused container): also discarded.
        await wait_until(lambda: pool.stats()["ready"] == 1)
        silent = pool._ready._queue[0]  # type: ignore[attr-defined]
        docker_client.containers.get(silent.handle.container_id).pause()
        fresh2 = await pool.acquire()
        assert fresh2 is not silent
        _, result = await fresh2.run("2 + 2")
        assert result.status == "ok"
        assert pool.stats()["discarded"] == 2


async def test_broken_refills_are_counted_and_acquire_raises_only_sandbox_errors(
    pool_config: SandboxConfig, docker_client
) -> None:
    # An image with no kernel in it: every start fails.
    if not docker_client.images.list("debian:bookworm-slim"):
        docker_client.images.pull("debian", tag="bookworm-slim")
    broken = pool_config.model_copy(update={"image": "debian:bookworm-slim", "start_timeout_s": 3.0})
    launcher = DockerLauncher(broken, client=docker_client)
    async with KernelPool(launcher, size=1, max_kernels=1) as pool:
        await wait_until(lambda: pool.stats()["refill_failures"] >= 1, timeout=30)
        stats = pool.stats()
        # (This image has no command, so Docker refuses the container; an image with one exits at boot.)
        assert stats["refilling"] is False and "kernel" in str(stats["last_error"])
        for _ in range(2):  # whether a refill is in flight (waits) or not (cold start)
            with pytest.raises(KernelStartError):
                await pool.acquire()


async def test_acquire_waiting_for_a_refill_times_out_with_a_sandbox_error(
    pool_config: SandboxConfig, docker_client
) -> None:
    cfg = pool_config.model_copy(update={"start_timeout_s": 1.0})
    launcher = DockerLauncher(cfg, client=docker_client)
    async with KernelPool(launcher, size=1, max_kernels=1) as pool:
        pool._starting += 1  # a refill that never arrives holds the only slot
        try:
            with pytest.raises(CapacityReached, match="none became ready"):
                await pool.acquire()
        finally:
            pool._starting -= 1


async def test_restarting_a_kernel_whose_container_was_removed_raises_kernel_dead(
    launcher: DockerLauncher, docker_client
) -> None:
    kernel = await Kernel.start(launcher)
    try:
        # Removed behind our back (another server's reaping, an operator's docker rm).
        docker_client.containers.get(kernel.handle.container_id).remove(force=True)
        with pytest.raises(KernelDead, match="no longer exists"):
            await kernel.restart()
        assert kernel.state == "dead"
    finally:
        await kernel.shutdown()
    with pytest.raises(KernelDead, match="cannot be restarted"):
        await kernel.restart()
