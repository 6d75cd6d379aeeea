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
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio

from problems import Problem
from sandbox import CapacityReached, Kernel, KernelPool, SandboxError
from server import events as E
from server.assistant import SessionAssistant
from server.audience import ALL, STAFF, STAFF_ROLES, Audience, visible_to
from server.clarify.examples import learn_from
from server.clarify.levels import for_session
from server.clarify.session import ClarifySession
from server.collab import Peer, Room
from server.connection import Connection
from server.document import checkpoint_event, rebuild_doc
from server.errors import BudgetExceeded, QueueFull, SessionEnded
from server.events import Event
from server.process_signals import ProcessSignals
from server.recording import Recorder
from server.runs import MAX_HISTORY_RUNS, Limits, Run, runs_from_events, size_of
from server.sessions import SessionInfo, SessionStore, now_ms
from server.tokens import CANDIDATE, WRITE_ROLES
from server.webhooks import SCORECARD_READY, SESSION_ENDED, SESSION_STARTED, Notifier, NullNotifier

log = logging.getLogger(__name__)

RUN_ROLES = WRITE_ROLES
CHECKPOINT_EVERY = 200


class EventPeer(Connection[dict[str, Any]]):
    """One events-socket connection: a bounded queue of JSON messages."""


class SessionRuntime:
    """Everything live about one session: its document, kernel, run queue and connections.

    The run worker is supervised: an unexpected error while running code is logged with the
    session id, told to this session's staff (and to everyone as "the kernel was restarted"),
    and the session recovers on a fresh kernel; no other session notices.
    """

    erased = False  # set by an erasure: nothing more is recorded for this session

    def __init__(
        self,
        info: SessionInfo,
        recorder: Recorder,
        pool: KernelPool,
        room: Room,
        runs: list[Run],
        problem: Problem | None = None,
        events: list[Event] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.info = info
        self.problem = problem
        self.limits = limits or Limits()
        self.event_count = len(events or [])
        self.recorded_bytes = sum(size_of(e.payload) for e in events or [])
        self.output_budget_spent = any(e.type == E.RECORDING_BUDGET for e in events or [])
        self.clarify: ClarifySession | None = None
        if problem is not None:
            self.clarify = ClarifySession(problem, self.record_event, self.broadcast, self.t)
            self.clarify.replay(events or [])
        self.recorder = recorder
        self.pool = pool
        self.room = room
        self.room.on_update = self._record_update
        self.room.max_chars = self.limits.max_doc_chars
        self.runs = runs
        self.kernel: Kernel | None = None
        self.kernel_state = "starting"
        self.event_peers: set[EventPeer] = set()
        self.names: dict[str, str] = {}  # actor -> display name of a signed-in person
        self.connections: Counter[str] = Counter()
        self._queue: asyncio.Queue[Run] = asyncio.Queue()
        self._run_ids = itertools.count(max((r.id for r in runs), default=0) + 1)
        self._current: Run | None = None
        self._worker_scope = anyio.CancelScope()
        # The AI assistant and the candidate's process signals, each rebuilt from the recording.
        self.assistant = SessionAssistant.for_runtime(self, events or [])
        self.signals = ProcessSignals(self.record_event, self.broadcast)
        self.signals.replay(events or [])

    # -- time and recording ---------------------------------------------------------------

    def t(self) -> int:
        return max(0, now_ms() - self.info.created_ms)

    def record(self, type_: str, role: str = "system", actor: str = "", **payload: Any) -> int:
        """Append an event to the recording; returns its index (evidence for the scorecard)."""
        return self._append(Event(self.t(), type_, role, actor, self._signed(actor, payload)))

    def record_event(self, type_: str, role: str = "system", actor: str = "", **payload: Any) -> tuple[int, Event]:
        """Like :meth:`record`, also returning the event (to apply it exactly as recorded)."""
        event = Event(self.t(), type_, role, actor, self._signed(actor, payload))
        learn_from(self, event)  # the interviewers' judgements become the matcher's examples
        return self._append(event), event

    def name_actor(self, actor: str, name: str) -> None:
        """Remember who ``actor`` is: what they do from now on is recorded with their name."""
        if actor and name:
            self.names[actor] = name

    def _signed(self, actor: str, payload: dict[str, Any]) -> dict[str, Any]:
        name = self.names.get(actor)
        return {**payload, "by_name": name} if name else payload

    def presence(self) -> list[dict[str, Any]]:
        """Who is in the room (events connections), by name where they signed in."""
        seen: dict[str, dict[str, Any]] = {}
        for peer in self.event_peers:
            seen.setdefault(
                peer.actor, {"actor": peer.actor, "role": peer.role, "name": self.names.get(peer.actor, "")}
            )
        return sorted(seen.values(), key=lambda p: (p["role"], p["name"], p["actor"]))

    def _append(self, event: Event) -> int:
        if self.erased:  # a late leave or check result must not recreate an erased recording
            return self.event_count
        self.recorded_bytes += self.recorder.append(self.info.id, event)
        self.event_count += 1
        return self.event_count - 1

    def _record_update(self, peer: Peer, update: bytes) -> None:
        self._append(Event.doc_update(self.t(), peer.role, peer.actor, update))
        if self.room.updates_since_checkpoint >= CHECKPOINT_EVERY:
            self.room.updates_since_checkpoint = 0
            self._append(checkpoint_event(self.t(), self.room.doc))

    def check_edit_budget(self) -> None:
        """Refuse edits once the recording is far past its budget (edits cannot be summarised)."""
        if self.recorded_bytes > 2 * self.limits.max_recording_bytes:
            raise BudgetExceeded("this session's recording is full; edits are no longer accepted")

    def _record_output(self, run: Run, payload: dict[str, Any]) -> None:
        """Record a run's output while the session's recording budget lasts; then say so once."""
        if self.recorded_bytes + size_of(payload) <= self.limits.max_recording_bytes:
            self.record(E.RUN_OUTPUT, run=run.id, output=payload)
            return
        if not self.output_budget_spent:
            self.output_budget_spent = True
            message = (
                f"this session has recorded {self.recorded_bytes} bytes, its limit; further run output is "
                "shown live but not stored in the recording"
            )
            self.record(E.RECORDING_BUDGET, run=run.id, recorded_bytes=self.recorded_bytes, message=message)
            self.broadcast({"type": "error", "code": "budget", "message": message})

    def start(self, candidate: str, actor: str = "admin") -> None:
        """Record the session's creation and seed the editor with the problem's starter code."""
        i = self.info
        self.record(E.SESSION_CREATED, "interviewer", actor, problem=i.problem, candidate=candidate, level=i.level)
        if self.problem is not None:
            self.room.seed(Peer(role="system", actor="starter", writable=True), self.problem.starter)

    # -- connections ----------------------------------------------------------------------

    @contextlib.contextmanager
    def connection(self, role: str) -> Any:
        """Count an open socket of ``role`` (one link per role); past the cap, BudgetExceeded."""
        if self.connections[role] >= self.limits.max_connections_per_token:
            raise BudgetExceeded(
                f"too many connections for this link ({self.limits.max_connections_per_token} are open)"
            )
        self.connections[role] += 1
        try:
            yield
        finally:
            self.connections[role] -= 1

    @property
    def participants(self) -> int:
        return len(self.event_peers) + len(self.room.peers)

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
        """The greeting for a new connection, filtered by role (see :func:`problem_view`).

        Bounded: the newest runs only, each with the outputs kept in memory; the rest of a
        run's output is fetched on demand (``GET /api/sessions/{id}/runs/{run}``).
        """
        runs = self.runs[-self.limits.hello_runs :] if self.limits.hello_runs > 0 else []
        return {
            "type": "hello",
            "role": peer.role,
            "session": self.info.to_json(),
            "problem": problem_view(self.problem, peer.role),
            "clarify": self.clarify.view(peer.role) if self.clarify else None,
            "clock": self.clarify.clock() if self.clarify else {"now": self.t(), "limit": None},
            "kernel": {"state": self.kernel_state},
            "runs": [r.to_json() for r in runs],
            "runs_total": len(self.runs),
            "queue": [r.id for r in self._queue_snapshot()],
            "you": {"actor": peer.actor, "name": self.names.get(peer.actor, "")},
            "assistant": self.assistant.view(peer.role),
            **({"presence": self.presence()} if peer.role in STAFF_ROLES else {}),
        }

    def run(self, run_id: int) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def _queue_snapshot(self) -> list[Run]:
        return [r for r in self.runs if r.state == "queued"]

    def _set_kernel_state(self, state: str, reason: str | None = None) -> None:
        self.kernel_state = state
        msg: dict[str, Any] = {"type": "kernel.status", "state": state}
        if reason:
            msg["reason"] = reason
        self.broadcast(msg)
        self.record(E.KERNEL_STATUS, state=state, reason=reason)

    # -- runs -----------------------------------------------------------------------------

    def submit(self, role: str, actor: str, code: str) -> Run:
        """Queue a run (FIFO, one at a time); everyone sees the queue. Bounded: a full queue refuses."""
        if self.info.ended:
            raise SessionEnded("this session has ended")
        waiting = self._queue.qsize()
        if waiting >= self.limits.max_queued_runs:
            raise QueueFull(f"the run queue is full ({waiting} runs waiting); wait for one to finish")
        run = Run(next(self._run_ids), role, actor, code)
        self.runs.append(run)
        del self.runs[:-MAX_HISTORY_RUNS]
        self._queue.put_nowait(run)
        self.record(E.RUN_QUEUED, role, actor, run=run.id, code=code)
        self.broadcast({"type": "run.queued", "run": run.to_json(), "queue": [r.id for r in self._queue_snapshot()]})
        return run

    async def interrupt(self, role: str, actor: str) -> None:
        self.record(E.KERNEL_INTERRUPT, role, actor)
        if self.kernel is not None:
            try:
                await self.kernel.interrupt()
            except SandboxError as exc:
                log.info("session %s: interrupt failed: %s", self.info.id, exc.reason)

    async def restart(self, role: str, actor: str) -> None:
        """Restart the kernel in its container; if that fails, replace it with a fresh one."""
        self.record(E.KERNEL_RESTART, role, actor)
        if self.kernel is None:
            return
        self._set_kernel_state("restarting")
        try:
            await self.kernel.restart()
        except SandboxError as exc:
            log.info("session %s: restart failed (%s); replacing the kernel", self.info.id, exc.reason)
            await self._replace_kernel(f"the kernel could not be restarted ({exc.reason}); a fresh one was started")
            return
        self._set_kernel_state("idle")

    async def _release(self, kernel: Kernel) -> None:
        try:
            await self.pool.release(kernel)
        except Exception:  # a kernel we give up on must not take the session with it
            log.exception("session %s: releasing kernel %s failed", self.info.id, kernel.id)

    async def _replace_kernel(self, reason: str) -> Kernel | None:
        """Give the kernel back (it is removed) and start this session on a fresh one."""
        old, self.kernel = self.kernel, None
        self._set_kernel_state("restarting", reason)
        if old is not None:
            await self._release(old)
        return await self._ensure_kernel()

    async def _ensure_kernel(self) -> Kernel | None:
        """The session's live kernel; a dead or vanished one is replaced from the pool (never restarted)."""
        if self.kernel is not None and self.kernel.state != "dead":
            return self.kernel
        if self.kernel is not None:
            dead, self.kernel = self.kernel, None
            if self.kernel_state != "restarting":
                self._set_kernel_state("restarting", dead.death_reason or "the kernel stopped")
            await self._release(dead)
        try:
            kernel = await self.pool.acquire()
        except CapacityReached as exc:
            self._set_kernel_state("unavailable", exc.reason)
            return None
        except SandboxError as exc:
            self._set_kernel_state("dead", exc.reason)
            return None
        self.kernel = kernel
        if self.problem is not None:
            try:
                setup = await kernel.load_problem(self.problem.data_dir, self.problem.setup)
            except SandboxError as exc:
                setup = None
                log.warning("session %s: loading %s failed: %s", self.info.id, self.problem.id, exc.reason)
            if setup is not None and setup.status != "ok":
                log.warning("session %s: setup of %s failed: %s", self.info.id, self.problem.id, setup.reason)
        self._set_kernel_state("idle")
        return self.kernel

    async def run_worker(self) -> None:
        """Runs queued code one at a time until stopped; supervised (see the class docstring)."""
        with self._worker_scope:
            failures = 0
            while True:
                try:
                    if self.kernel is None:
                        await self._ensure_kernel()
                    while True:
                        run = await self._queue.get()
                        self._current = run
                        try:
                            await self._execute(run)
                        finally:
                            self._current = None
                        failures = 0
                except Exception as exc:  # supervised: this session recovers alone
                    failures += 1
                    log.exception("session %s: the run worker failed (%s)", self.info.id, type(exc).__name__)
                    await self._recover(exc)
                    await anyio.sleep(min(30.0, 0.25 * 2 ** min(failures, 7)))

    async def _recover(self, exc: BaseException) -> None:
        run = self._current
        if run is not None and run.state != "done":
            run.state = "done"
            run.result = {"status": "error", "reason": "an internal error stopped this run; the kernel was restarted"}
            self.broadcast({"type": "run.done", "run": run.id, "result": run.result})
            self.record(E.RUN_DONE, run=run.id, result=run.result)
        self.record(E.SESSION_ERROR, error=type(exc).__name__)
        self.broadcast(
            {
                "type": "error",
                "code": "internal",
                "message": f"an internal error ({type(exc).__name__}) stopped this session's kernel; it was replaced",
            },
            STAFF,
        )
        try:
            await self._replace_kernel("the kernel was restarted")
        except Exception:  # the next loop turn tries again
            log.exception("session %s: replacing the kernel failed", self.info.id)

    async def _execute(self, run: Run) -> None:
        kernel = await self._ensure_kernel()
        if kernel is None:
            run.state = "done"
            run.result = {"status": "error", "reason": f"no kernel: {self.kernel_state}"}
            self.broadcast({"type": "run.done", "run": run.id, "result": run.result})
            self.record(E.RUN_DONE, run=run.id, result=run.result)
            return
        try:
            async with kernel.execute(run.code) as execution:
                # Announced once the request is on its way, so an interrupt sent on seeing
                # "run.started" reaches this run.
                run.state = "running"
                self.broadcast({"type": "run.started", "run": run.id})
                index, event = self.record_event(E.RUN_STARTED, run=run.id)
                if self.clarify is not None:
                    self.clarify.apply(index, event)
                self.kernel_state = "busy"
                async for out in execution:
                    payload = out.to_json()
                    if payload.get("kind") == "status":
                        state = payload.get("state")
                        self._set_kernel_state(state, kernel.death_reason if state == "dead" else None)
                        continue
                    run.add_output(payload, self.limits.hello_output_bytes)
                    self.broadcast({"type": "run.output", "run": run.id, "output": payload})
                    self._record_output(run, payload)
            result = execution.result.to_json() if execution.result else {"status": "error"}
        except SandboxError as exc:
            result = {"kind": "result", "status": "killed", "reason": exc.reason}
        run.state = "done"
        run.result = result
        self.broadcast({"type": "run.done", "run": run.id, "result": result})
        self.record(E.RUN_DONE, run=run.id, result=result)
        if kernel.state == "dead":
            if self.kernel_state != "dead":
                self._set_kernel_state("dead", kernel.death_reason)
            await self._ensure_kernel()  # announced, then replaced (setup runs again)
        elif self.kernel_state != "idle":
            self._set_kernel_state("idle")

    def kernel_culled(self, kernel: Kernel) -> None:
        """The pool stopped our kernel for idleness: forget it; the next run starts a fresh one."""
        if self.kernel is kernel:
            self.kernel = None
            self._set_kernel_state("stopped", "the kernel was stopped while idle; the next run starts a fresh one")

    async def run_checks(self, actor: str) -> None:
        """Run the problem's hidden checks on the current code in a separate grading kernel.

        Never raises: whatever the candidate's code does to the grading kernel, every check gets
        a result (failed, with the reason) and staff are told.
        """
        if self.clarify is None or self.problem is None:
            return
        from server.grading import run_checks

        self.broadcast({"type": "checks.started"}, STAFF)
        code = str(self.room.text)
        checks = self.problem.meta.check
        try:
            kernel = await self.pool.acquire()
        except SandboxError as exc:
            self.broadcast(
                {"type": "error", "code": "checks", "message": f"hidden checks could not start: {exc.reason}"}, STAFF
            )
            self.clarify.set_checks(_failed(checks, f"the hidden checks could not start: {exc.reason}"), actor)
            return
        try:
            results = [r.to_json() for r in await run_checks(kernel, self.problem, code)]
        except Exception as exc:  # grading faults are this session's, never the server's
            log.exception("session %s: hidden checks failed to run", self.info.id)
            reason = exc.reason if isinstance(exc, SandboxError) else type(exc).__name__
            results = _failed(checks, f"the hidden checks did not finish: {reason}")
        finally:
            with anyio.CancelScope(shield=True):
                await self._release(kernel)
        self.clarify.set_checks(results, actor)

    async def close(self) -> None:
        """Stop running and release the kernel (the session ended or the server is stopping)."""
        self._worker_scope.cancel()
        await self.assistant.close()
        kernel, self.kernel = self.kernel, None
        if kernel is not None:
            await self._release(kernel)


def _failed(checks: Any, detail: str) -> list[dict[str, Any]]:
    return [{"id": c.id, "constraint": c.constraint, "passed": False, "detail": detail} for c in checks]


def problem_view(problem: Problem | None, role: str) -> dict[str, Any] | None:
    """What of a problem a role may receive: the only place that filters problem content.

    Everyone gets the title, minutes, brief and starter code; staff (interviewer, observer)
    also get the staff summary (it may name what is hidden), the hidden constraints and the
    rubric. Candidates and reviewers on a live socket never do.
    """
    if problem is None:
        return None
    view: dict[str, Any] = {**problem.summary(), "brief": problem.brief, "starter": problem.starter}
    if role in STAFF_ROLES:
        view["constraints"] = [c.model_dump() for c in problem.meta.constraint]
        view["rubric"] = [d.model_dump() for d in problem.meta.rubric]
    else:
        del view["summary"]  # written for staff lists: it names the traps
    return view


Job = Callable[..., Awaitable[None]]


class Runtimes:
    """The live sessions this instance serves; ``async with`` owns their worker tasks.

    Every background job (a session's run worker, its hidden checks) runs supervised: an
    exception is logged with its session id and stays in that session.
    """

    def __init__(
        self,
        store: SessionStore,
        recorder: Recorder,
        pool: KernelPool,
        problems: dict[str, Problem] | None = None,
        limits: Limits | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.problems = problems or {}
        self.notifier: Notifier = notifier or NullNotifier()
        self.store = store
        self.recorder = recorder
        self.pool = pool
        self.limits = limits or Limits()
        self._live: dict[str, SessionRuntime] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._stack = contextlib.AsyncExitStack()
        self._tg: anyio.abc.TaskGroup | None = None
        self.job_failures = 0

    async def __aenter__(self) -> Runtimes:
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        self.pool.on_cull = self._kernel_culled
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._stack.aclose()
        with anyio.CancelScope(shield=True):
            for rt in list(self._live.values()):
                await rt.close()
        self._live.clear()

    async def _kernel_culled(self, kernel: Kernel) -> None:
        for rt in self._live.values():
            rt.kernel_culled(kernel)

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
                runs_from_events(events, self.limits.hello_output_bytes),
                problem=for_session(self.problems.get(info.problem), info.level),
                events=events,
                limits=self.limits,
            )
            self._live[info.id] = rt
            self.spawn(info.id, rt.run_worker)
            return rt

    def loaded(self, session_id: str) -> SessionRuntime | None:
        return self._live.get(session_id)

    def live_sessions(self) -> list[SessionRuntime]:
        return list(self._live.values())

    async def end(self, session_id: str, *, actor: str = "", name: str = "") -> None:
        """End a live session: disconnect everyone, release its kernel, run the hidden checks."""
        rt = self._live.get(session_id)
        if rt is None:
            # Not loaded on this instance (e.g. after a restart): load it to grade it.
            rt = await self.get(await self.store.get(session_id))
        self._live.pop(session_id, None)
        rt.info = await self.store.get(session_id)
        rt.name_actor(actor, name)
        rt.record(E.SESSION_ENDED, "interviewer" if actor else "system", actor)
        rt.broadcast({"type": "session.ended"})
        for peer in list(rt.event_peers):
            peer.send(None)
        for peer in list(rt.room.peers):
            peer.send(None)
        await rt.close()
        await self.notifier.emit(SESSION_ENDED, session_id)
        if rt.clarify is not None:
            self.spawn(session_id, self._grade, rt, not rt.clarify.checks)

    async def _grade(self, rt: SessionRuntime, run: bool) -> None:
        """The hidden checks of an ended session (unless already run), then ``scorecard.ready``."""
        if run:
            await rt.run_checks("end")
        if not rt.erased:
            await self.notifier.emit(SCORECARD_READY, rt.info.id)

    async def discard(self, session_id: str) -> None:
        """Forget a session that is being erased: close its sockets and release its kernel,
        recording nothing more about it."""
        rt = self._live.pop(session_id, None)
        self._locks.pop(session_id, None)
        if rt is None:
            return
        rt.erased = True
        for peer in [*rt.event_peers, *rt.room.peers]:
            if peer.cancel_scope is not None:
                peer.cancel_scope.cancel()
            else:
                peer.send(None)
        await rt.close()

    async def _started(self, session_id: str) -> None:
        if await self.store.mark_started(session_id):
            await self.notifier.emit(SESSION_STARTED, session_id)

    def spawn(self, session_id: str, fn: Job, *args: Any) -> None:
        """Run a background job of one session, supervised, owned by the runtimes."""
        assert self._tg is not None
        self._tg.start_soon(self._supervised, session_id, fn, *args)

    async def _supervised(self, session_id: str, fn: Job, *args: Any) -> None:
        try:
            await fn(*args)
        except Exception:  # one session's fault never reaches the others
            self.job_failures += 1
            log.exception("session %s: background job %s failed", session_id, getattr(fn, "__name__", fn))

    @contextlib.asynccontextmanager
    async def connected(self, rt: SessionRuntime, peer: EventPeer) -> AsyncIterator[None]:
        rt.event_peers.add(peer)
        rt.record(E.JOIN, peer.role, peer.actor, socket="events")
        if peer.role == CANDIDATE:
            self.spawn(rt.info.id, self._started, rt.info.id)
        # The newcomer learns who is here from its hello; the others from this.
        joined = {"type": "presence", "people": rt.presence()}
        for other in list(rt.event_peers):
            if other is not peer and visible_to(STAFF, other.role):
                other.send(joined)
        try:
            yield
        finally:
            rt.event_peers.discard(peer)
            rt.record(E.LEAVE, peer.role, peer.actor, socket="events")
            rt.broadcast({"type": "presence", "people": rt.presence()}, STAFF)
