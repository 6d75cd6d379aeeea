"""Docker-sandboxed Jupyter kernels: image, container lifecycle, kernel client, warm pool.

The server uses three names from here: :class:`KernelPool` (ready kernels, a global cap),
:class:`Kernel` (execute, interrupt, restart, shut down, load a problem) and the typed output
events in :mod:`sandbox.types`. Nothing here imports ``server`` or ``problems``.
"""

from sandbox.config import SandboxConfig
from sandbox.errors import (
    CapacityReached,
    KernelDead,
    KernelStartError,
    SandboxError,
    UnsafeSocketDir,
)
from sandbox.kernel import Kernel
from sandbox.launcher import DockerLauncher
from sandbox.pool import KernelPool
from sandbox.types import (
    ClearOutput,
    DisplayData,
    ErrorOutput,
    ExecuteResult,
    ExecutionResult,
    KernelStatus,
    OutputEvent,
    OutputTruncated,
    RunStatus,
    Stream,
)

__all__ = [
    "CapacityReached",
    "ClearOutput",
    "DisplayData",
    "DockerLauncher",
    "ErrorOutput",
    "ExecuteResult",
    "ExecutionResult",
    "Kernel",
    "KernelDead",
    "KernelPool",
    "KernelStartError",
    "KernelStatus",
    "OutputEvent",
    "OutputTruncated",
    "RunStatus",
    "SandboxConfig",
    "SandboxError",
    "Stream",
    "UnsafeSocketDir",
]
