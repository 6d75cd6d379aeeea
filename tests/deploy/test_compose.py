"""The compose stack (Redis, the server in its own container, the kernel image) brought up
for real: create a session, run code through the events websocket, get its output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import docker
import httpx
from websockets.sync.client import connect

from problems import PACKS_DIR
from tests.server.harness import ADMIN, ROOT, free_port


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    exe = shutil.which("docker-compose")
    assert exe, "neither `docker compose` nor `docker-compose` is installed (make setup installs it)"
    return [exe]


def test_compose_stack_creates_a_session_and_runs_code(docker_client: docker.DockerClient) -> None:
    project = f"clarifyci{os.getpid()}"
    port = free_port()
    kernel_dir = Path(f"/tmp/ckc-{os.getpid()}")
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": project,
        "CLARIFY_ADMIN_TOKEN": ADMIN,
        "CLARIFY_PORT": str(port),
        "CLARIFY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CLARIFY_KERNEL_DIR": str(kernel_dir),
    }
    compose = compose_command()
    subprocess.run(["bash", "scripts/prepare-build-ca.sh"], cwd=ROOT, check=True)
    up = subprocess.run([*compose, "up", "-d", "--build"], cwd=ROOT, env=env, capture_output=True, timeout=1800)
    try:
        assert up.returncode == 0, up.stderr.decode()[-3000:]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        health: dict = {}
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2).json()
                if health.get("status") == "ok" and health["pool"]["ready"] >= 1:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert health.get("status") == "ok", health
        # The installed server carries every shipped problem pack (and the levels file it loads).
        listed = httpx.get(f"{base}/api/problems", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        assert listed.status_code == 200, listed.text
        shipped = {p.name for p in PACKS_DIR.iterdir() if (p / "problem.toml").is_file()}
        assert {p["id"] for p in listed.json()} == shipped
        r = httpx.post(
            f"{base}/api/sessions",
            json={"candidate": "Compose"},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        session = r.json()
        assert session["links"]["events_ws"].startswith(f"ws://127.0.0.1:{port}/")
        url = f"ws://127.0.0.1:{port}/ws/events/{session['id']}?token={session['tokens']['candidate']}"
        with connect(url) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "hello"
            ws.send(json.dumps({"type": "run", "code": "import sys\nprint('from compose', sys.version_info[0])"}))
            outputs = []
            while True:
                msg = json.loads(ws.recv(timeout=60))
                if msg["type"] == "run.output":
                    outputs.append(msg["output"])
                if msg["type"] == "run.done":
                    break
        assert msg["result"]["status"] == "ok"
        assert any(o.get("text") == "from compose 3\n" for o in outputs)
        # The kernel runs beside the server, contained, and labelled with this stack.
        kernels = docker_client.containers.list(filters={"label": f"clarify.server={project}"})
        assert kernels
        host_config = kernels[0].attrs["HostConfig"]
        assert host_config["NetworkMode"] == "none" and host_config["ReadonlyRootfs"] is True
    finally:
        subprocess.run(
            [*compose, "down", "-v", "--remove-orphans"], cwd=ROOT, env=env, capture_output=True, timeout=300
        )
        for c in docker_client.containers.list(all=True, filters={"label": f"clarify.server={project}"}):
            c.remove(force=True)
        shutil.rmtree(kernel_dir, ignore_errors=True)
