"""Kernel containers on one Docker endpoint: create, inspect, signal, stop, reap.

Every call into docker-py blocks, so each goes through ``anyio.to_thread.run_sync``. The
endpoint is a setting (local socket, TCP with TLS, a remote host), never assumed.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
import docker
from docker.errors import APIError, NotFound
from docker.types import Mount, Ulimit

from sandbox.config import SandboxConfig
from sandbox.errors import KernelDead, KernelStartError
from sandbox.image import image_exists, image_tag
from sandbox.socketdir import CONTAINER_CONN_DIR, CONTAINER_DATA_DIR, CONTAINER_SOCK_DIR, KernelDir

log = logging.getLogger(__name__)

LABEL_MANAGED = "clarify.managed"
LABEL_SERVER = "clarify.server"
LABEL_KERNEL = "clarify.kernel"


@dataclass(frozen=True)
class ContainerHandle:
    """One kernel container and its host directory."""

    kernel_id: str
    container_id: str
    kdir: KernelDir


@dataclass(frozen=True)
class ContainerState:
    """What Docker says about a container."""

    running: bool
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""

    def describe(self, memory_mb: int | None = None) -> str:
        """A sentence for the user about why the kernel stopped."""
        if self.running:
            return "running"
        if self.oom_killed or self.exit_code == 137:
            limit = f" ({memory_mb} MB limit)" if memory_mb else ""
            return f"the kernel ran out of memory{limit} and was killed"
        if self.exit_code is None:
            return "the kernel container is gone"
        if self.exit_code in (139, -11, 128 + 11):
            return "the kernel crashed (segmentation fault)"
        return f"the kernel process exited with code {self.exit_code}"


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


class DockerLauncher:
    """Starts and stops kernel containers with every containment setting applied."""

    def __init__(self, config: SandboxConfig, client: docker.DockerClient | None = None) -> None:
        if config.kernel_dir is None or not config.server_id:
            # The server derives both from its data directory (Settings.sandbox_config()).
            raise ValueError("SandboxConfig.kernel_dir and server_id must be set: use config.for_data_dir(data_dir)")
        self.config = config
        if client is None:
            client = docker.DockerClient(base_url=config.docker_url) if config.docker_url else docker.from_env()
        self.client = client
        self.image = config.image or image_tag()
        uid, _, gid = config.user.partition(":")
        self.uid, self.gid = int(uid), int(gid or uid)

    def close(self) -> None:
        self.client.close()

    async def ping(self) -> bool:
        """Whether the Docker endpoint answers."""
        try:
            return bool(await _run(self.client.ping))
        except Exception:  # noqa: BLE001 - any failure means "not reachable" for health
            return False

    async def check_image(self) -> None:
        """Raise :class:`KernelStartError` when the kernel image is missing."""
        if not await _run(image_exists, self.client, self.image):
            raise KernelStartError(f"kernel image {self.image} is missing; run `clarify sandbox build`")

    def _container_kwargs(self, kd: KernelDir, kernel_id: str) -> dict[str, Any]:
        cfg = self.config
        mib = 1024 * 1024
        kwargs: dict[str, Any] = {
            "image": self.image,
            "name": f"clarify-kernel-{kernel_id}",
            "hostname": "kernel",
            "labels": {LABEL_MANAGED: "1", LABEL_SERVER: cfg.server_id, LABEL_KERNEL: kernel_id},
            "detach": True,
            "user": cfg.user,
            # Nothing from the host's environment: only what the image sets.
            "environment": {},
            "mounts": [
                Mount(CONTAINER_SOCK_DIR, str(kd.sock), type="bind", read_only=False),
                Mount(CONTAINER_CONN_DIR, str(kd.conn), type="bind", read_only=True),
                Mount(CONTAINER_DATA_DIR, str(kd.data), type="bind", read_only=True),
            ],
            "tmpfs": {
                "/tmp": f"rw,nosuid,nodev,size={cfg.tmp_size_mb}m,mode=1777",
                "/home/candidate": f"rw,nosuid,nodev,size={cfg.home_size_mb}m,mode=0700,uid={self.uid},gid={self.gid}",
            },
            "read_only": cfg.read_only_root,
            "mem_limit": cfg.memory_mb * mib,
            "memswap_limit": cfg.memory_mb * mib,
            "nano_cpus": int(cfg.cpus * 1e9),
            "pids_limit": cfg.pids_limit,
            "ulimits": [
                Ulimit(name="nofile", soft=cfg.nofile, hard=cfg.nofile),
                Ulimit(name="fsize", soft=cfg.fsize_mb * mib, hard=cfg.fsize_mb * mib),
                Ulimit(name="core", soft=0, hard=0),
            ],
            "shm_size": f"{cfg.tmp_size_mb}m",
            "ipc_mode": "private",
            "stop_signal": "SIGTERM",
        }
        if cfg.network_none:
            kwargs["network_mode"] = "none"
        if cfg.drop_capabilities:
            kwargs["cap_drop"] = ["ALL"]
        if cfg.no_new_privileges:
            kwargs["security_opt"] = ["no-new-privileges:true"]
        return kwargs

    async def create(self) -> ContainerHandle:
        """Create the host directory and start a container; the kernel boots in the background."""
        kernel_id = secrets.token_hex(6)
        kd = KernelDir.create(self.config.kernel_dir, kernel_id, uid=self.uid, gid=self.gid, key=secrets.token_hex(32))
        try:
            container = await _run(self.client.containers.run, **self._container_kwargs(kd, kernel_id))
        except Exception as exc:
            kd.remove()
            raise KernelStartError(f"could not start a kernel container: {exc}") from exc
        return ContainerHandle(kernel_id=kernel_id, container_id=container.id, kdir=kd)

    async def state(self, handle: ContainerHandle) -> ContainerState:
        try:
            attrs = await _run(self.client.api.inspect_container, handle.container_id)
        except NotFound:
            return ContainerState(running=False)
        st = attrs["State"]
        return ContainerState(
            running=bool(st.get("Running")) and not st.get("Restarting"),
            exit_code=None if st.get("Running") else st.get("ExitCode"),
            oom_killed=bool(st.get("OOMKilled")),
            error=st.get("Error") or "",
        )

    async def logs(self, handle: ContainerHandle, tail: int = 20) -> str:
        try:
            out = await _run(self.client.api.logs, handle.container_id, tail=tail)
        except APIError:
            return ""
        return out.decode("utf-8", "replace")

    async def signal(self, handle: ContainerHandle, sig: str) -> None:
        """Send a signal to the container's init, which forwards it to the kernel."""
        try:
            await _run(self.client.api.kill, handle.container_id, signal=sig)
        except APIError as exc:
            log.debug("signal %s to %s failed: %s", sig, handle.kernel_id, exc)

    async def restart(self, handle: ContainerHandle) -> None:
        """Restart the container in place: a fresh process and fresh tmpfs, same mounts.

        Raises :class:`KernelDead` when the container no longer exists (removed by a cull, a
        reap or another server): a removed container is never recreated here.
        """
        try:
            await _run(self.client.api.stop, handle.container_id, timeout=int(max(1, self.config.stop_timeout_s)))
            handle.kdir.unlock()
            handle.kdir.clear_sockets()
            await _run(self.client.api.start, handle.container_id)
        except NotFound:
            raise KernelDead(
                f"kernel {handle.kernel_id}'s container no longer exists (it was removed); a new kernel is needed"
            ) from None
        except FileNotFoundError:
            raise KernelDead(
                f"kernel {handle.kernel_id}'s directory no longer exists (it was removed); a new kernel is needed"
            ) from None

    async def wait_exit(self, handle: ContainerHandle, timeout: float) -> bool:
        """Whether the container stopped within ``timeout`` seconds."""
        with anyio.move_on_after(timeout):
            while (await self.state(handle)).running:
                await anyio.sleep(0.05)
            return True
        return False

    async def remove(self, handle: ContainerHandle) -> None:
        """Stop (escalating to kill) and remove the container, then its host directory."""
        cid = handle.container_id
        try:
            if (await self.state(handle)).running:
                with anyio.move_on_after(self.config.stop_timeout_s + 1):
                    await _run(self.client.api.stop, cid, timeout=int(max(1, self.config.stop_timeout_s)))
                if (await self.state(handle)).running:
                    await _run(self.client.api.kill, cid)
            await _run(self.client.api.remove_container, cid, force=True, v=True)
        except NotFound:
            pass
        except APIError as exc:
            log.warning("removing kernel container %s failed: %s", handle.kernel_id, exc)
        finally:
            handle.kdir.remove()

    async def exec_in(
        self, handle: ContainerHandle, cmd: list[str], *, user: str, workdir: str = "/", timeout: float = 600.0
    ) -> tuple[int | None, bytes, bytes]:
        """Run ``cmd`` in the container as ``user``; ``(exit code, stdout, stderr)``.

        The process keeps the container's confinement (no capabilities, no new privileges). The
        command should bound its own run time; after ``timeout`` seconds the host stops waiting
        and returns exit code None with empty output (the caller discards the container).
        """

        def run() -> tuple[int | None, bytes, bytes]:
            created = self.client.api.exec_create(
                handle.container_id, cmd, user=user, workdir=workdir, stdout=True, stderr=True, stdin=False
            )
            out, err = self.client.api.exec_start(created["Id"], demux=True)
            code = self.client.api.exec_inspect(created["Id"]).get("ExitCode")
            return code, out or b"", err or b""

        with anyio.move_on_after(timeout):
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        return None, b"", b""

    async def reap_orphans(self) -> int:
        """Remove every container this server left behind (a crash, a kill -9); returns how many."""
        containers = await _run(
            self.client.containers.list,
            all=True,
            filters={"label": [f"{LABEL_MANAGED}=1", f"{LABEL_SERVER}={self.config.server_id}"]},
        )
        for c in containers:
            with contextlib.suppress(NotFound):
                await _run(c.remove, force=True, v=True)
            kernel_id = c.labels.get(LABEL_KERNEL, "")
            if kernel_id and all(ch in "0123456789abcdef" for ch in kernel_id):
                KernelDir(root=self.config.kernel_dir / kernel_id, uid=0, gid=0, key="").remove()
        if containers:
            log.info("reaped %d orphaned kernel containers", len(containers))
        return len(containers)
