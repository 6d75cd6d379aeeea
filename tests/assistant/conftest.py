"""Fixtures for the assistant suite: a real `clarify assistant-sim` process and real servers
configured to talk to it (nothing of ours is mocked)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.hostile.conftest import module_server_factory  # noqa: F401 - the fixture, shared
from tests.server.harness import ROOT, free_port


class SimProcess:
    """`clarify assistant-sim` on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "assistant-sim", "--port", str(self.port), "--delay-ms", "2"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/v1/models", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("assistant-sim did not start")

    def requests(self) -> list[dict]:
        return httpx.get(f"{self.base}/_requests", timeout=10).json()["requests"]

    def clear(self) -> None:
        httpx.delete(f"{self.base}/_requests", timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    process = SimProcess()
    process.start()
    yield process
    process.stop()


def assistant_env(sim: SimProcess, **overrides: str) -> dict[str, str]:
    """Server environment pointing the assistant at the simulator."""
    return {
        "CLARIFY_ASSISTANT__BASE_URL": f"{sim.base}/v1",
        "CLARIFY_ASSISTANT__API_KEY": "sim-key-not-secret",
        "CLARIFY_ASSISTANT__MODELS": "sim-1,sim-429,sim-timeout,sim-fail-midstream,sim-error",
        "CLARIFY_ASSISTANT__TIMEOUT_S": "2",
        **overrides,
    }
