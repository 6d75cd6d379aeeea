"""Sandbox errors. A leaf module: imports nothing from the package.

Each error carries a short machine-readable ``code`` so the server can turn it into a
response or an ``error`` message in one place without parsing text.
"""

from __future__ import annotations


class SandboxError(RuntimeError):
    """Base class for every error the sandbox raises on purpose."""

    code = "sandbox_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CapacityReached(SandboxError):
    """The global cap on live kernels is reached; try again when a session ends."""

    code = "capacity_reached"


class KernelStartError(SandboxError):
    """A kernel container did not start or its kernel never answered ``kernel_info``."""

    code = "kernel_start_failed"


class KernelDead(SandboxError):
    """The kernel process (or its container) is gone; restart it before running code."""

    code = "kernel_dead"


class KernelProtocolError(SandboxError):
    """The kernel sent something that is not a well-formed Jupyter message, or talking to it
    failed in a way nobody planned for. A malformed message is dropped with a notice; this is
    raised only where there is nothing left to drop (the run cannot go on)."""

    code = "kernel_protocol_error"


class KernelBusy(SandboxError):
    """A run is already in progress on this kernel (the server queues runs, one at a time)."""

    code = "kernel_busy"


class UnsafeSocketDir(SandboxError):
    """The shared socket directory holds something the host must not touch (a symlink, a
    regular file or device where a socket should be, or a wrong owner)."""

    code = "unsafe_socket_dir"


class ImageBuildError(SandboxError):
    """``docker build`` of the kernel image failed."""

    code = "image_build_failed"
