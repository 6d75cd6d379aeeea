"""A hostile candidate against a real server with several live sessions: fault isolation.

One candidate makes its kernel emit every malformed Jupyter message it can produce from inside
(raw ``session.send`` on iopub and shell with wrong types, missing and huge fields, unknown
types), kills its kernel and its grading kernel, and exhausts the pool; meanwhile the other
sessions keep editing (stock Yjs clients) and running code, and ``/healthz`` stays ok. Then the
shared services go away (the managed Redis, an external Redis, Docker), and the server is
SIGKILLed mid-session: what staff saw must be exactly what the recording rebuilds.

Everything is real: `clarify serve` subprocesses, Redis, kernel containers, Node Yjs clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.hostile.conftest import ModuleServerFactory
from tests.server.harness import ADMIN, RedisProcess, ServerProcess, YClient

PROBLEM = "ticket-escalation"

# -- helpers ------------------------------------------------------------------------------


def connect_events(server: ServerProcess, session_id: str, token: str):
    """An events websocket without client-side flow control (a socket may sit unread between
    tests, and a paused reader would stop answering keepalive pings)."""
    return websockets.connect(f"{server.ws_base}/ws/events/{session_id}?token={token}", max_size=None, max_queue=None)


async def recv_json(ws, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        return json.loads(await ws.recv())


async def read_until(ws, pred, timeout: float = 30.0, what: str = "") -> list[dict[str, Any]]:
    """Messages received until one matches ``pred`` (inclusive); fails naming ``what``."""
    seen: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                msg = json.loads(await ws.recv())
                seen.append(msg)
                if pred(msg):
                    return seen
    except TimeoutError:
        tail = [m.get("type") for m in seen[-15:]]
        raise AssertionError(f"no {what or 'matching message'} within {timeout}s; last message types: {tail}") from None


async def first_hello(ws) -> dict[str, Any]:
    msg = await recv_json(ws, 30)
    assert msg["type"] == "hello", msg
    return msg


@dataclass
class RunOutcome:
    """Everything one socket received from submitting a run to its ``run.done``."""

    run_id: int
    messages: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    result: dict[str, Any]

    def printed(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs if o.get("kind") == "stream")

    def result_text(self) -> list[str]:
        return [
            str(o.get("data", {}).get("text/plain"))
            for o in self.outputs
            if o.get("kind") == "execute_result" and isinstance(o.get("data"), dict)
        ]

    def kernel_states(self) -> list[str]:
        return [m.get("state") for m in self.messages if m.get("type") == "kernel.status"]


async def run_code(ws, code: str, timeout: float = 90.0) -> RunOutcome:
    """Submit ``code`` (unique in the session) and wait for its ``run.done``; an ``error`` reply
    instead of ``run.queued`` fails the test with the server's message."""
    await ws.send(json.dumps({"type": "run", "code": code}))
    seen = await read_until(
        ws,
        lambda m: (m["type"] == "run.queued" and m["run"]["code"] == code) or m["type"] == "error",
        timeout,
        f"run.queued for {code[:40]!r}",
    )
    if seen[-1]["type"] == "error":
        raise AssertionError(f"the run was refused: {seen[-1]}")
    run_id = seen[-1]["run"]["id"]
    seen += await read_until(
        ws, lambda m: m["type"] == "run.done" and m["run"] == run_id, timeout, f"run.done for run {run_id}"
    )
    outputs = [m["output"] for m in seen if m["type"] == "run.output" and m["run"] == run_id]
    return RunOutcome(run_id, seen, outputs, seen[-1]["result"])


def http(server: ServerProcess, token: str | None = ADMIN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30)


async def create_session(server: ServerProcess, problem: str = "", candidate: str = "Ada") -> dict[str, Any]:
    async with http(server) as client:
        r = await client.post("/api/sessions", json={"problem": problem, "candidate": candidate})
    assert r.status_code == 201, f"POST /api/sessions: {r.status_code} {r.text}"
    return r.json()


async def end_session(server: ServerProcess, session_id: str) -> httpx.Response:
    async with http(server) as client:
        return await client.post(f"/api/sessions/{session_id}/end")


async def assert_healthy(server: ServerProcess) -> None:
    async with http(server, None) as client:
        r = await client.get("/healthz")
    assert r.status_code == 200, f"/healthz {r.status_code}: {r.text}"
    assert r.json()["status"] == "ok", f"/healthz: {r.text}"


async def create_use_and_end(server: ServerProcess) -> None:
    """``POST /api/sessions`` still works: a new session gets a kernel; then it is ended, so
    the checks do not pile up kernels."""
    s = await create_session(server, candidate="Probe")
    async with connect_events(server, s["id"], s["tokens"]["interviewer"]) as ws:
        await first_hello(ws)
        outcome = await run_code(ws, "print('new session')", timeout=90)
        assert outcome.printed() == "new session\n", outcome.outputs
    r = await end_session(server, s["id"])
    assert r.status_code == 200, r.text


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        names[int(entry.name)] = comm
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append((child, names[child]))
            todo.append(child)
    return found


def redis_pids(server: ServerProcess) -> list[int]:
    assert server.proc is not None
    return [pid for pid, name in descendants(server.proc.pid) if name.startswith("redis-server")]


# -- the fleet: one server, three live sessions -------------------------------------------


@dataclass
class Bystander:
    """A session that must not notice session A: two editors and an events socket."""

    name: str
    session: dict[str, Any]
    ws: Any
    editor: YClient
    peer: YClient
    rounds: int = 0

    async def round(self) -> None:
        """Both editors type and converge; a run prints ``ok``."""
        self.rounds += 1
        n = self.rounds
        expected = await self.editor.text()
        await self.peer.wait_text(expected)  # resynchronise after whatever came before
        self.editor.send(op="append", text=f"<{self.name}{n}a>")
        expected += f"<{self.name}{n}a>"
        await self.peer.wait_text(expected)
        self.peer.send(op="append", text=f"<{self.name}{n}b>")
        expected += f"<{self.name}{n}b>"
        await self.editor.wait_text(expected)
        outcome = await run_code(self.ws, f'print("ok")  # {self.name} round {n}', timeout=60)
        assert outcome.printed() == "ok\n", f"session {self.name}: {outcome.outputs} {outcome.result}"


@dataclass
class Fleet:
    server: ServerProcess
    a: dict[str, Any]
    a_ws: Any
    a_editor: YClient
    bystanders: list[Bystander] = field(default_factory=list)


@pytest.fixture(scope="module")
async def fleet(module_server_factory: ModuleServerFactory) -> AsyncIterator[Fleet]:
    server = module_server_factory()
    a = await create_session(server, candidate="Mallory")
    b = await create_session(server, candidate="Bob")
    c = await create_session(server, PROBLEM, candidate="Carol")
    async with contextlib.AsyncExitStack() as stack:
        a_ws = await stack.enter_async_context(connect_events(server, a["id"], a["tokens"]["candidate"]))
        await first_hello(a_ws)
        a_editor = await YClient.start(server.ws_base, a["id"], a["tokens"]["candidate"], "Mallory")
        stack.push_async_callback(a_editor.close)
        await a_editor.synced()
        fleet = Fleet(server, a, a_ws, a_editor)
        for name, s in (("B", b), ("C", c)):
            ws = await stack.enter_async_context(connect_events(server, s["id"], s["tokens"]["candidate"]))
            await first_hello(ws)
            editor = await YClient.start(server.ws_base, s["id"], s["tokens"]["candidate"], f"cand-{name}")
            stack.push_async_callback(editor.close)
            peer = await YClient.start(server.ws_base, s["id"], s["tokens"]["interviewer"], f"int-{name}")
            stack.push_async_callback(peer.close)
            await editor.synced()
            await peer.synced()
            fleet.bystanders.append(Bystander(name, s, ws, editor, peer))
        yield fleet


async def bystanders_carry_on_while(fleet: Fleet, job: asyncio.Task[Any]) -> int:
    """Rounds of edits, runs and health checks in the other sessions until ``job`` is done
    (at least one round during it, one after); the number of rounds."""
    rounds = 0
    try:
        while not job.done() or rounds == 0:
            await asyncio.gather(*(b.round() for b in fleet.bystanders))
            await assert_healthy(fleet.server)
            rounds += 1
    except BaseException:
        job.cancel()
        raise
    await job  # its own failure first: it is the cause
    await asyncio.gather(*(b.round() for b in fleet.bystanders))
    await assert_healthy(fleet.server)
    return rounds + 1


# -- 1. malformed kernel messages and kernel deaths ---------------------------------------

_RAW = """\
k = get_ipython().kernel
try:
    sock = {socket}
    k.session.send(sock, {msg_type!r}, {content}, parent=k.get_parent())
    print('sent')
except Exception as exc:
    print('not sent:', type(exc).__name__, exc)
"""
_IOPUB = "k.iopub_socket"
_SHELL = "getattr(k, 'shell_stream', None) or k.shell_streams[0]"


def raw(msg_type: str, content: str, socket: str = _IOPUB) -> str:
    return _RAW.format(socket=socket, msg_type=msg_type, content=content)


# name -> (cell, whether the cell itself reports 'sent' on a stream that must get through)
HOSTILE_CELLS: dict[str, tuple[str, bool]] = {
    "display-transient-not-a-dict": (
        "from IPython.display import publish_display_data\npublish_display_data({'text/plain': 'x'}, transient='x')",
        False,
    ),
    "raw-display-data-wrong-types": (raw("display_data", "{'data': [1], 'metadata': 'm', 'transient': 'x'}"), True),
    "raw-display-data-no-fields": (raw("display_data", "{}"), True),
    "raw-stream-wrong-types": (raw("stream", "{'name': 5, 'text': 123}"), True),
    "raw-error-wrong-types": (raw("error", "{'ename': 1, 'evalue': None, 'traceback': 'x'}"), True),
    "raw-execute-result-wrong-types": (raw("execute_result", "{'data': None, 'execution_count': 'x'}"), True),
    "raw-status-list-state": (raw("status", "{'execution_state': ['x']}"), True),
    "raw-unknown-msg-type": (raw("zzz", "{'a': 1}"), True),
    "raw-display-data-10000-keys": (raw("display_data", "{f'k{i}': i for i in range(10000)}"), True),
    "raw-stream-5MB-text": (raw("stream", "{'name': 'stdout', 'text': 'x' * 5_000_000}"), True),
    # A forged reply on shell may end the run early; the 'sent' line can then belong to no run.
    "raw-shell-execute-reply-wrong-types": (raw("execute_reply", "{'status': 5}", _SHELL), False),
    "kernel-os-exit": ("import os\nos._exit(0)", False),
    "kill-container-pid-1": ("import os, signal\nos.kill(1, signal.SIGKILL)", False),
}


async def hostile_then_recover(ws, name: str, cell: str) -> tuple[RunOutcome, RunOutcome]:
    hostile = await run_code(ws, f"# hostile: {name}\n{cell}", timeout=120)
    # The next run must work, after a kernel restart if the kernel died.
    recovery = await run_code(ws, f"1+1  # after {name}", timeout=120)
    return hostile, recovery


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", list(HOSTILE_CELLS))
async def test_hostile_kernel_output_stays_in_its_own_session(fleet: Fleet, name: str) -> None:
    cell, reports_sent = HOSTILE_CELLS[name]
    job = asyncio.create_task(hostile_then_recover(fleet.a_ws, name, cell))
    rounds = await bystanders_carry_on_while(fleet, job)
    hostile, recovery = job.result()
    assert rounds >= 2
    if reports_sent:
        assert "sent\n" in hostile.printed(), f"the cell did not send its message: {hostile.outputs}"
    assert recovery.result.get("status") == "ok", f"1+1 after {name}: {recovery.result}"
    assert recovery.result_text() == ["2"], f"1+1 after {name}: {recovery.outputs}"
    if name == "kernel-os-exit":
        states = hostile.kernel_states() + recovery.kernel_states()
        down = [i for i, s in enumerate(states) if s in ("dead", "restarting")]
        assert down, f"the kernel died but no kernel.status dead/restarting was sent: {states}"
        assert "idle" in states[down[0] :], f"no kernel.status idle after the restart: {states}"
    # New sessions can still be created and run code.
    await create_use_and_end(fleet.server)
    await assert_healthy(fleet.server)


# -- 2. the grading kernel killed by the candidate's code --------------------------------


@pytest.mark.timeout(240)
async def test_candidate_code_that_kills_the_grading_kernel_fails_every_check(fleet: Fleet) -> None:
    server = fleet.server
    g = await create_session(server, PROBLEM, candidate="Grace")
    sid, tokens = g["id"], g["tokens"]
    code = "# %%\nimport os\nos._exit(0)\n"
    editor = await YClient.start(server.ws_base, sid, tokens["candidate"], "Grace")
    try:
        await editor.synced()
        starter = await editor.text()
        editor.send(op="delete", index=0, length=len(starter))
        editor.send(op="append", text=code)
        await editor.wait_text(code)
        async with asyncio.timeout(15):
            async with http(server) as client:
                while (await client.get(f"/api/sessions/{sid}/document")).json()["text"] != code:
                    await asyncio.sleep(0.1)
    finally:
        await editor.close()

    r = await end_session(server, sid)
    assert r.status_code == 200, r.text

    async def poll_scorecard() -> dict[str, Any]:
        async with http(server) as client, asyncio.timeout(120):
            while True:
                r = await client.get(f"/api/sessions/{sid}/scorecard")
                assert r.status_code == 200, f"scorecard: {r.status_code} {r.text[:500]}"
                card = r.json()
                if card.get("checks_status") == "done":
                    return card
                await asyncio.sleep(1)

    job = asyncio.create_task(poll_scorecard())
    await bystanders_carry_on_while(fleet, job)
    card = job.result()
    assert card["checks"], "no hidden checks in the scorecard"
    for check in card["checks"]:
        assert check["passed"] is False, f"a check passed although the candidate's code exits: {check}"
        assert isinstance(check.get("detail"), str) and check["detail"].strip(), check
    await assert_healthy(server)


# -- 3. the pool exhausted -----------------------------------------------------------------


@pytest.mark.timeout(240)
async def test_exhausted_kernel_pool_gives_a_clear_message_and_the_others_keep_running(
    module_server_factory: ModuleServerFactory,
) -> None:
    server = await asyncio.to_thread(
        module_server_factory, CLARIFY_SANDBOX__MAX_KERNELS="2", CLARIFY_SANDBOX__POOL_SIZE="1"
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            sockets = []
            for i in range(2):
                s = await create_session(server, candidate=f"Fits {i}")
                ws = await stack.enter_async_context(connect_events(server, s["id"], s["tokens"]["candidate"]))
                await first_hello(ws)
                outcome = await run_code(ws, f"print('session {i}')")
                assert outcome.printed() == f"session {i}\n", outcome.outputs
                sockets.append(ws)
            third = await create_session(server, candidate="One too many")
            ws3 = await stack.enter_async_context(connect_events(server, third["id"], third["tokens"]["candidate"]))
            hello3 = await first_hello(ws3)
            outcome = await run_code(ws3, "print('no room for me')", timeout=90)
            states = [hello3.get("kernel", {}).get("state"), *outcome.kernel_states()]
            reasons = [str(m.get("reason") or "") for m in outcome.messages if m.get("type") == "kernel.status"] + [
                str(outcome.result.get("reason") or "")
            ]
            assert outcome.printed() == "", "a third kernel ran although max_kernels is 2"
            assert outcome.result.get("status") != "ok", outcome.result
            assert "unavailable" in states or "capacity" in str(outcome.result.get("reason", "")).lower(), (
                f"no kernel.status unavailable and no run.done mentioning capacity: states {states}, "
                f"result {outcome.result}"
            )
            assert any("capacity" in r.lower() for r in reasons), f"no message says why (capacity): {reasons}"
            for i, ws in enumerate(sockets):
                again = await run_code(ws, f"print('still here {i}')")
                assert again.printed() == f"still here {i}\n", again.outputs
            async with http(server, None) as client:
                r = await client.get("/healthz")
            assert r.status_code == 200, r.text
    finally:
        await asyncio.to_thread(server.stop)


# -- 4. the shared services go away -------------------------------------------------------


async def _poll_health(client: httpx.AsyncClient) -> int | str:
    try:
        return (await client.get("/healthz", timeout=5)).status_code
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"


@pytest.mark.timeout(180)
async def test_managed_redis_killed_gives_503_or_comes_back_never_500(
    module_server_factory: ModuleServerFactory,
) -> None:
    server = await asyncio.to_thread(module_server_factory)
    try:
        s = await create_session(server)
        before = redis_pids(server)
        assert before, f"no managed redis-server below the server process: {descendants(server.proc.pid)}"
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        health: list[int | str] = []
        api: list[tuple[str, int | str]] = []
        created: list[str] = []
        outcome = None
        async with http(server) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                health.append(await _poll_health(client))
                r = await client.get(f"/api/sessions/{s['id']}")
                api.append(("GET /api/sessions/{id}", r.status_code))
                if len(created) < 3 and len(api) % 8 == 1:
                    r = await client.post("/api/sessions", json={"candidate": "During"})
                    api.append(("POST /api/sessions", r.status_code))
                    if r.status_code == 201:
                        created.append(r.json()["id"])
                if health[-1] == 503:
                    outcome = "503"
                    break
                now = redis_pids(server)
                if health[-1] == 200 and now and set(now) != set(before) and len(health) > 1:
                    body = (await client.get("/healthz")).json()
                    if body.get("status") == "ok":
                        outcome = "restarted"
                        break
                await asyncio.sleep(0.25)
            for sid in created:
                await client.post(f"/api/sessions/{sid}/end")
        assert all(code in (200, 503) for code in health), f"/healthz answered {health}"
        assert all(code != 500 for _, code in api), (
            f"the API answered 500 while Redis was down: {api} (healthz: {health})"
        )
        assert outcome is not None, (
            f"within 30 s /healthz neither answered 503 nor came back ok with a new redis-server: "
            f"health {health[-10:]}, redis pids {redis_pids(server)} (killed {before})"
        )
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.timeout(180)
async def test_external_redis_gone_makes_healthz_503_or_the_process_exit_nonzero(
    module_server_factory: ModuleServerFactory, tmp_path: Path
) -> None:
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    server = await asyncio.to_thread(module_server_factory, redis.url)
    try:
        await create_session(server)
        redis.stop()
        seen: list[int | str] = []
        exited: int | None = None
        async with http(server, None) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert server.proc is not None
                if (exited := server.proc.poll()) is not None:
                    break
                seen.append(await _poll_health(client))
                if seen[-1] == 503:
                    break
                await asyncio.sleep(0.25)
        assert 500 not in seen, f"/healthz answered 500: {seen}"
        if exited is not None:
            assert exited != 0, "the server exited with status 0 when Redis went away"
            return
        assert seen and seen[-1] == 503, f"/healthz did not answer 503 within 30 s of Redis going away: {seen[-10:]}"
        # While Redis stays away it stays 503; when it is back the server serves again.
        async with http(server, None) as client:
            assert await _poll_health(client) == 503
            redis.start()
            async with asyncio.timeout(30):
                while True:
                    r = await client.get("/healthz")
                    if r.status_code == 200 and r.json()["status"] == "ok":
                        break
                    await asyncio.sleep(0.25)
        await create_session(server)
    finally:
        redis.stop()
        await asyncio.to_thread(server.stop)


def _spawn(server: ServerProcess) -> subprocess.Popen[bytes]:
    """Start the server without waiting for it to be healthy (it may refuse to start)."""
    server.log.parent.mkdir(parents=True, exist_ok=True)
    with open(server.log, "ab") as logf:
        server.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(server.port)],
            cwd=Path(__file__).resolve().parents[2],
            env=server.env,
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
    return server.proc


@pytest.mark.timeout(120)
async def test_unreachable_docker_refuses_to_start_or_answers_503_never_200(
    module_server_factory: ModuleServerFactory,
) -> None:
    server = module_server_factory(start=False, CLARIFY_SANDBOX__DOCKER_URL="unix:///nonexistent.sock")
    proc = _spawn(server)
    try:
        answers: list[int | str] = []
        async with http(server, None) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                answers.append(await _poll_health(client))
                if isinstance(answers[-1], int):
                    break
                await asyncio.sleep(0.25)
        if proc.poll() is not None:
            log = server.log.read_text()
            assert proc.returncode != 0, f"exited 0 without Docker: {log[-1500:]}"
            # A clear message names what is unreachable (not only a library traceback).
            assert "docker" in log.lower(), f"the exit message does not mention Docker: {log[-1500:]}"
            assert "/nonexistent.sock" in log, f"the exit message does not name the Docker endpoint: {log[-1500:]}"
            return
        assert answers and isinstance(answers[-1], int), f"no answer and no exit within 60 s: {answers[-5:]}"
        assert answers[-1] == 503, f"/healthz answered {answers[-1]} with Docker unreachable"
    finally:
        await asyncio.to_thread(server.stop)


# -- 5. recording truth across a SIGKILL ---------------------------------------------------


async def expect(ws, pred, what: str, timeout: float = 30.0) -> dict[str, Any]:
    """The first message matching ``pred``; an ``error`` reply first fails the test."""
    seen = await read_until(ws, lambda m: pred(m) or m["type"] == "error", timeout, what)
    assert seen[-1]["type"] != "error", f"{what}: the server answered {seen[-1]}"
    return seen[-1]


def runs_view(hello: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "code": r["code"],
            "state": r["state"],
            "status": (r.get("result") or {}).get("status"),
        }
        for r in hello["runs"]
    ]


@pytest.mark.timeout(240)
async def test_ledger_questions_runs_and_ratings_survive_a_sigkill_exactly(
    module_server_factory: ModuleServerFactory, tmp_path: Path
) -> None:
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    server = await asyncio.to_thread(module_server_factory, redis.url)
    try:
        s = await create_session(server, PROBLEM, candidate="Rita")
        sid, tokens = s["id"], s["tokens"]
        async with (
            connect_events(server, sid, tokens["candidate"]) as cand,
            connect_events(server, sid, tokens["interviewer"]) as staff,
        ):
            await first_hello(cand)
            staff_hello = await first_hello(staff)
            constraints = [c["id"] for c in staff_hello["problem"]["constraints"]]
            rubric = [d["id"] for d in staff_hello["problem"]["rubric"]]

            await cand.send(json.dumps({"type": "ask", "text": "how imbalanced are the labels?"}))
            first = await expect(staff, lambda m: m["type"] == "suggestion" and m["question"] == 1, "suggestion 1")
            await cand.send(json.dumps({"type": "ask", "text": "which columns exist when a ticket is created?"}))
            await expect(staff, lambda m: m["type"] == "suggestion" and m["question"] == 2, "suggestion 2")
            suggested = first.get("proposed") or (first["suggestions"] or [{}])[0].get("constraint")
            assert suggested in constraints, f"no suggested constraint for question 1: {first}"
            await staff.send(
                json.dumps({"type": "answer", "question": 1, "constraint": suggested, "use_pack_answer": True})
            )
            await expect(
                staff, lambda m: m["type"] == "ledger" and m["discovery"]["constraint"] == suggested, "ledger (typed)"
            )
            aloud = next(c for c in constraints if c != suggested)
            await staff.send(json.dumps({"type": "mark", "constraint": aloud}))
            await expect(
                staff, lambda m: m["type"] == "ledger" and m["discovery"]["constraint"] == aloud, "ledger (aloud)"
            )
            await staff.send(json.dumps({"type": "note", "text": "asked about imbalance early"}))
            await expect(staff, lambda m: m["type"] == "note", "note")
            await staff.send(json.dumps({"type": "rate", "dimension": rubric[0], "score": 3}))
            await expect(staff, lambda m: m["type"] == "rating", "rating")
            for code in ("x = 40 + 2", "print(x)"):
                outcome = await run_code(cand, code, timeout=120)
                assert outcome.result.get("status") == "ok", outcome.result

        async with connect_events(server, sid, tokens["interviewer"]) as staff:
            before = await first_hello(staff)
        async with http(server) as client:  # flushes the recorder: what was acknowledged is in Redis
            r = await client.get(f"/api/sessions/{sid}/recording")
            assert r.status_code == 200

        await asyncio.to_thread(server.kill)
        await asyncio.to_thread(server.start)  # same port, data directory and Redis

        async with connect_events(server, sid, tokens["interviewer"]) as staff:
            after = await first_hello(staff)
        ledger = before["clarify"]["ledger"]["constraints"]
        assert ledger[suggested] and ledger[suggested]["how"] == "typed", ledger
        assert ledger[aloud] and ledger[aloud]["how"] == "aloud", ledger
        assert len(before["clarify"]["questions"]) == 2
        assert before["clarify"]["notes"] and before["clarify"]["ratings"]
        assert after["clarify"] == before["clarify"], "the clarify state after the restart differs from before"
        assert runs_view(after) == runs_view(before)
        assert [r["code"] for r in runs_view(before)] == ["x = 40 + 2", "print(x)"]

        async with http(server) as client:
            recording = [
                json.loads(line) for line in (await client.get(f"/api/sessions/{sid}/recording")).text.splitlines()
            ]
            r = await client.get(f"/api/sessions/{sid}/scorecard")
        assert r.status_code == 200, r.text
        evidence = {row["constraint"]: row["evidence"] for row in r.json()["discovery"] if row["discovered"]}
        assert set(evidence) == {suggested, aloud}, evidence
        for cid, ev in evidence.items():
            assert ev["event"] == ledger[cid]["event"], f"{cid}: scorecard evidence {ev} vs live ledger {ledger[cid]}"
            assert 0 <= ev["event"] < len(recording), f"{cid}: evidence event {ev['event']} is not in the recording"
            assert recording[ev["event"]]["type"].startswith("clarify."), recording[ev["event"]]
    finally:
        await asyncio.to_thread(server.stop)
        redis.stop()
