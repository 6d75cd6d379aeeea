"""Fixtures for the hostile suite: real `clarify serve` processes shared by a module's tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from sandbox import SandboxConfig
from tests.server.harness import ServerProcess

ModuleServerFactory = Callable[..., ServerProcess]


@pytest.fixture(scope="module")
def module_server_factory(
    tmp_path_factory: pytest.TempPathFactory, kernel_image: str, kernel_dir: Path, sandbox_config: SandboxConfig
) -> Iterator[ModuleServerFactory]:
    """Start real servers that live as long as the test module (several sessions share one).

    Each server gets its own data directory and its own container label, so one server's
    start-up reaping never removes another's kernels.
    """
    started: list[ServerProcess] = []
    counter = itertools.count()
    prefix = f"{sandbox_config.server_id}-h"

    def make(redis_url: str | None = None, *, start: bool = True, **extra_env: str) -> ServerProcess:
        n = next(counter)
        server = ServerProcess(
            tmp_path_factory.mktemp(f"srv{n}") / "data",
            image=kernel_image,
            kernel_dir=kernel_dir,
            redis_url=redis_url,
            server_id=f"{prefix}{n}",
            extra_env=extra_env,
        )
        if start:
            server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
    client = docker.from_env()
    for n in range(next(counter)):
        for c in client.containers.list(all=True, filters={"label": f"clarify.server={prefix}{n}"}):
            c.remove(force=True)
    client.close()
