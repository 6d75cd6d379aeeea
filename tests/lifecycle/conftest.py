"""Fixtures for the lifecycle suite: a Redis the test owns and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.lifecycle.receiver import Receiver
from tests.server.harness import RedisProcess


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path / "redis")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def redis_client(redis_process: RedisProcess) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_process.url)
    yield client
    await client.aclose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()
