"""Collaboration fan-out benchmark: Clarify's shared editor against pycrdt-websocket's server.

Run as ``.venv/bin/python -m bench.fanout_bench [--sessions S ...] [--clients K] [--seconds T]
[--rate R]``. Needs ``npm ci`` in ``bench/fanout`` and ``pip install -r bench/requirements.txt``;
see ``docs/benchmarks.md``.

For each configuration (S sessions x K clients; default 100x3 and 200x3) and each server, in
one run on one machine:

1. start the server on a free 127.0.0.1 port and warm it up (one connection; for Clarify one
   session whose runtime takes the only kernel the server may start, so kernels are excluded
   from the memory figures);
2. sample RSS ("before"), create the S sessions (Clarify: ``POST /api/sessions``), connect
   S*K stock Yjs ``WebsocketProvider`` clients from ONE Node process (``bench/fanout/loadgen.mjs``)
   and wait until all are synced; sample RSS again ("idle");
3. one typist per session inserts a short string ``rate`` times a second for ``seconds``; every
   other client of the session records keystroke-to-peer latency (send and receive times come
   from the same Node clock);
4. the server's CPU time (user+sys from ``/proc/<pid>/stat``) over the typing window, RSS at the
   end, and delivered/expected updates.

Target A is ``clarify serve`` (recording to its own managed redis-server; uvicorn
websockets-sansio, per-message deflate off). Target B is ``bench/fanout/baseline_server.py``:
``pycrdt_websocket.ASGIServer`` around a ``WebsocketServer`` under the same uvicorn settings,
no auth, no recording. Everything started here is stopped, and every temporary directory
removed, at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
FANOUT_DIR = ROOT / "bench" / "fanout"
LOADGEN = FANOUT_DIR / "loadgen.mjs"
BASELINE = FANOUT_DIR / "baseline_server.py"
KERNEL_DIR = Path("/tmp/ck-fan")
SERVER_ID = "bench-fanout"
ADMIN = "bench-fanout-admin-" + secrets.token_hex(16)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
SETTLE_S = 2.0  # after all clients synced, before the "idle" RSS sample
DRAIN_S = 5.0  # after the last keystroke, how long late updates may still arrive
CONNECT_TIMEOUT_S = 180.0
CONNECT_CONCURRENCY = 50
CONNECT_SPREAD_S = 3.0  # each connect phase (typists, then peers) paced over this long; see loadgen.mjs
QUIET_BUSY_PCT = 30.0  # "quiet": under this much machine-wide CPU busy (% of one core) over 1 s
TARGET_P99_MS = 25.0
TARGET_RSS_KIB = 1024.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- /proc ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its threads included, its children not)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime: fields 14 and 15


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def machine_cpu() -> dict[str, float]:
    """Machine-wide CPU seconds since boot from /proc/stat: busy, idle (incl. iowait), steal."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return {
        "busy": (user + nice + system + irq + softirq) / CLK_TCK,
        "idle": (idle + iowait) / CLK_TCK,
        "steal": steal / CLK_TCK,
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node,
        "loadavg_start": loadavg(),
    }


def image_present(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False).returncode == 0


_IMAGE: list[str] = []


def kernel_image() -> str:
    """``sandbox.image.image_tag()``; if that is not built, the newest ``clarify-kernel:latest``.

    Kernels are excluded from every figure here (the server may start one, for a warm-up session),
    so any built kernel image will do; ``clarify serve`` only refuses to start without one.
    """
    if not _IMAGE:
        from sandbox.image import image_tag

        tag = os.environ.get("CLARIFY_SANDBOX__IMAGE") or image_tag()
        if not image_present(tag) and image_present("clarify-kernel:latest"):
            log(f"kernel image {tag} is not built; using clarify-kernel:latest (kernels are not measured)")
            tag = "clarify-kernel:latest"
        _IMAGE.append(tag)
    return _IMAGE[0]


# -- servers --------------------------------------------------------------------------------


class Server:
    """A server subprocess on a free port; subclasses say how to start and prepare it."""

    name = "?"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/doc"
        self.log_path = workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    async def ready(self) -> bool:
        raise NotImplementedError

    def spawn(self) -> None:
        with open(self.log_path, "ab") as logf:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env(), stdout=logf, stderr=subprocess.STDOUT
            )  # fmt: skip

    async def start(self, timeout: float = 90.0) -> None:
        self.spawn()
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.tail()}")
            with contextlib.suppress(OSError, httpx.HTTPError):
                if await self.ready():
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.tail()}")

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    async def warm_up(self) -> None:
        raise NotImplementedError

    async def sessions(self, n: int, clients: int) -> list[dict[str, Any]]:
        """``n`` rooms for the load generator: ``{"room", "tokens": [one per client] | None}``."""
        raise NotImplementedError

    def helper_pids(self) -> list[int]:
        """Processes the server runs for itself (Clarify's managed redis-server)."""
        return []

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no exit 30 s after SIGTERM; killing")
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


class ClarifyServer(Server):
    """``clarify serve`` with its own managed Redis (recording on), at most one kernel."""

    name = "clarify"

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "clarify"), "serve", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFY_")}
        env.update(
            {
                "CLARIFY_DATA_DIR": str(self.workdir / "data"),
                "CLARIFY_ADMIN_TOKEN": ADMIN,
                "CLARIFY_SANDBOX__IMAGE": kernel_image(),
                "CLARIFY_SANDBOX__KERNEL_DIR": str(KERNEL_DIR),
                "CLARIFY_SANDBOX__SERVER_ID": SERVER_ID,
                "CLARIFY_SANDBOX__POOL_SIZE": "0",
                "CLARIFY_SANDBOX__MAX_KERNELS": "1",
            }
        )
        return env

    async def ready(self) -> bool:
        async with httpx.AsyncClient() as c:
            return (await c.get(f"{self.http}/healthz", timeout=1)).status_code == 200

    async def _create(self, http: httpx.AsyncClient, candidate: str) -> dict[str, Any]:
        r = await http.post("/api/sessions", json={"candidate": candidate}, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"POST /api/sessions: {r.status_code} {r.text[:300]}")
        return r.json()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.http, headers={"Authorization": f"Bearer {ADMIN}"})

    async def warm_up(self) -> None:
        # One session whose runtime takes the single kernel this server may start (the rest
        # report "unavailable" at once), so kernel start-up and its client libraries land in
        # the "before" RSS sample, not in the per-session figure.
        async with self._client() as http:
            s = await self._create(http, "warm-up")
        token = s["tokens"]["interviewer"]
        url = f"ws://127.0.0.1:{self.port}/ws/events/{s['id']}?token={token}"
        async with asyncio.timeout(75), websockets.connect(url, max_size=None) as ws:
            while True:
                msg = json.loads(await ws.recv())
                state = msg.get("kernel", {}).get("state") if msg.get("type") == "hello" else msg.get("state")
                if msg.get("type") in ("hello", "kernel.status") and state not in (None, "starting", "restarting"):
                    log(f"  clarify warm-up: kernel {state}")
                    break
        async with websockets.connect(f"{self.ws_url}/{s['id']}?token={token}", max_size=None) as ws:
            await asyncio.wait_for(ws.recv(), 10)  # sync step 1

    async def sessions(self, n: int, clients: int) -> list[dict[str, Any]]:
        sem = asyncio.Semaphore(8)
        peer_roles = ["interviewer", "observer"]

        async with self._client() as http:

            async def one(i: int) -> dict[str, Any]:
                async with sem:
                    s = await self._create(http, f"bench-{i}")
                tokens = [s["tokens"]["candidate"]] + [s["tokens"][peer_roles[k % 2]] for k in range(clients - 1)]
                return {"room": s["id"], "tokens": tokens}

            return list(await asyncio.gather(*(one(i) for i in range(n))))

    def helper_pids(self) -> list[int]:
        return [p for p in children(self.pid) if process_name(p).startswith("redis")]


class BaselineServer(Server):
    """pycrdt-websocket's ASGIServer under uvicorn (``bench/fanout/baseline_server.py``)."""

    name = "baseline"

    def command(self) -> list[str]:
        return [sys.executable, str(BASELINE), "--port", str(self.port)]

    async def ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
            return True

    async def warm_up(self) -> None:
        async with websockets.connect(f"{self.ws_url}/warm-up", max_size=None) as ws:
            await asyncio.wait_for(ws.recv(), 10)  # sync step 1

    async def sessions(self, n: int, clients: int) -> list[dict[str, Any]]:
        return [{"room": f"bench-{i}-{secrets.token_hex(4)}", "tokens": None} for i in range(n)]


# -- one measurement ------------------------------------------------------------------------


@dataclass
class Result:
    config: str
    server: str
    sessions: int
    clients: int
    loadavg: str = ""
    busy_before_pct: float = float("nan")  # machine CPU busy just before the run, % of one core
    connect_ms: float = 0.0
    rss_before_kib: int = 0
    rss_idle_kib: int = 0
    rss_end_kib: int = 0
    cpu_s: float = 0.0
    window_s: float = 0.0
    helper_cpu_s: float = 0.0
    helper_rss_kib: int = 0
    loadgen_cpu_s: float = 0.0
    machine_cpu_s: dict[str, float] = field(default_factory=dict)  # over the window, all cores
    lat: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def cpu_pct(self) -> float:
        return 100 * self.cpu_s / self.window_s if self.window_s else float("nan")

    @property
    def rss_per_session_kib(self) -> float:
        return (self.rss_idle_kib - self.rss_before_kib) / self.sessions


class LoadGen:
    """The Node load generator, driven over stdin/stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, cfg: dict[str, Any]) -> LoadGen:
        proc = await asyncio.create_subprocess_exec(
            "node", str(LOADGEN), cwd=FANOUT_DIR,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 24,
        )  # fmt: skip
        self = cls(proc)
        self.send(json.dumps(cfg))
        return self

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def expect(self, event: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"load generator exited (code {await self.proc.wait()}) before {event!r}")
                msg = json.loads(line)
                if msg.get("event") == "error":
                    raise RuntimeError(f"load generator: {msg.get('message')}")
                if msg.get("event") == event:
                    return msg

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                self.send("quit")
                await self.proc.stdin.drain()  # type: ignore[union-attr]
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def wait_quiet(max_wait: float, threshold_pct: float = QUIET_BUSY_PCT) -> float:
    """Wait (at most ``max_wait`` s) until the machine's busy CPU over 1 s is under the threshold
    (% of one core); returns the last 1 s busy figure. Other people's tests share this machine."""
    deadline = time.monotonic() + max_wait
    while True:
        m0, t0 = machine_cpu(), time.monotonic()
        await asyncio.sleep(1.0)
        busy = 100 * (machine_cpu()["busy"] - m0["busy"]) / (time.monotonic() - t0)
        if busy < threshold_pct or time.monotonic() >= deadline:
            return busy


async def measure(
    server: Server, sessions: int, clients: int, seconds: float, rate: float, quiet_wait: float = 0.0
) -> Result:
    busy = await wait_quiet(quiet_wait) if quiet_wait > 0 else float("nan")
    res = Result(f"{sessions}x{clients}", server.name, sessions, clients, loadavg=loadavg(), busy_before_pct=busy)
    log(f"[{res.config} {server.name}] load average {res.loadavg}, machine busy {busy:.0f}% of a core; starting")
    await server.start()
    await server.warm_up()
    await asyncio.sleep(1.0)
    res.rss_before_kib = rss_kib(server.pid)
    rooms = await server.sessions(sessions, clients)
    cfg = {
        "url": server.ws_url,
        "rate": rate,
        "seconds": seconds,
        "drain_s": DRAIN_S,
        "connect_concurrency": CONNECT_CONCURRENCY,
        "connect_spread_s": CONNECT_SPREAD_S,
        "connect_timeout_s": CONNECT_TIMEOUT_S,
        "clients": clients,
        "sessions": rooms,
    }
    gen = await LoadGen.start(cfg)
    try:
        synced = await gen.expect("synced", CONNECT_TIMEOUT_S + 10)
        res.connect_ms = synced["connect_ms"]
        log(f"  {synced['clients']} clients synced in {res.connect_ms / 1000:.1f} s")
        await asyncio.sleep(SETTLE_S)
        res.rss_idle_kib = rss_kib(server.pid)
        helpers = server.helper_pids()
        h0 = sum(cpu_seconds(p) for p in helpers)
        m0 = machine_cpu()
        c0, g0, t0 = cpu_seconds(server.pid), cpu_seconds(gen.proc.pid), time.monotonic()
        gen.send("go")
        done = await gen.expect("typing_done", seconds + 60)
        c1, g1, t1 = cpu_seconds(server.pid), cpu_seconds(gen.proc.pid), time.monotonic()
        m1 = machine_cpu()
        res.machine_cpu_s = {k: m1[k] - m0[k] for k in m0}
        res.helper_cpu_s = sum(cpu_seconds(p) for p in helpers) - h0
        res.cpu_s, res.loadgen_cpu_s, res.window_s = c1 - c0, g1 - g0, t1 - t0
        log(f"  typed {done['sent']} edits in {done['typing_ms'] / 1000:.1f} s")
        res.lat = await gen.expect("result", DRAIN_S + 30)
        res.rss_end_kib = rss_kib(server.pid)
        res.helper_rss_kib = sum(rss_kib(p) for p in helpers)
    finally:
        await gen.close()
    return res


# -- report ---------------------------------------------------------------------------------


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def table(results: list[Result]) -> str:
    rows = [
        "| config | server | p50 ms | p99 ms | delivered/expected | CPU % | RSS MB (before / idle / end) "
        "| RSS/idle session KiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.error:
            rows.append(f"| {r.config} | {r.server} | error: {r.error} | | | | | |")
            continue
        mb = "/".join(f"{x / 1024:.0f}" for x in (r.rss_before_kib, r.rss_idle_kib, r.rss_end_kib))
        rows.append(
            f"| {r.config} | {r.server} | {fmt_ms(r.lat.get('p50_ms'))} | {fmt_ms(r.lat.get('p99_ms'))} "
            f"| {r.lat.get('delivered')}/{r.lat.get('expected')} | {r.cpu_pct:.0f} | {mb} "
            f"| {r.rss_per_session_kib:.0f} |"
        )
    return "\n".join(rows)


def details(results: list[Result]) -> str:
    lines = []
    for r in results:
        if r.error:
            continue
        lat = r.lat
        extra = (
            f"p90 {fmt_ms(lat.get('p90_ms'))} / p99.9 {fmt_ms(lat.get('p999_ms'))} / max {fmt_ms(lat.get('max_ms'))}"
            f" / mean {fmt_ms(lat.get('mean_ms'))} ms; connect {r.connect_ms / 1000:.1f} s;"
            f" load generator CPU {100 * r.loadgen_cpu_s / r.window_s:.0f}%;"
            f" reconnects {lat.get('closes_after_sync')}; load avg at start {r.loadavg},"
            f" busy before {r.busy_before_pct:.0f}%"
        )
        if r.machine_cpu_s:
            m = {k: 100 * v / r.window_s for k, v in r.machine_cpu_s.items()}
            others = m["busy"] - 100 * (r.cpu_s + r.loadgen_cpu_s + r.helper_cpu_s) / r.window_s
            extra += (
                f"; machine (% of one core, {os.cpu_count()} cores): busy {m['busy']:.0f}, idle {m['idle']:.0f},"
                f" steal {m['steal']:.0f}, other processes ~{others:.0f}"
            )
        loop = lat.get("loadgen_loop_delay_ms") or {}
        if loop:
            extra += f"; load generator event-loop delay p99 {loop['p99']:.1f} / max {loop['max']:.1f} ms"
        by_s = lat.get("p99_by_second_ms") or []
        if by_s:
            extra += "; p99 by second of the run: " + " ".join("-" if v is None else f"{v:.0f}" for v in by_s)
        aw = lat.get("awareness_by_second") or []
        if aw:
            extra += "; remote awareness updates by second: " + " ".join(str(v) for v in aw)
        if r.server == "clarify":
            redis_pct = 100 * r.helper_cpu_s / r.window_s
            extra += f"; redis-server CPU {redis_pct:.0f}%, RSS {r.helper_rss_kib / 1024:.0f} MB"
        lines.append(f"- {r.config} {r.server}: {extra}")
    return "\n".join(lines)


def verdict(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        if r.server != "clarify" or r.error:
            continue
        p99 = r.lat.get("p99_ms") or float("inf")
        all_in = r.lat.get("delivered") == r.lat.get("expected")
        out.append(
            f"{r.config} clarify: p99 {p99:.1f} ms"
            f" (target <= {TARGET_P99_MS:.0f}: {'met' if p99 <= TARGET_P99_MS else 'MISSED'}),"
            f" every update delivered: {'yes' if all_in else 'NO'},"
            f" RSS/idle session {r.rss_per_session_kib:.0f} KiB (target <= {TARGET_RSS_KIB:.0f}:"
            f" {'met' if r.rss_per_session_kib <= TARGET_RSS_KIB else 'MISSED'})"
        )
    return out


# -- main -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, kernel_dir_existed: bool) -> list[Result]:
    results: list[Result] = []
    root = Path(tempfile.mkdtemp(prefix="clarify-fanout-"))
    try:
        for sessions in args.sessions:
            for cls in (ClarifyServer, BaselineServer):
                workdir = root / f"{cls.name}-{sessions}"
                workdir.mkdir()
                server = cls(workdir)
                try:
                    results.append(
                        await measure(server, sessions, args.clients, args.seconds, args.rate, args.quiet_wait)
                    )
                except Exception as exc:  # noqa: BLE001 -- one failed run does not lose the others
                    log(f"  {cls.name} {sessions}x{args.clients} failed: {exc}")
                    if server.proc is not None:
                        log(server.tail(1500))
                    config = f"{sessions}x{args.clients}"
                    results.append(Result(config, cls.name, sessions, args.clients, error=str(exc)))
                finally:
                    server.stop()
                await asyncio.sleep(2.0)  # let the machine settle between runs
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if not kernel_dir_existed:
            shutil.rmtree(KERNEL_DIR, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout_bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[100, 200], help="sessions per config (default: 100 200)"
    )
    parser.add_argument("--clients", type=int, default=3, help="clients per session, one of them typing (default 3)")
    parser.add_argument("--seconds", type=float, default=20.0, help="typing time after all clients synced (default 20)")
    parser.add_argument("--rate", type=float, default=5.0, help="edits per second per typist (default 5)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help=f"before each run, wait up to this long (s) for machine CPU busy < {QUIET_BUSY_PCT:.0f}%% (default 60)",
    )
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    args = parser.parse_args(argv)
    if args.clients < 2:
        parser.error("--clients must be at least 2 (a typist and a peer)")
    if not (FANOUT_DIR / "node_modules").exists():
        parser.error(f"run `npm ci` in {FANOUT_DIR} first")

    machine = machine_info()
    results = asyncio.run(run(args, KERNEL_DIR.exists()))
    print(
        f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, Node {machine['node']}; "
        f"load average at start {machine['loadavg_start']}"
    )
    print(
        f"each config: S sessions x {args.clients} clients, one typist per session at {args.rate:g} edits/s "
        f"for {args.seconds:g} s; latency = typist's insert to each peer's observe (one Node process)\n"
    )
    print(table(results))
    print()
    print(details(results))
    print()
    for line in verdict(results):
        print(line)
    if args.json:
        print(json.dumps({"machine": machine, "results": [r.__dict__ for r in results]}, indent=2, default=str))
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
