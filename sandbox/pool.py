"""A warm pool of ready kernels with a global cap on live kernels.

``acquire()`` hands out a kernel that has already answered ``kernel_info`` (no container
start on the session's path) and wakes the refill task. A ready kernel is checked just before
it is handed out (its container runs and it answers ``kernel_info`` again); a dead one is
discarded. Kernels are never reused across sessions: ``release()`` shuts one down. Live
kernels (ready + in use + starting) never exceed ``max_kernels``; past that, ``acquire()``
raises :class:`CapacityReached` at once. ``acquire()`` raises only :class:`SandboxError`
subclasses.

Refills that fail (image missing, Docker gone, a container that exits at boot) are retried
with a back-off, counted, and the last error is kept for ``stats()`` (the server's /healthz).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio

from sandbox.errors import CapacityReached, KernelStartError, SandboxError
from sandbox.kernel import Kernel
from sandbox.launcher import DockerLauncher
from sandbox.socketdir import prepare_kernel_root

log = logging.getLogger(__name__)

CullCallback = Callable[[Kernel], Awaitable[None]]
"""Called by the pool's cull task with a kernel it has just culled: already released, its
container removed (``kernel.removed`` is true, ``kernel.state`` is ``dead``). The owner of the
kernel (the server's session) must stop using it and ask :meth:`KernelPool.acquire` for a new
one; restarting it raises :class:`KernelDead`. An exception it raises is logged and ignored."""

_PROBE_TIMEOUT_S = 2.0


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
        # Assignable after construction: the server creates the pool before the sessions that
        # react to a cull. See CullCallback for the contract.
        self.on_cull: CullCallback | None = on_cull
        self._ready: asyncio.Queue[Kernel] = asyncio.Queue()
        self._leased: set[Kernel] = set()
        self._starting = 0
        self._wake = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self._tg: anyio.abc.TaskGroup | None = None
        self.last_error: str | None = None  # the last failed start (kept after a recovery)
        self.refill_failures = 0  # failed starts of the refill task, since the pool started
        self.consecutive_failures = 0  # failed starts since the last successful one
        self.discarded = 0  # ready kernels found dead when they were about to be handed out
        self.culled = 0
        self.reaped = 0

    # -- service lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> KernelPool:
        # Refuse an unsafe kernel directory before anything is written there (UnsafeSocketDir).
        assert self.launcher.config.kernel_dir is not None
        prepare_kernel_root(self.launcher.config.kernel_dir)
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

    def stats(self) -> dict[str, int | str | bool | None]:
        """Counts for /healthz. ``refilling`` is false while refills keep failing
        (``consecutive_failures`` > 0); ``last_error`` is the last failure's reason."""
        return {
            "ready": self._ready.qsize(),
            "in_use": len(self._leased),
            "starting": self._starting,
            "target": self.size,
            "max": self.max_kernels,
            "refilling": self.consecutive_failures == 0,
            "refill_failures": self.refill_failures,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "discarded": self.discarded,
            "culled": self.culled,
        }

    async def acquire(self) -> Kernel:
        """A live kernel for a session; cold-starts one only when none is ready or coming.

        Raises :class:`CapacityReached` (no room, or none came in time) or
        :class:`KernelStartError` (a kernel could not be started), never anything else.
        """
        while True:
            try:
                kernel = self._ready.get_nowait()
            except asyncio.QueueEmpty:
                break
            if await self._alive(kernel):
                return self._lease(kernel)
        if self._starting > 0 and self.live >= self.max_kernels:
            # A refill is on its way and there is no room for another: wait for it.
            return await self._wait_for_refill()
        if self.live >= self.max_kernels:
            raise CapacityReached(
                f"capacity reached: all {self.max_kernels} kernels are in use; "
                "end a session or raise CLARIFY_SANDBOX__MAX_KERNELS"
            )
        self._starting += 1
        try:
            kernel = await Kernel.start(self.launcher)
        except SandboxError as exc:
            self._note_failure(exc.reason, counted=False)
            raise
        except Exception as exc:
            reason = f"could not start a kernel: {type(exc).__name__}: {exc}"
            self._note_failure(reason, counted=False)
            raise KernelStartError(reason) from exc
        finally:
            self._starting -= 1
        return self._lease(kernel)

    async def _wait_for_refill(self) -> Kernel:
        timeout = self.launcher.config.start_timeout_s + 5
        deadline = anyio.current_time() + timeout
        while (remaining := deadline - anyio.current_time()) > 0:
            kernel: Kernel | None = None
            with anyio.move_on_after(remaining):
                kernel = await self._ready.get()
            if kernel is None:
                break
            if await self._alive(kernel):
                return self._lease(kernel)
        if self.consecutive_failures:
            raise KernelStartError(
                f"no kernel became ready within {timeout:.0f} s: starting kernels keeps failing ({self.last_error})"
            )
        raise CapacityReached(
            f"capacity reached: all {self.max_kernels} kernels are in use or starting and none became ready "
            f"within {timeout:.0f} s; try again shortly"
        )

    async def _alive(self, kernel: Kernel) -> bool:
        """Whether a ready kernel can be handed out: idle, container running, answering
        ``kernel_info``. A dead one is shut down (removed) and counted."""
        try:
            ok = kernel.state == "idle" and await kernel.check_alive()
            if ok:
                reply = await kernel.client.shell_request("kernel_info_request", {}, timeout=_PROBE_TIMEOUT_S)
                ok = reply is not None
                if not ok:
                    kernel.death_reason = f"the kernel did not answer within {_PROBE_TIMEOUT_S:.0f} s"
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, this kernel is not handed out
            kernel.death_reason = f"liveness check failed: {type(exc).__name__}: {exc}"
            ok = False
        if not ok:
            self.discarded += 1
            log.warning("warm pool: discarding dead ready kernel %s (%s)", kernel.id, kernel.death_reason)
            await self._shutdown_quietly(kernel)
            self._wake.set()
        return ok

    def _note_failure(self, reason: str, *, counted: bool = True) -> None:
        self.last_error = reason
        if counted:
            self.refill_failures += 1
            self.consecutive_failures += 1

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
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ready.qsize() + self._starting < self.size and self.live < self.max_kernels:
                self._starting += 1
                try:
                    kernel = await Kernel.start(self.launcher)
                except Exception as exc:  # noqa: BLE001 - a broken refill is reported, never fatal
                    failure = exc.reason if isinstance(exc, SandboxError) else f"{type(exc).__name__}: {exc}"
                else:
                    failure = None
                finally:
                    self._starting -= 1
                if failure is not None:
                    self._note_failure(failure)
                    log.warning(
                        "warm pool: kernel start failed (%d in a row): %s; retrying", self.consecutive_failures, failure
                    )
                    await anyio.sleep(min(30.0, 0.5 * 2 ** min(self.consecutive_failures, 6)))
                    continue
                self.consecutive_failures = 0
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
                kernel.death_reason = f"culled after {now - kernel.last_activity:.0f} s idle"
                await self.release(kernel)
                self.culled += 1
                if self.on_cull is not None:
                    try:
                        await self.on_cull(kernel)
                    except Exception:
                        log.exception("on_cull for kernel %s failed", kernel.id)
