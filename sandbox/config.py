"""Sandbox limits and locations. A leaf module: imports nothing from the package.

Every containment measure is a default that can be changed here; the server builds one
:class:`SandboxConfig` from its settings (``CLARIFY_SANDBOX_*`` variables).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class SandboxConfig(BaseModel):
    """Where kernels run and how tightly they are contained."""

    model_config = {"frozen": True}

    image: str = Field("", description="Kernel image tag; empty means the one `clarify sandbox build` made.")
    docker_url: str | None = Field(None, description="Docker endpoint URL; None reads DOCKER_HOST or the local socket.")
    kernel_dir: Path = Field(Path("/tmp/clarify-kernels"), description="Host directory for per-kernel socket dirs.")
    server_id: str = Field("local", description="Label value that marks this server's containers (orphan reaping).")

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
