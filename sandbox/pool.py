"""A warm pool of ready kernels with a global cap on live kernels.

``acquire()`` hands out a kernel that has already answered ``kernel_info`` (no container
start on the session's path) and wakes the refill task. Kernels are never reused across
sessions: ``release()`` shuts one down. Live kernels (ready + in use + starting) never exceed
``max_kernels``; past that, ``acquire()`` raises :class:`CapacityReached` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio

from sandbox.errors import CapacityReached, KernelStartError
from sandbox.kernel import Kernel
from sandbox.launcher import DockerLauncher

log = logging.getLogger(__name__)

CullCallback = Callable[[Kernel], Awaitable[None]]


class KernelPool:
    """Owns every kernel of one server; use as ``async with KernelPool(launcher) as pool``."""

    def __init__(
        self,
        launcher: DockerLauncher,
        *,
        size: int | None = None,
        max_kernels: int | None = None,
        cull_idle_s: float | None = None,
        on_cull: CullCallback | None = None,
    ) -> None:
        cfg = launcher.config
        self.launcher = launcher
        self.size = cfg.pool_size if size is None else size
        self.max_kernels = cfg.max_kernels if max_kernels is None else max_kernels
        self.cull_idle_s = cfg.cull_idle_s if cull_idle_s is None else cull_idle_s
        self.on_cull = on_cull
        self._ready: asyncio.Queue[Kernel] = asyncio.Queue()
        self._leased: set[Kernel] = set()
        self._starting = 0
        self._wake = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self._tg: anyio.abc.TaskGroup | None = None
        self.last_error: str | None = None
        self.reaped = 0

    # -- service lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> KernelPool:
        await self.launcher.check_image()
        self.reaped = await self.launcher.reap_orphans()
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._tg.start_soon(self._refill_loop)
        if self.cull_idle_s > 0:
            self._tg.start_soon(self._cull_loop)
        self._wake.set()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tg is not None:
                self._tg.cancel_scope.cancel()
            await self._stack.aclose()
        finally:
            with anyio.CancelScope(shield=True):
                kernels = list(self._leased)
                while not self._ready.empty():
                    kernels.append(self._ready.get_nowait())
                self._leased.clear()
                async with anyio.create_task_group() as tg:
                    for k in kernels:
                        tg.start_soon(self._shutdown_quietly, k)

    # -- public API ---------------------------------------------------------------------------

    @property
    def live(self) -> int:
        """Kernels that exist or are being started."""
        return self._ready.qsize() + len(self._leased) + self._starting

    def stats(self) -> dict[str, int | str | None]:
        """Counts for /healthz."""
        return {
            "ready": self._ready.qsize(),
            "in_use": len(self._leased),
            "starting": self._starting,
            "target": self.size,
            "max": self.max_kernels,
            "last_error": self.last_error,
        }

    async def acquire(self) -> Kernel:
        """A ready kernel for a session; cold-starts one only when none is ready or coming."""
        while True:
            try:
                kernel = self._ready.get_nowait()
            except asyncio.QueueEmpty:
                break
            if kernel.state == "idle":
                return self._lease(kernel)
            await self._shutdown_quietly(kernel)
        if self._starting > 0 and self.live >= self.max_kernels:
            # A refill is on its way and there is no room for another: wait for it.
            with anyio.fail_after(self.launcher.config.start_timeout_s + 5):
                return self._lease(await self._ready.get())
        if self.live >= self.max_kernels:
            raise CapacityReached(
                f"capacity reached: all {self.max_kernels} kernels are in use; "
                "end a session or raise CLARIFY_SANDBOX__MAX_KERNELS"
            )
        self._starting += 1
        try:
            kernel = await Kernel.start(self.launcher)
        finally:
            self._starting -= 1
        return self._lease(kernel)

    async def release(self, kernel: Kernel) -> None:
        """Shut a session's kernel down and make room for a fresh one."""
        self._leased.discard(kernel)
        await self._shutdown_quietly(kernel)
        self._wake.set()

    async def replace(self, kernel: Kernel) -> Kernel:
        """A fresh kernel in place of ``kernel`` (a clean restart in a new container)."""
        self._leased.discard(kernel)
        try:
            fresh = await self.acquire()
        finally:
            await self._shutdown_quietly(kernel)
            self._wake.set()
        return fresh

    # -- internals ----------------------------------------------------------------------------

    def _lease(self, kernel: Kernel) -> Kernel:
        kernel.last_activity = time.monotonic()
        self._leased.add(kernel)
        self._wake.set()
        return kernel

    async def _shutdown_quietly(self, kernel: Kernel) -> None:
        try:
            await kernel.shutdown()
        except Exception:
            log.exception("shutting down kernel %s failed", kernel.id)

    async def _refill_loop(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ready.qsize() + self._starting < self.size and self.live < self.max_kernels:
                self._starting += 1
                try:
                    kernel = await Kernel.start(self.launcher)
                except KernelStartError as exc:
                    self.last_error = exc.reason
                    failures += 1
                    log.warning("warm pool: kernel start failed (%s); retrying", exc.reason)
                    await anyio.sleep(min(30.0, 0.5 * 2**failures))
                    continue
                finally:
                    self._starting -= 1
                failures = 0
                self.last_error = None
                self._ready.put_nowait(kernel)

    async def _cull_loop(self) -> None:
        interval = max(0.5, min(30.0, self.cull_idle_s / 4))
        while True:
            await anyio.sleep(interval)
            now = time.monotonic()
            for kernel in list(self._leased):
                if kernel._run_lock.locked() or now - kernel.last_activity < self.cull_idle_s:
                    continue
                log.info("culling kernel %s after %.0f s idle", kernel.id, now - kernel.last_activity)
                await self.release(kernel)
                if self.on_cull is not None:
                    await self.on_cull(kernel)
