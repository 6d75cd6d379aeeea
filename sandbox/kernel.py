"""One sandboxed kernel: start, execute, interrupt, restart, shut down, load a problem.

A :class:`Kernel` pairs a container (:mod:`sandbox.launcher`) with the host's ZMQ client
(:mod:`sandbox.client`). The server drives it; runs are serialised by the caller's queue and
guarded here by a lock, so at most one :class:`Execution` reads the kernel's channels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import zmq
import zmq.asyncio

from sandbox.client import KernelClient
from sandbox.errors import KernelBusy, KernelDead, KernelProtocolError, KernelStartError, SandboxError
from sandbox.messages import check_execute_reply, parent_id
from sandbox.output import OutputLimiter, to_event
from sandbox.types import ExecutionResult, KernelState, KernelStatus, OutputEvent, OutputTruncated, RunStatus

if TYPE_CHECKING:
    from sandbox.launcher import ContainerHandle, DockerLauncher
    from sandbox.messages import ExecuteReply

log = logging.getLogger(__name__)

_LIVENESS_EVERY_S = 1.0
_IDLE_GRACE_S = 1.0


class Kernel:
    """A Jupyter kernel in its own locked-down container."""

    def __init__(self, launcher: DockerLauncher, handle: ContainerHandle) -> None:
        self.launcher = launcher
        self.handle = handle
        self.config = launcher.config
        self.client = KernelClient(
            handle.kdir.connection_info(for_container=False),
            max_message_bytes=self.config.max_message_bytes,
            name=handle.kernel_id,
        )
        self.state: KernelState = "starting"
        self.info: dict[str, Any] = {}
        self.death_reason: str | None = None
        self.restart_count = 0
        self.last_activity = time.monotonic()
        self.removed = False  # the container is gone for good (shut down, culled): never restart it
        self._run_lock = asyncio.Lock()
        self._setup_code: str | None = None
        self._current: Execution | None = None

    @property
    def id(self) -> str:
        return self.handle.kernel_id

    def __repr__(self) -> str:
        return f"<Kernel {self.id} {self.state}>"

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    async def start(cls, launcher: DockerLauncher) -> Kernel:
        """Start a container and return once its kernel has answered ``kernel_info``."""
        handle = await launcher.create()
        kernel = cls(launcher, handle)
        try:
            await kernel._boot()
        except BaseException:
            kernel.client.close()
            await asyncio.shield(launcher.remove(handle))
            raise
        return kernel

    async def _boot(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.start_timeout_s
        kd = self.handle.kdir
        next_check = loop.time() + 0.5
        while not kd.sockets_present():
            now = loop.time()
            if now >= next_check:
                next_check = now + 0.5
                st = await self.launcher.state(self.handle)
                if not st.running:
                    logs = (await self.launcher.logs(self.handle)).strip()
                    raise KernelStartError(f"kernel container exited during start-up ({st.describe()}): {logs[-500:]}")
            if now >= deadline:
                raise KernelStartError(f"kernel did not bind its sockets within {self.config.start_timeout_s:.0f} s")
            await asyncio.sleep(0.005)
        kd.lock()
        kd.verify()
        self.client.connect()
        await self._wait_for_ready(deadline)
        self.state = "idle"
        self.death_reason = None
        self.last_activity = time.monotonic()

    async def _wait_for_ready(self, deadline: float) -> None:
        # kernel_info on shell proves the kernel runs; a message on iopub proves our
        # subscription is live (a SUB socket misses whatever is published before it joins,
        # at start and after zmq dropped the connection for an oversized message).
        loop = asyncio.get_running_loop()
        client = self.client
        assert client.shell is not None and client.iopub is not None
        got_reply = False
        while loop.time() < deadline:
            if not got_reply:
                reply = await client.shell_request("kernel_info_request", {}, timeout=deadline - loop.time())
                if reply is None:
                    break
                self.info = reply["content"]
                got_reply = True
            if await client.recv(client.iopub, timeout=0.1) is not None:
                while await client.recv(client.iopub, timeout=0.01) is not None:
                    pass
                return
            got_reply = False
        raise KernelStartError(f"kernel did not answer kernel_info within {self.config.start_timeout_s:.0f} s")

    async def check_alive(self) -> bool:
        """Ask Docker whether the kernel still runs; a dead kernel records why."""
        if self.state == "dead":
            return False
        st = await self.launcher.state(self.handle)
        if not st.running:
            self.state = "dead"
            self.death_reason = st.describe(self.config.memory_mb)
            log.info("kernel %s died: %s", self.id, self.death_reason)
        return st.running

    async def interrupt(self) -> None:
        """Interrupt the running code (a control message, falling back to SIGINT).

        A kernel ignores SIGINT between runs, so an interrupt that arrives before the current
        run has started executing is held and delivered the moment it starts.
        """
        if self.state == "dead" or self.client.control is None:
            return
        current = self._current
        if current is not None and not current.executing:
            current.interrupt_pending = True
            return
        reply = await self.client.control_request("interrupt_request", {}, timeout=1.0)
        if reply is None or reply["content"].get("status") != "ok":
            await self.launcher.signal(self.handle, "SIGINT")

    async def restart(self, *, within: Execution | None = None) -> None:
        """Restart in the same container: state cleared, problem data and setup restored.

        ``within`` is the run that restarts its own kernel (a time limit): it holds the run lock,
        so the setup code runs inside it rather than waiting for the lock it holds.

        A kernel whose container was removed (shut down, culled, reaped) cannot be restarted:
        that raises :class:`KernelDead`; ask the pool for a new kernel instead.
        """
        if self.removed:
            self.state = "dead"
            raise KernelDead(
                f"kernel {self.id} was shut down and its container removed ({self.death_reason or 'shut down'}); "
                "it cannot be restarted, a new kernel is needed"
            )
        self.state = "restarting"
        self.client.close()
        try:
            await self.launcher.restart(self.handle)
            await self._boot()
        except SandboxError:
            self.state = "dead"
            raise
        except Exception as exc:
            self.state = "dead"
            raise KernelStartError(f"restart failed: {exc}") from exc
        self.restart_count += 1
        if self._setup_code:
            await self._run_setup(self._setup_code, within=within)

    async def shutdown(self) -> None:
        """Shut down, escalating: shutdown request, then container stop, then kill; remove all."""
        if self.state != "dead" and self.client.control is not None:
            reply = await self.client.control_request(
                "shutdown_request", {"restart": False}, timeout=self.config.stop_timeout_s
            )
            if reply is not None:
                await self.launcher.wait_exit(self.handle, self.config.stop_timeout_s)
        self.state = "dead"
        self.death_reason = self.death_reason or "shut down"
        self.client.close()
        self.removed = True
        await self.launcher.remove(self.handle)

    # -- problems -----------------------------------------------------------------------

    async def load_problem(self, data_dir: Path | None = None, setup_code: str | None = None) -> ExecutionResult | None:
        """Copy a problem's data to ``/data`` (read-only) and run its setup code.

        The setup code runs silently and out of the input history, and again after every
        restart. Returns the setup run's result (None when there is no setup code).
        """
        if data_dir is not None:
            self.handle.kdir.install_data(data_dir)
        self._setup_code = setup_code or None
        if not self._setup_code:
            return None
        return await self._run_setup(self._setup_code)

    async def _run_setup(self, code: str, *, within: Execution | None = None) -> ExecutionResult:
        if within is None:
            _, result = await self.run(code, silent=True, store_history=False)
        else:
            run = self.execute(code, silent=True, store_history=False)
            run.inside = within
            async with run:
                _ = [event async for event in run]
            assert run.result is not None
            result = run.result
        if result.status != "ok":
            log.warning("setup code on kernel %s ended with %s: %s", self.id, result.status, result.reason)
        return result

    # -- execution ----------------------------------------------------------------------

    def execute(
        self, code: str, *, timeout: float | None = None, silent: bool = False, store_history: bool = True
    ) -> Execution:
        """Run ``code``: ``async with kernel.execute(code) as run: async for event in run``.

        ``run.result`` holds the :class:`ExecutionResult` once the events are exhausted.
        ``timeout`` defaults to the configured run time limit.
        """
        return Execution(
            self,
            code,
            timeout=self.config.run_timeout_s if timeout is None else timeout,
            silent=silent,
            store_history=store_history,
        )

    async def run(self, code: str, **kwargs: Any) -> tuple[list[OutputEvent], ExecutionResult]:
        """Run ``code`` to the end; returns every delivered event and the result."""
        async with self.execute(code, **kwargs) as run:
            events = [event async for event in run]
        assert run.result is not None
        return events, run.result


class Execution:
    """One run of code on a kernel: an async iterator of events, then ``result``."""

    def __init__(self, kernel: Kernel, code: str, *, timeout: float, silent: bool, store_history: bool) -> None:
        self.kernel = kernel
        self.code = code
        self.timeout = timeout
        self.silent = silent
        self.store_history = store_history
        self.result: ExecutionResult | None = None
        self.executing = False  # the kernel has begun this code (status busy seen)
        self.interrupt_pending = False
        self._started = 0.0
        self._msg_id = ""
        self._events = self._run()
        self.inside: Execution | None = None  # the run holding the lock this one runs within

    async def __aenter__(self) -> Execution:
        if self.inside is not None:
            self._send()
            return self
        if self.kernel._run_lock.locked():
            raise KernelBusy("a run is already in progress on this kernel")
        await self.kernel._run_lock.acquire()
        try:
            self._send()
        except BaseException:
            self.kernel._run_lock.release()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._events.aclose()
            if self.result is None and self.kernel.state == "busy":
                # The caller stopped listening: stop the code too rather than leave it running.
                await self.kernel.interrupt()
                self.kernel.state = "idle"
        finally:
            self.kernel._current = self.inside
            if self.inside is None:
                self.kernel._run_lock.release()

    def __aiter__(self) -> Execution:
        return self

    async def __anext__(self) -> OutputEvent:
        """The next event. Whatever the kernel does, this raises only :class:`SandboxError`
        subclasses (and ``StopAsyncIteration`` at the end): an unexpected failure becomes
        :class:`KernelProtocolError` (or :class:`KernelDead` when the connection is gone)."""
        if not self.kernel._run_lock.locked():
            raise RuntimeError("use `async with kernel.execute(code) as run:` before iterating")
        try:
            return await self._events.__anext__()
        except (StopAsyncIteration, SandboxError):
            raise
        except zmq.ZMQError as exc:
            log.info("kernel %s: connection lost during a run: %s", self.kernel.id, exc)
            raise KernelDead(f"the connection to the kernel was lost: {exc}") from exc
        except Exception as exc:
            log.exception("kernel %s: unexpected failure during a run", self.kernel.id)
            raise KernelProtocolError(f"the run failed unexpectedly: {type(exc).__name__}: {exc}") from exc

    def _finish(
        self,
        status: RunStatus,
        started: float,
        *,
        execution_count: int | None = None,
        reason: str | None = None,
        restarted: bool = False,
        dropped: int = 0,
    ) -> None:
        self.result = ExecutionResult(
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            execution_count=execution_count,
            reason=reason,
            restarted=restarted,
            dropped_bytes=dropped,
        )

    def _send(self) -> None:
        # Sent on entering the block, so an interrupt issued before the first event is read
        # still reaches this run.
        kernel = self.kernel
        client = kernel.client
        if kernel.state == "dead" or client.shell is None or client.iopub is None:
            raise KernelDead(kernel.death_reason or "the kernel is not running; restart it")
        self._started = time.monotonic()
        kernel.last_activity = self._started
        kernel.state = "busy"
        kernel._current = self
        self._msg_id = client.send(
            client.shell,
            "execute_request",
            {
                "code": self.code,
                "silent": self.silent,
                "store_history": self.store_history,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )

    async def _run(self):
        kernel, cfg = self.kernel, self.kernel.config
        client = kernel.client
        started, msg_id = self._started, self._msg_id
        limiter = OutputLimiter(cfg.output_cap_bytes, cfg.output_rate_bytes_s)
        poller = zmq.asyncio.Poller()
        poller.register(client.shell, zmq.POLLIN)
        poller.register(client.iopub, zmq.POLLIN)
        deadline = started + self.timeout if self.timeout > 0 else None
        timed_out = False
        reply: ExecuteReply | None = None
        bad_reply = False  # a reply to this run was dropped as malformed
        idle = False
        last_message = last_check = last_iopub = started
        try:
            while reply is None or not idle:
                wait = _LIVENESS_EVERY_S
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                ready = dict(await poller.poll(timeout=int(wait * 1000) + 1))
                now = time.monotonic()
                if client.iopub in ready:
                    last_message = last_iopub = now
                    try:
                        msg = client.decode(await client.iopub.recv_multipart())
                        event = to_event(msg) if parent_id(msg) == msg_id else None
                    except KernelProtocolError as exc:
                        # Dropped, with one notice per run; the run goes on.
                        client.note_malformed(exc.reason)
                        for out in limiter.malformed():
                            yield out
                    else:
                        if isinstance(event, KernelStatus) and event.state == "busy" and not self.executing:
                            self.executing = True
                            if self.interrupt_pending:
                                self.interrupt_pending = False
                                await kernel.interrupt()
                        elif isinstance(event, KernelStatus) and event.state == "idle":
                            idle = True
                        elif event is not None and not isinstance(event, KernelStatus):
                            for out in limiter.admit(event):
                                yield out
                if client.shell in ready:
                    last_message = now
                    shell_msg = client._decode(await client.shell.recv_multipart())
                    if shell_msg is not None and parent_id(shell_msg) == msg_id:
                        try:
                            reply = check_execute_reply(shell_msg)
                        except KernelProtocolError as exc:
                            bad_reply = True
                            client.note_malformed(exc.reason)
                            for out in limiter.malformed():
                                yield out
                    elif shell_msg is None:
                        for out in limiter.malformed():
                            yield out
                if reply is None and bad_reply and idle and now - last_iopub >= _IDLE_GRACE_S:
                    # The kernel went idle and the only reply it sent for this run was
                    # malformed: the run is over, how it ended is unknown.
                    self._finish(
                        "error",
                        started,
                        reason="the kernel's reply to this run was malformed and was dropped",
                        dropped=limiter.dropped,
                    )
                    return
                if reply is not None and not idle and now - last_iopub >= _IDLE_GRACE_S:
                    # The run is over (the reply says so) but iopub went quiet without "idle":
                    # a message over max_message_bytes made zmq drop the connection, taking
                    # the rest of this run's output with it.
                    yield OutputTruncated(
                        reason=f"output truncated: a single output larger than {cfg.max_message_bytes // 2**20} MiB "
                        "was dropped"
                    )
                    limiter.lost_messages += 1
                    limiter.dropped += cfg.max_message_bytes  # a lower bound: the message was larger
                    break
                if now - last_message >= _LIVENESS_EVERY_S and now - last_check >= _LIVENESS_EVERY_S:
                    last_check = now
                    if not await kernel.check_alive():
                        yield KernelStatus(state="dead")
                        self._finish("killed", started, reason=kernel.death_reason, dropped=limiter.dropped)
                        return
                if deadline is not None and now >= deadline and (reply is None or not idle):
                    if not timed_out:
                        timed_out = True
                        log.info("kernel %s: run exceeded %.0f s, interrupting", kernel.id, self.timeout)
                        await kernel.interrupt()
                        deadline = now + cfg.interrupt_grace_s
                    else:
                        yield KernelStatus(state="restarting")
                        reason = (
                            f"the run exceeded the {self.timeout:.0f} s time limit and did not stop when "
                            "interrupted; the kernel was restarted and its state is gone"
                        )
                        await kernel.restart(within=self)
                        yield KernelStatus(state="idle")
                        self._finish("timed_out", started, reason=reason, restarted=True, dropped=limiter.dropped)
                        return
        finally:
            kernel.last_activity = time.monotonic()
            if kernel.state == "busy":
                kernel.state = "idle"
        assert reply is not None
        if reply.status == "ok":
            status: RunStatus = "ok"
            reason = None
        elif reply.ename == "KeyboardInterrupt":
            status = "timed_out" if timed_out else "interrupted"
            reason = f"the run exceeded the {self.timeout:.0f} s time limit and was interrupted" if timed_out else None
        else:
            status = "error"
            reason = f"{reply.ename or 'Error'}: {reply.evalue[:1024]}".strip()
        if limiter.dropped:
            reason = (reason + "; " if reason else "") + f"{limiter.dropped} bytes of output dropped"
        if limiter.lost_messages:
            reason = (reason + "; " if reason else "") + "an output larger than the message limit was dropped"
            # zmq dropped iopub; subscribe afresh and wait until it delivers again so the next
            # run's output is not lost too.
            kernel.client.reconnect_iopub()
            try:
                await kernel._wait_for_ready(asyncio.get_running_loop().time() + cfg.start_timeout_s)
            except KernelStartError:
                log.warning("kernel %s: iopub did not come back after an oversized message", kernel.id)
        self._finish(status, started, execution_count=reply.execution_count, reason=reason, dropped=limiter.dropped)
