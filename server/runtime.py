"""A live session's runtime: its shared document, its kernel, its run queue, its connections.

One :class:`SessionRuntime` per live session on this instance, created on first use from what
Redis holds (the document is rebuilt from the recording, so a restarted server serves the same
CRDT items). Truth lives in the recording; this object is a cache plus the kernel handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio

from problems import Problem
from sandbox import CapacityReached, Kernel, KernelPool, SandboxError
from server.audience import ALL, STAFF_ROLES, Audience, visible_to
from server.clarify.session import ClarifySession
from server.collab import Peer, Room
from server.document import checkpoint_event, rebuild_doc
from server.errors import SessionEnded
from server.recording import Event, Recorder
from server.sessions import SessionInfo, SessionStore, now_ms

log = logging.getLogger(__name__)

RUN_ROLES = frozenset({"interviewer", "candidate"})
CHECKPOINT_EVERY = 200
MAX_HISTORY_RUNS = 200


@dataclass(eq=False)
class EventPeer:
    """One events-socket connection: a bounded queue of JSON messages."""

    role: str
    actor: str
    queue_size: int = 1024
    queue: asyncio.Queue[dict[str, Any] | None] = field(init=False)
    dropped: bool = False
    cancel_scope: anyio.CancelScope | None = None  # the connection's, cancelled on drop

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def send(self, message: dict[str, Any]) -> bool:
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A reader this far behind is disconnected now, not when it next reads: its
            # connection's task group is cancelled and the endpoint closes with 1013.
            self.dropped = True
            if self.cancel_scope is not None:
                self.cancel_scope.cancel()
            return False
        return True


@dataclass
class Run:
    """One queued or finished run and what it printed (as sent to clients)."""

    id: int
    by_role: str
    by_actor: str
    code: str
    state: str = "queued"
    outputs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "by": {"role": self.by_role, "actor": self.by_actor},
            "code": self.code,
            "state": self.state,
            "outputs": self.outputs,
            "result": self.result,
        }


class SessionRuntime:
    """Everything live about one session."""

    def __init__(
        self,
        info: SessionInfo,
        recorder: Recorder,
        pool: KernelPool,
        room: Room,
        runs: list[Run],
        problem: Problem | None = None,
        events: list[Event] | None = None,
    ) -> None:
        self.info = info
        self.problem = problem
        self.event_count = len(events or [])
        self.clarify: ClarifySession | None = None
        if problem is not None:
            self.clarify = ClarifySession(problem, self.record, self.broadcast, self.t)
            self.clarify.replay(events or [])
        self.recorder = recorder
        self.pool = pool
        self.room = room
        self.room.on_update = self._record_update
        self.runs = runs
        self.kernel: Kernel | None = None
        self.kernel_state = "starting"
        self.event_peers: set[EventPeer] = set()
        self._queue: asyncio.Queue[Run] = asyncio.Queue()
        self._run_ids = itertools.count(max((r.id for r in runs), default=0) + 1)
        self._current: Run | None = None
        self._worker_scope = anyio.CancelScope()

    # -- time and recording ---------------------------------------------------------------

    def t(self) -> int:
        return max(0, now_ms() - self.info.created_ms)

    def record(self, type_: str, role: str = "system", actor: str = "", **payload: Any) -> int:
        """Append an event to the recording; returns its index (evidence for the scorecard)."""
        return self._append(Event(self.t(), type_, role, actor, payload))

    def _append(self, event: Event) -> int:
        self.recorder.append(self.info.id, event)
        self.event_count += 1
        return self.event_count - 1

    def _record_update(self, peer: Peer, update: bytes) -> None:
        self._append(Event.doc_update(self.t(), peer.role, peer.actor, update))
        if self.room.updates_since_checkpoint >= CHECKPOINT_EVERY:
            self.room.updates_since_checkpoint = 0
            self._append(checkpoint_event(self.t(), self.room.doc))

    # -- events fan-out -------------------------------------------------------------------

    def broadcast(self, message: dict[str, Any], audience: Audience = ALL) -> None:
        """Send to every events connection that may receive ``audience`` (see visible_to)."""
        for peer in list(self.event_peers):
            if not visible_to(audience, peer.role):
                continue
            if not peer.send(message):
                self.event_peers.discard(peer)
                log.info("session %s: dropping a slow %s events peer", self.info.id, peer.role)

    def hello(self, peer: EventPeer) -> dict[str, Any]:
        """The greeting for a new connection, filtered by role (see :func:`problem_view`)."""
        return {
            "type": "hello",
            "role": peer.role,
            "session": self.info.to_json(),
            "problem": problem_view(self.problem, peer.role),
            "clarify": self.clarify.view(peer.role) if self.clarify else None,
            "kernel": {"state": self.kernel_state},
            "runs": [r.to_json() for r in self.runs],
            "queue": [r.id for r in self._queue_snapshot()],
        }

    def _queue_snapshot(self) -> list[Run]:
        return [r for r in self.runs if r.state == "queued"]

    def _set_kernel_state(self, state: str, reason: str | None = None) -> None:
        self.kernel_state = state
        msg: dict[str, Any] = {"type": "kernel.status", "state": state}
        if reason:
            msg["reason"] = reason
        self.broadcast(msg)
        self.record("kernel.status", state=state, reason=reason)

    # -- runs -----------------------------------------------------------------------------

    def submit(self, role: str, actor: str, code: str) -> Run:
        """Queue a run (FIFO, one at a time); everyone sees the queue."""
        if self.info.ended:
            raise SessionEnded("this session has ended")
        run = Run(next(self._run_ids), role, actor, code)
        self.runs.append(run)
        del self.runs[:-MAX_HISTORY_RUNS]
        self._queue.put_nowait(run)
        self.record("run.queued", role, actor, run=run.id, code=code)
        self.broadcast({"type": "run.queued", "run": run.to_json(), "queue": [r.id for r in self._queue_snapshot()]})
        return run

    async def interrupt(self, role: str, actor: str) -> None:
        self.record("kernel.interrupt", role, actor)
        if self.kernel is not None:
            await self.kernel.interrupt()

    async def restart(self, role: str, actor: str) -> None:
        self.record("kernel.restart", role, actor)
        if self.kernel is None:
            return
        self._set_kernel_state("restarting")
        try:
            await self.kernel.restart()
        except SandboxError as exc:
            self._set_kernel_state("dead", exc.reason)
            return
        self._set_kernel_state("idle")

    async def _ensure_kernel(self) -> Kernel | None:
        if self.kernel is not None and self.kernel.state != "dead":
            return self.kernel
        try:
            if self.kernel is None:
                kernel = await self.pool.acquire()
                self.kernel = kernel
                if self.problem is not None:
                    setup = await kernel.load_problem(self.problem.data_dir, self.problem.setup)
                    if setup is not None and setup.status != "ok":
                        log.warning("session %s: setup of %s failed: %s", self.info.id, self.problem.id, setup.reason)
            else:
                self._set_kernel_state("restarting", self.kernel.death_reason)
                await self.kernel.restart()
        except CapacityReached as exc:
            self._set_kernel_state("unavailable", exc.reason)
            return None
        except SandboxError as exc:
            self._set_kernel_state("dead", exc.reason)
            return None
        self._set_kernel_state("idle")
        return self.kernel

    async def run_worker(self) -> None:
        """Takes a kernel from the pool, then runs queued code one at a time until stopped."""
        with self._worker_scope:
            await self._ensure_kernel()
            while True:
                run = await self._queue.get()
                self._current = run
                try:
                    await self._execute(run)
                finally:
                    self._current = None

    async def _execute(self, run: Run) -> None:
        kernel = await self._ensure_kernel()
        if kernel is None:
            run.state = "done"
            run.result = {"status": "error", "reason": f"no kernel: {self.kernel_state}"}
            self.broadcast({"type": "run.done", "run": run.id, "result": run.result})
            self.record("run.done", run=run.id, result=run.result)
            return
        try:
            async with kernel.execute(run.code) as execution:
                # Announced once the request is on its way, so an interrupt sent on seeing
                # "run.started" reaches this run.
                run.state = "running"
                self.broadcast({"type": "run.started", "run": run.id})
                self.record("run.started", run=run.id)
                if self.clarify is not None:
                    self.clarify.note_run(self.t())
                self.kernel_state = "busy"
                async for event in execution:
                    payload = event.to_json()
                    if payload["kind"] == "status":
                        state = payload["state"]
                        self._set_kernel_state(state, kernel.death_reason if state == "dead" else None)
                        continue
                    run.outputs.append(payload)
                    self.broadcast({"type": "run.output", "run": run.id, "output": payload})
                    self.record("run.output", run=run.id, output=payload)
            result = execution.result.to_json() if execution.result else {"status": "error"}
        except SandboxError as exc:
            result = {"kind": "result", "status": "killed", "reason": exc.reason}
        run.state = "done"
        run.result = result
        self.broadcast({"type": "run.done", "run": run.id, "result": result})
        self.record("run.done", run=run.id, result=result)
        if kernel.state == "dead":
            if self.kernel_state != "dead":
                self._set_kernel_state("dead", kernel.death_reason)
            await self._ensure_kernel()  # announced, then restarted (setup runs again)
        elif self.kernel_state != "idle":
            self._set_kernel_state("idle")

    async def run_checks(self, actor: str) -> None:
        """Run the problem's hidden checks on the current code in a separate grading kernel."""
        if self.clarify is None or self.problem is None:
            return
        from server.grading import run_checks

        self.broadcast({"type": "checks.started"}, "staff")
        code = str(self.room.text)
        try:
            kernel = await self.pool.acquire()
        except SandboxError as exc:
            self.broadcast({"type": "error", "message": f"hidden checks could not start: {exc.reason}"}, "staff")
            return
        try:
            results = await run_checks(kernel, self.problem, code)
        finally:
            await self.pool.release(kernel)
        self.clarify.set_checks([r.to_json() for r in results], actor)

    async def close(self) -> None:
        """Stop running and release the kernel (the session ended or the server is stopping)."""
        self._worker_scope.cancel()
        kernel, self.kernel = self.kernel, None
        if kernel is not None:
            await self.pool.release(kernel)


def problem_view(problem: Problem | None, role: str) -> dict[str, Any] | None:
    """What of a problem a role may receive: the only place that filters problem content.

    Everyone gets the brief and starter code; staff (interviewer, observer) also get the
    hidden constraints and the rubric. Candidates and reviewers on a live socket never do.
    """
    if problem is None:
        return None
    view: dict[str, Any] = {**problem.summary(), "brief": problem.brief, "starter": problem.starter}
    if role in STAFF_ROLES:
        view["constraints"] = [c.model_dump() for c in problem.meta.constraint]
        view["rubric"] = [d.model_dump() for d in problem.meta.rubric]
    return view


def runs_from_events(events: list[Event]) -> list[Run]:
    """Rebuild the run history from a recording (after a server restart)."""
    runs: dict[int, Run] = {}
    for ev in events:
        p = ev.payload
        if ev.type == "run.queued":
            runs[p["run"]] = Run(p["run"], ev.role, ev.actor, p.get("code", ""))
        elif ev.type == "run.output" and p.get("run") in runs:
            runs[p["run"]].outputs.append(p.get("output", {}))
        elif ev.type == "run.done" and p.get("run") in runs:
            runs[p["run"]].state = "done"
            runs[p["run"]].result = p.get("result")
    for run in runs.values():
        if run.state != "done":
            run.state = "done"
            run.result = {"status": "error", "reason": "the server restarted during this run"}
    return list(runs.values())[-MAX_HISTORY_RUNS:]


class Runtimes:
    """The live sessions this instance serves; ``async with`` owns their worker tasks."""

    def __init__(
        self, store: SessionStore, recorder: Recorder, pool: KernelPool, problems: dict[str, Problem] | None = None
    ) -> None:
        self.problems = problems or {}
        self.store = store
        self.recorder = recorder
        self.pool = pool
        self._live: dict[str, SessionRuntime] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._stack = contextlib.AsyncExitStack()
        self._tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> Runtimes:
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._stack.aclose()
        with anyio.CancelScope(shield=True):
            for rt in list(self._live.values()):
                await rt.close()
        self._live.clear()

    async def get(self, info: SessionInfo) -> SessionRuntime:
        """The session's runtime, loading it from the recording on first use."""
        rt = self._live.get(info.id)
        if rt is not None:
            return rt
        lock = self._locks.setdefault(info.id, asyncio.Lock())
        async with lock:
            rt = self._live.get(info.id)
            if rt is not None:
                return rt
            await self.recorder.flush(timeout=2.0)
            events = await self.recorder.read(info.id)
            rt = SessionRuntime(
                info,
                self.recorder,
                self.pool,
                Room(rebuild_doc(events)),
                runs_from_events(events),
                problem=self.problems.get(info.problem),
                events=events,
            )
            self._live[info.id] = rt
            assert self._tg is not None
            self._tg.start_soon(rt.run_worker)
            return rt

    def loaded(self, session_id: str) -> SessionRuntime | None:
        return self._live.get(session_id)

    async def end(self, session_id: str) -> None:
        """End a live session: disconnect everyone, release its kernel, run the hidden checks."""
        rt = self._live.pop(session_id, None)
        if rt is None:
            return
        rt.info = await self.store.get(session_id)
        rt.record("session.ended")
        rt.broadcast({"type": "session.ended"})
        for peer in list(rt.event_peers):
            peer.send(None)
        for peer in list(rt.room.peers):
            peer.send(None)
        await rt.close()
        if rt.clarify is not None:
            assert self._tg is not None
            self._tg.start_soon(rt.run_checks, "end")

    def spawn(self, fn: Any, *args: Any) -> None:
        """Run a background job owned by the runtimes (cancelled at shutdown)."""
        assert self._tg is not None
        self._tg.start_soon(fn, *args)

    @contextlib.asynccontextmanager
    async def connected(self, rt: SessionRuntime, peer: EventPeer) -> AsyncIterator[None]:
        rt.event_peers.add(peer)
        rt.record("join", peer.role, peer.actor, socket="events")
        try:
            yield
        finally:
            rt.event_peers.discard(peer)
            rt.record("leave", peer.role, peer.actor, socket="events")
