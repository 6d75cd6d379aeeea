"""Sandbox benchmark: Clarify's kernels against the naive ``docker run`` + TCP kernel.

Run as ``.venv/bin/python -m bench.sandbox_bench [--runs N] [--json]``. Both sides use the
same kernel image on the same machine in the same run; see ``docs/benchmarks.md``.

Clarify side: :class:`sandbox.Kernel` (locked-down container, ZMQ over ipc sockets in a
bind-mounted directory) and :class:`sandbox.KernelPool`.

Baseline: the same image started the way a tutorial would: ``containers.run`` on the default
bridge network, a TCP connection file, the five ports published to random host ports on
127.0.0.1, and jupyter_client's :class:`AsyncKernelClient`. There is no pool, so the
baseline's "warm acquire" is a cold start.

Every container this script starts carries the label ``clarify.bench=1`` and is removed at
the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import NotFound
from jupyter_client.asynchronous import AsyncKernelClient

from sandbox import DockerLauncher, Kernel, KernelPool, SandboxConfig
from sandbox.image import image_exists, image_tag
from sandbox.socketdir import KernelDir

BENCH_LABEL = "clarify.bench"
KERNEL_DIR = Path("/tmp/ck-bench")
SERVER_ID = "bench"
POOL_SIZE = 2
EXEC_WARMUP = 20
SETTLE_S = 2.0
# Fixed container-side ports of the baseline's TCP kernel.
BASELINE_PORTS = {
    "shell_port": 50001,
    "iopub_port": 50002,
    "stdin_port": 50003,
    "control_port": 50004,
    "hb_port": 50005,
}
BASELINE_CONN_DIR = "/bench-conn"
MIB = 1024 * 1024
CPU_NOTE = "SandboxConfig.cpus"


# -- helpers --------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    xs = sorted(samples)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def idle_memory_mb(client: docker.DockerClient, container_id: str) -> dict[str, float]:
    """A container's memory as ``docker stats`` reports it: usage minus inactive file cache."""
    stats = client.containers.get(container_id).stats(stream=False)
    mem = stats["memory_stats"]
    usage = mem["usage"]
    detail = mem.get("stats", {})
    # cgroup v1 reports total_inactive_file, v2 inactive_file; very old engines only cache.
    for key in ("total_inactive_file", "inactive_file", "cache"):
        if key in detail and detail[key] < usage:
            return {"mb": (usage - detail[key]) / MIB, "usage_mb": usage / MIB, "subtracted": key}
    return {"mb": usage / MIB, "usage_mb": usage / MIB, "subtracted": "none"}


def machine_info(client: docker.DockerClient, image: str) -> dict[str, Any]:
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
    version = client.version()
    info = client.info()
    return {
        "host": socket.gethostname(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "docker_version": version.get("Version", "?"),
        "cgroup_version": info.get("CgroupVersion", "?"),
        "kernel_image": image,
        "python": platform.python_version(),
    }


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- Clarify side ---------------------------------------------------------------------------


class BenchLauncher(DockerLauncher):
    """Clarify's launcher, unchanged except for the bench label (so cleanup finds everything)."""

    def _container_kwargs(self, kd: KernelDir, kernel_id: str) -> dict[str, Any]:
        kwargs = super()._container_kwargs(kd, kernel_id)
        kwargs["labels"] = {**kwargs["labels"], BENCH_LABEL: "1"}
        return kwargs


async def clarify_cold_start(launcher: DockerLauncher) -> float:
    t0 = time.perf_counter()
    kernel = await Kernel.start(launcher)
    elapsed = time.perf_counter() - t0
    await kernel.shutdown()
    return elapsed


async def clarify_warm_acquire(launcher: DockerLauncher, acquires: int) -> list[float]:
    samples: list[float] = []
    async with KernelPool(launcher, size=POOL_SIZE, max_kernels=POOL_SIZE + 2, cull_idle_s=0) as pool:
        for i in range(acquires):
            # Wait for the refill, so every acquire finds a full pool of ready kernels.
            deadline = time.monotonic() + launcher.config.start_timeout_s * 2
            while pool.stats()["ready"] < POOL_SIZE:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"warm pool did not refill: {pool.stats()}")
                await asyncio.sleep(0.02)
            t0 = time.perf_counter()
            kernel = await pool.acquire()
            samples.append(time.perf_counter() - t0)
            await pool.release(kernel)
            if (i + 1) % 10 == 0:
                log(f"  warm acquire {i + 1}/{acquires}")
    return samples


async def _clarify_run(kernel: Kernel) -> None:
    _events, result = await kernel.run("1+1")
    if result.status != "ok":
        raise RuntimeError(f"clarify kernel: 1+1 ended with {result.status}: {result.reason}")


# -- baseline side ----------------------------------------------------------------------------


@dataclass
class BaselineKernel:
    container: Any
    client: AsyncKernelClient
    conn_dir: Path
    started_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Baseline:
    """The same image run the naive way: bridge network, TCP ports, jupyter_client."""

    def __init__(self, docker_client: docker.DockerClient, image: str) -> None:
        self.docker = docker_client
        self.image = image
        self.tmp_root = Path(tempfile.mkdtemp(prefix="ck-bench-base-"))

    def _run_container(self, conn_dir: Path) -> Any:
        return self.docker.containers.run(
            self.image,
            entrypoint=[
                "/opt/kernel/bin/python",
                "-m",
                "ipykernel_launcher",
                "-f",
                f"{BASELINE_CONN_DIR}/connection.json",
            ],
            detach=True,
            labels={BENCH_LABEL: "1"},
            ports={f"{port}/tcp": ("127.0.0.1", None) for port in BASELINE_PORTS.values()},
            volumes={str(conn_dir): {"bind": BASELINE_CONN_DIR, "mode": "ro"}},
        )

    async def start(self) -> BaselineKernel:
        t0 = time.perf_counter()
        key = secrets.token_hex(32)
        conn_dir = Path(tempfile.mkdtemp(dir=self.tmp_root))
        os.chmod(conn_dir, 0o755)
        conn_file = conn_dir / "connection.json"
        conn_file.write_text(
            json.dumps(
                {
                    "transport": "tcp",
                    "ip": "0.0.0.0",
                    "key": key,
                    "signature_scheme": "hmac-sha256",
                    **BASELINE_PORTS,
                }
            )
        )
        os.chmod(conn_file, 0o644)  # the image's user is uid 1000
        container = await asyncio.to_thread(self._run_container, conn_dir)
        try:
            await asyncio.to_thread(container.reload)
            published = container.attrs["NetworkSettings"]["Ports"]
            host_ports = {name: int(published[f"{port}/tcp"][0]["HostPort"]) for name, port in BASELINE_PORTS.items()}
            client = AsyncKernelClient()
            client.load_connection_info(
                {"transport": "tcp", "ip": "127.0.0.1", "key": key, "signature_scheme": "hmac-sha256", **host_ports}
            )
            # No heartbeat channel: without a KernelManager, jupyter_client judges liveness by
            # heartbeat, and a kernel still booting misses the 1 s deadline and is declared dead.
            # (Clarify has no heartbeat either; it asks Docker.)
            client.start_channels(hb=False)
            try:
                await client.wait_for_ready(timeout=30)
            except BaseException:
                client.stop_channels()
                raise
        except BaseException:
            await asyncio.to_thread(_remove_quietly, container)
            shutil.rmtree(conn_dir, ignore_errors=True)
            raise
        bk = BaselineKernel(container=container, client=client, conn_dir=conn_dir)
        bk.started_s = time.perf_counter() - t0
        return bk

    async def stop(self, bk: BaselineKernel) -> None:
        bk.client.stop_channels()
        await asyncio.to_thread(_remove_quietly, bk.container)
        shutil.rmtree(bk.conn_dir, ignore_errors=True)

    async def cold_start(self) -> float:
        bk = await self.start()
        await self.stop(bk)
        return bk.started_s

    @staticmethod
    async def run(bk: BaselineKernel) -> None:
        reply = await bk.client.execute_interactive("1+1", timeout=30, output_hook=_ignore)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"baseline kernel: 1+1 ended with {reply['content']}")

    def close(self) -> None:
        shutil.rmtree(self.tmp_root, ignore_errors=True)


def _ignore(_msg: dict[str, Any]) -> None:
    pass


def _remove_quietly(container: Any) -> None:
    with contextlib.suppress(NotFound):
        container.remove(force=True, v=True)


def remove_bench_containers(client: docker.DockerClient) -> int:
    containers = client.containers.list(all=True, filters={"label": f"{BENCH_LABEL}=1"})
    for c in containers:
        _remove_quietly(c)
    return len(containers)


def cpu_throttling(container_id: str) -> dict[str, int] | None:
    """CFS throttling counters of a container (cgroup v1 or v2), or None when unreadable."""
    for path in (
        Path(f"/sys/fs/cgroup/cpu/docker/{container_id}/cpu.stat"),
        Path(f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}/cpu.stat"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat"),
    ):
        with contextlib.suppress(OSError, ValueError):
            pairs = (line.split() for line in path.read_text().splitlines())
            stat = {k: int(v) for k, v in pairs}
            return {"nr_periods": stat.get("nr_periods", 0), "nr_throttled": stat.get("nr_throttled", 0)}
    return None


async def exec_and_memory(launcher: DockerLauncher, baseline: Baseline, runs: int) -> dict[str, Any]:
    """Execute round trips on one kernel of each side, alternating, then idle memory of each.

    Alternating run by run means a burst of load from elsewhere on the machine lands on both
    sides rather than on whichever happened to be measured at the time.
    """
    kernel = await Kernel.start(launcher)
    try:
        bk = await baseline.start()
        try:
            for _ in range(EXEC_WARMUP):
                await _clarify_run(kernel)
                await Baseline.run(bk)
            await asyncio.sleep(SETTLE_S)
            c_mem, b_mem = await asyncio.gather(
                asyncio.to_thread(idle_memory_mb, launcher.client, kernel.handle.container_id),
                asyncio.to_thread(idle_memory_mb, baseline.docker, bk.container.id),
            )
            throttled_before = cpu_throttling(kernel.handle.container_id)
            c_exec: list[float] = []
            b_exec: list[float] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                await _clarify_run(kernel)
                c_exec.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await Baseline.run(bk)
                b_exec.append(time.perf_counter() - t0)
            throttled_after = cpu_throttling(kernel.handle.container_id)
        finally:
            await baseline.stop(bk)
    finally:
        await kernel.shutdown()
    throttling = None
    if throttled_before and throttled_after:
        throttling = {k: throttled_after[k] - throttled_before[k] for k in throttled_before}
    return {
        "clarify_exec": c_exec,
        "baseline_exec": b_exec,
        "clarify_mem": c_mem,
        "baseline_mem": b_mem,
        "kernel_info": kernel.info,
        "clarify_cpu_throttling": throttling,
    }


# -- the benchmark -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    target: float
    clarify: float
    baseline: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.baseline / self.clarify if self.clarify else float("inf")

    @property
    def meets_target(self) -> bool:
        return self.clarify <= self.target


async def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    tag = os.environ.get("CLARIFY_SANDBOX__IMAGE") or image_tag()
    client = docker.from_env()
    if not image_exists(client, tag):
        raise SystemExit(f"kernel image {tag} is missing: run `clarify sandbox build`")
    machine = machine_info(client, tag)
    config = SandboxConfig(image=tag, kernel_dir=KERNEL_DIR, server_id=SERVER_ID)
    launcher = BenchLauncher(config, client=client)
    baseline = Baseline(client, tag)
    results: dict[str, Any] = {"machine": machine, "params": vars(args) | {"pool_size": POOL_SIZE}}
    wall0 = time.perf_counter()
    try:
        await launcher.reap_orphans()
        remove_bench_containers(client)

        # Cold starts, alternating sides so a noisy neighbour hits both alike. One untimed
        # start each first: the first container after an idle spell pays for page cache.
        log(f"cold start: {args.runs} runs each (alternating clarify / baseline)")
        await clarify_cold_start(launcher)
        await baseline.cold_start()
        c_cold: list[float] = []
        b_cold: list[float] = []
        for _ in range(args.runs):
            c_cold.append(await clarify_cold_start(launcher))
            b_cold.append(await baseline.cold_start())

        log(f"execute round trip: {args.exec_runs} runs each, alternating, after {EXEC_WARMUP} warm-up runs")
        ex = await exec_and_memory(launcher, baseline, args.exec_runs)
        c_exec, b_exec, c_mem, b_mem = ex["clarify_exec"], ex["baseline_exec"], ex["clarify_mem"], ex["baseline_mem"]
        kernel_info = ex["kernel_info"]
        results["clarify_cpu_throttling_during_exec"] = ex["clarify_cpu_throttling"]

        log(f"warm-pool acquire: {args.acquires} acquires (pool size {POOL_SIZE}, refilled between acquires)")
        c_acq = await clarify_warm_acquire(launcher, args.acquires)
        # No pool in the baseline: getting a kernel for a session is a cold start.
        b_acq = b_cold

        cs, bs = summary(c_cold), summary(b_cold)
        ce, be = summary(c_exec), summary(b_exec)
        ca, ba = summary(c_acq), summary(b_acq)
        metrics = [
            Metric(
                "warm_acquire_p50", "warm acquire p50", "ms", 50, ca["p50_ms"], ba["p50_ms"], "baseline: cold start"
            ),
            Metric(
                "warm_acquire_p99", "warm acquire p99", "ms", 50, ca["p99_ms"], ba["p99_ms"], "baseline: cold start"
            ),
            Metric("cold_start_p50", "cold start p50", "ms", 1200, cs["p50_ms"], bs["p50_ms"]),
            Metric("cold_start_p95", "cold start p95", "ms", float("inf"), cs["p95_ms"], bs["p95_ms"]),
            Metric("exec_rtt_p50", "execute 1+1 p50", "ms", 10, ce["p50_ms"], be["p50_ms"]),
            Metric("exec_rtt_p99", "execute 1+1 p99", "ms", float("inf"), ce["p99_ms"], be["p99_ms"]),
            Metric("idle_memory", "idle kernel memory", "MB", 120, c_mem["mb"], b_mem["mb"]),
        ]
        results["metrics"] = [
            {
                "key": m.key,
                "label": m.label,
                "unit": m.unit,
                "clarify": round(m.clarify, 3),
                "baseline": round(m.baseline, 3),
                "ratio_baseline_over_clarify": round(m.ratio, 2),
                "target": None if m.target == float("inf") else m.target,
                "meets_target": None if m.target == float("inf") else m.meets_target,
                "note": m.note,
            }
            for m in metrics
        ]
        results["samples"] = {
            "clarify": {"cold_start": cs, "warm_acquire": ca, "exec_rtt": ce, "idle_memory": c_mem},
            "baseline": {"cold_start": bs, "warm_acquire": ba, "exec_rtt": be, "idle_memory": b_mem},
        }
        results["kernel"] = {
            "implementation": kernel_info.get("implementation"),
            "implementation_version": kernel_info.get("implementation_version"),
            "protocol_version": kernel_info.get("protocol_version"),
        }
        results["wall_s"] = round(time.perf_counter() - wall0, 1)
        results["_metrics"] = metrics
        return results
    finally:
        with contextlib.suppress(Exception):
            await launcher.reap_orphans()
        with contextlib.suppress(Exception):
            left = remove_bench_containers(client)
            if left:
                log(f"removed {left} leftover bench containers")
        baseline.close()
        shutil.rmtree(KERNEL_DIR, ignore_errors=True)
        client.close()


def _fmt(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:.1f} MB"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def render_table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "Clarify sandbox benchmark",
        f"machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}",
        f"docker:  {m['docker_version']} (cgroup v{m['cgroup_version']})",
        f"image:   {m['kernel_image']}",
        (
            f"runs:    cold start {results['params']['runs']} each, warm acquire {results['params']['acquires']} "
            f"(pool {POOL_SIZE}), execute {results['params']['exec_runs']} each after {EXEC_WARMUP} warm-up; "
            f"wall {results['wall_s']} s"
        ),
        "",
    ]
    rows = [("metric", "clarify", "baseline", "ratio (b/c)", "target")]
    for metric in results["_metrics"]:
        target = "-" if metric.target == float("inf") else f"<= {_fmt(metric.target, metric.unit)}"
        if metric.target != float("inf"):
            target += "  ok" if metric.meets_target else "  MISSED"
        baseline = _fmt(metric.baseline, metric.unit) + (f" ({metric.note})" if metric.note else "")
        rows.append((metric.label, _fmt(metric.clarify, metric.unit), baseline, f"{metric.ratio:.1f}x", target))
    throttling = results.get("clarify_cpu_throttling_during_exec")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    if throttling is not None:
        lines.append("")
        lines.append(
            f"clarify kernel CPU quota ({CPU_NOTE}): throttled in {throttling['nr_throttled']} of "
            f"{throttling['nr_periods']} CFS periods during the execute runs"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="cold starts per side (default 10)")
    parser.add_argument("--acquires", type=int, default=30, help="warm-pool acquires (default 30)")
    parser.add_argument("--exec-runs", type=int, default=200, help="execute round trips per side (default 200)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if min(args.runs, args.acquires, args.exec_runs) < 1:
        parser.error("--runs, --acquires and --exec-runs must be at least 1")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    results = asyncio.run(run_benchmark(args))
    if args.json:
        out = {k: v for k, v in results.items() if not k.startswith("_")}
        print(json.dumps(out, indent=2))
    else:
        print(render_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
