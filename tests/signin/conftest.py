"""Fixtures for the sign-in suite: a real OpenID provider and a `clarify serve` connected to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from sandbox import SandboxConfig
from tests.server.harness import RedisProcess, ServerProcess
from tests.signin.idp import IdentityProvider


class SignInServer:
    """A Clarify, its own Redis and the identity provider it trusts."""

    def __init__(self, server: ServerProcess, idp: IdentityProvider, redis: RedisProcess) -> None:
        self.server = server
        self.idp = idp
        self.redis = redis

    @property
    def base(self) -> str:
        return self.server.base


@pytest.fixture
def signin_factory(
    tmp_path: Path, kernel_image: str, kernel_dir: Path, sandbox_config: SandboxConfig
) -> Iterator[Callable[..., SignInServer]]:
    started: list[SignInServer] = []
    label = f"{sandbox_config.server_id}-signin"

    def make(**extra_env: str) -> SignInServer:
        redis = RedisProcess(tmp_path / f"redis{len(started)}")
        redis.start()
        server = ServerProcess(
            tmp_path / f"data{len(started)}",
            image=kernel_image,
            kernel_dir=kernel_dir,
            redis_url=redis.url,
            server_id=label,
        )
        idp = IdentityProvider(f"{server.base}/auth/callback")
        idp.start()
        server.env.update(idp.env(**extra_env))
        server.start()
        made = SignInServer(server, idp, redis)
        started.append(made)
        return made

    yield make
    for made in started:
        made.server.stop()
        made.idp.stop()
        made.redis.stop()
    client = docker.from_env()
    for c in client.containers.list(all=True, filters={"label": f"clarify.server={label}"}):
        c.remove(force=True)
    client.close()


@pytest.fixture
def signin(signin_factory: Callable[..., SignInServer]) -> SignInServer:
    return signin_factory()
