"""Shared fixtures. Tests use the real Docker engine and the real kernel image (CI builds both
with ``make setup``); nothing of ours is mocked."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import docker
import pytest

from sandbox import DockerLauncher, Kernel, SandboxConfig
from sandbox.image import image_exists, image_tag


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    client = docker.from_env()
    client.ping()
    return client


@pytest.fixture(scope="session")
def kernel_image(docker_client: docker.DockerClient) -> str:
    tag = os.environ.get("CLARIFY_SANDBOX__IMAGE") or image_tag()
    assert image_exists(docker_client, tag), f"kernel image {tag} is missing: run `make setup` (clarify sandbox build)"
    return tag


@pytest.fixture(scope="session")
def kernel_dir() -> Path:
    # Short path: ipc socket paths must fit in 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="ck-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_config(kernel_image: str, kernel_dir: Path) -> SandboxConfig:
    return SandboxConfig(image=kernel_image, kernel_dir=kernel_dir, server_id=f"test-{os.getpid()}")


@pytest.fixture(scope="session")
def launcher(sandbox_config: SandboxConfig, docker_client: docker.DockerClient) -> DockerLauncher:
    launcher = DockerLauncher(sandbox_config, client=docker_client)
    yield launcher
    # Whatever a failed test left behind.
    for c in docker_client.containers.list(all=True, filters={"label": f"clarify.server={sandbox_config.server_id}"}):
        c.remove(force=True)


KernelFactory = Callable[..., Awaitable[Kernel]]


@pytest.fixture
async def make_kernel(launcher: DockerLauncher, sandbox_config: SandboxConfig) -> AsyncIterator[KernelFactory]:
    """Start kernels (optionally with config overrides); all are shut down after the test."""
    started: list[Kernel] = []

    async def make(**overrides: object) -> Kernel:
        target = launcher
        if overrides:
            target = DockerLauncher(sandbox_config.model_copy(update=overrides), client=launcher.client)
        kernel = await Kernel.start(target)
        started.append(kernel)
        return kernel

    yield make
    for kernel in started:
        await kernel.shutdown()


@pytest.fixture
async def kernel(make_kernel: KernelFactory) -> Kernel:
    return await make_kernel()


@pytest.fixture
def server_factory(tmp_path: Path, kernel_image: str, kernel_dir: Path, sandbox_config: SandboxConfig):
    """Start real `clarify serve` processes; all are stopped after the test."""
    from tests.server.harness import ServerProcess

    started: list[ServerProcess] = []

    def make(redis_url: str | None = None, **extra_env: str) -> ServerProcess:
        server = ServerProcess(
            tmp_path / "data",
            image=kernel_image,
            kernel_dir=kernel_dir,
            redis_url=redis_url,
            server_id=f"{sandbox_config.server_id}-srv",
            extra_env=extra_env,
        )
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
    # Kernels a killed server could not shut down (the next start reaps them; this is the last).
    client = docker.from_env()
    for c in client.containers.list(all=True, filters={"label": f"clarify.server={sandbox_config.server_id}-srv"}):
        c.remove(force=True)
    client.close()
