"""Sandbox limits and locations. A leaf module: imports nothing from the package.

Every containment measure is a default that can be changed here; the server builds one
:class:`SandboxConfig` from its settings (``CLARIFY_SANDBOX_*`` variables).

Two settings belong to one server instance and are derived from its data directory when unset
(:meth:`SandboxConfig.for_data_dir`): the kernel directory (``<data_dir>/kernels``, never a
shared place like ``/tmp``) and the server id that labels its containers (so two servers on one
Docker host never reap each other's kernels).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux including the terminating NUL.
MAX_SOCKET_PATH = 107
# What follows the kernel dir in the longest socket path: "/<12 hex kernel id>/sock/k-N".
KERNEL_PATH_SUFFIX_BYTES = len("/0123456789ab/sock/k-1")


def _path_hash(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:12]


def derive_server_id(data_dir: Path) -> str:
    """``local-<hash>``: one label per data directory (its resolved absolute path)."""
    return f"local-{_path_hash(data_dir.resolve())}"


def derive_kernel_dir(data_dir: Path) -> tuple[Path, str | None]:
    """``<data_dir>/kernels``, or a short root-level path when that one would make ipc socket
    paths too long; the second value says why the fallback was taken (None when it was not)."""
    data_dir = data_dir.resolve()
    preferred = data_dir / "kernels"
    longest = len(str(preferred).encode()) + KERNEL_PATH_SUFFIX_BYTES
    if longest <= MAX_SOCKET_PATH:
        return preferred, None
    short = Path(f"/run/clarify-{_path_hash(data_dir)}")
    why = (
        f"{preferred} would make kernel socket paths {longest} bytes, over the {MAX_SOCKET_PATH}-byte "
        f"limit of a unix socket path; using {short} for this data directory instead "
        "(set CLARIFY_SANDBOX__KERNEL_DIR to choose)"
    )
    return short, why


class SandboxConfig(BaseModel):
    """Where kernels run and how tightly they are contained."""

    model_config = {"frozen": True}

    image: str = Field("", description="Kernel image tag; empty means the one `clarify sandbox build` made.")
    docker_url: str | None = Field(None, description="Docker endpoint URL; None reads DOCKER_HOST or the local socket.")
    kernel_dir: Path | None = Field(
        None,
        description="Host directory for per-kernel socket dirs (owned by the server, not group/other-writable); "
        "unset: <data_dir>/kernels.",
    )
    server_id: str | None = Field(
        None,
        description="Label value that marks this server's containers (orphan reaping); "
        "unset: local-<hash of the data directory>.",
    )

    network_none: bool = Field(True, description="Run kernels with no network at all.")
    read_only_root: bool = Field(True, description="Mount the container's root filesystem read-only.")
    user: str = Field("1000:1000", description="uid:gid the kernel runs as inside the container.")
    tmp_size_mb: int = Field(64, description="Size of the /tmp tmpfs.")
    home_size_mb: int = Field(64, description="Size of the home-directory tmpfs.")
    memory_mb: int = Field(1024, description="Memory limit; swap is disabled (memory-swap = memory).")
    cpus: float = Field(1.0, description="CPU limit in cores.")
    pids_limit: int = Field(128, description="Maximum processes and threads in one kernel container.")
    nofile: int = Field(256, description="Open-file limit (RLIMIT_NOFILE).")
    fsize_mb: int = Field(32, description="Largest file a kernel may write (RLIMIT_FSIZE).")
    drop_capabilities: bool = Field(True, description="Drop every Linux capability.")
    no_new_privileges: bool = Field(True, description="Set no-new-privileges.")

    run_timeout_s: float = Field(60.0, description="Execution time limit per run; then interrupt, then restart.")
    interrupt_grace_s: float = Field(5.0, description="How long an interrupted run may take to stop before a restart.")
    output_cap_bytes: int = Field(2 * 1024 * 1024, description="Output delivered per run; the rest is dropped.")
    output_rate_bytes_s: int = Field(1024 * 1024, description="Sustained output rate per run after a burst.")
    max_message_bytes: int = Field(8 * 1024 * 1024, description="Largest single kernel message the host accepts.")
    start_timeout_s: float = Field(30.0, description="Time for a new container's kernel to answer kernel_info.")
    stop_timeout_s: float = Field(2.0, description="Each step of shutdown: request, stop, kill.")

    pool_size: int = Field(2, description="Ready kernels kept warm.")
    max_kernels: int = Field(8, description="Global cap on live kernels (ready + in use + starting).")
    cull_idle_s: float = Field(3600.0, description="Shut down an in-use kernel idle this long (0 = never).")

    def for_data_dir(self, data_dir: Path) -> SandboxConfig:
        """This config with ``kernel_dir`` and ``server_id`` derived from ``data_dir`` where unset."""
        update: dict[str, object] = {}
        if self.kernel_dir is None:
            kernel_dir, why = derive_kernel_dir(data_dir)
            if why:
                log.warning("kernel directory: %s", why)
            update["kernel_dir"] = kernel_dir
        if not self.server_id:
            update["server_id"] = derive_server_id(data_dir)
        return self.model_copy(update=update) if update else self
