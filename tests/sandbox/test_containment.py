"""Hostile code on a real kernel container: every limit holds, the failure is reported, the
host and a neighbouring kernel are unaffected, and the kernel works again afterwards.

Each resource test shows three things: (1) a second kernel and the host still work while (or
right after) one kernel misbehaves, (2) the offending run ends with a clear status and reason,
(3) a fresh run succeeds (after a restart where the kernel died).

Network probes only ever target the container's own empty network namespace (documentation
addresses, the Docker bridge gateway, loopback): nothing leaves the container.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import sys

import docker
import pytest

from sandbox import ErrorOutput, ExecuteResult, Kernel, KernelStatus, OutputTruncated, Stream
from tests.conftest import KernelFactory

MiB = 1024 * 1024


def text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, Stream))


def value(events: list) -> str:
    [out] = [e for e in events if isinstance(e, ExecuteResult)]
    return out.data["text/plain"]


def printed_json(events: list) -> dict:
    """The last stdout line of a run that ends with ``print(json.dumps(...))``."""
    return json.loads(text(events).strip().splitlines()[-1])


def host_rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def assert_host_ok() -> None:
    """The host can still start a process and run Python."""
    proc = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"


async def assert_neighbour_ok(neighbour: Kernel) -> None:
    """Another session's kernel still answers, and promptly enough to be within its own limit."""
    events, result = await neighbour.run("1 + 1", timeout=20)
    assert result.status == "ok", result
    assert value(events) == "2"


async def assert_fresh_run_ok(kernel: Kernel) -> None:
    events, result = await kernel.run("'fresh' + 'run'", timeout=20)
    assert result.status == "ok", result
    assert value(events) == "'freshrun'"


async def container_pids(docker_client: docker.DockerClient, kernel: Kernel) -> dict:
    stats = await asyncio.to_thread(docker_client.api.stats, kernel.handle.container_id, stream=False)
    return stats["pids_stats"]


# -- processes and threads ----------------------------------------------------------------


async def test_fork_bomb_is_held_by_the_pids_limit(
    make_kernel: KernelFactory, docker_client: docker.DockerClient
) -> None:
    # Default memory: with 256 MB, ~128 forked copies of the kernel touching their pages made the
    # OOM killer reap children, which made the process count after the bomb vary run to run.
    kernel = await make_kernel()
    neighbour = await make_kernel()
    limit = kernel.config.pids_limit

    # The shell returns at once (`f|f&` backgrounds), leaving the bomb to run (or fizzle out,
    # once forks fail) in the container; whatever it does, it stays under the limit.
    bomb = "import subprocess\nsubprocess.run(['sh', '-c', 'f(){ f|f& }; f'])"
    _, result = await kernel.run(bomb, timeout=15)
    assert result.status in ("ok", "timed_out"), result
    pids = await container_pids(docker_client, kernel)
    assert 0 < pids["current"] <= limit, pids

    # A bomb whose children stay alive fills the limit, and the kernel is told it cannot fork.
    # (From a fresh start: what is left of the shell bomb would otherwise hold part of the limit.)
    await kernel.restart()
    code = (
        "import os, time\n"
        "children = []\n"
        "try:\n"
        "    while True:\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "finally:\n"
        "    print('forked', len(children))\n"
    )
    events, result = await kernel.run(code, timeout=20)
    assert result.status == "error", result
    assert "Resource temporarily unavailable" in (result.reason or ""), result
    assert result.reason.startswith("BlockingIOError"), result
    forked = int(re.search(r"forked (\d+)", text(events)).group(1))
    assert limit - 20 <= forked < limit, forked  # the pids limit, not anything else, stopped it
    # Never above the limit; children still alive (they sleep 60 s) unless the kernel reaped them.
    pids = await container_pids(docker_client, kernel)
    assert pids["limit"] == limit and 0 < pids["current"] <= limit, pids

    # The neighbour and the host are unaffected while the bomb still runs.
    await assert_neighbour_ok(neighbour)
    assert_host_ok()

    await kernel.restart()
    pids = await container_pids(docker_client, kernel)
    assert pids["current"] < 20, f"the restart should have killed every bomb process: {pids}"
    await assert_fresh_run_ok(kernel)


async def test_thread_bomb_is_reported(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel(memory_mb=512)
    neighbour = await make_kernel()
    code = (
        "import threading\n"
        "stop = threading.Event()\n"
        "threads = []\n"
        "try:\n"
        "    while True:\n"
        "        t = threading.Thread(target=stop.wait)\n"
        "        t.start()\n"
        "        threads.append(t)\n"
        "finally:\n"
        "    print('started', len(threads))\n"
        "    stop.set()\n"
        "    for t in threads:\n"
        "        t.join()\n"
    )
    task = asyncio.create_task(kernel.run(code, timeout=20))
    await assert_neighbour_ok(neighbour)
    assert_host_ok()
    events, result = await task
    assert result.status == "error", result
    assert "can't start new thread" in (result.reason or ""), result
    assert result.reason.startswith("RuntimeError"), result
    started = int(text(events).split("started")[1].split()[0])
    assert 0 < started <= kernel.config.pids_limit
    # No restart needed: the threads were released and the kernel carries on.
    assert kernel.state == "idle"
    await assert_fresh_run_ok(kernel)


# -- memory -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("x = bytearray(10 * 1024**3)", id="bytearray"),
        pytest.param("import numpy as np\nx = np.ones(10 * 1024**3, dtype=np.uint8)", id="numpy"),
    ],
)
async def test_memory_bomb_10_gb(make_kernel: KernelFactory, code: str) -> None:
    kernel = await make_kernel(memory_mb=256)
    neighbour = await make_kernel()
    await kernel.run("kept = 1")
    task = asyncio.create_task(kernel.run(code, timeout=20))
    await assert_neighbour_ok(neighbour)
    events, result = await task
    assert_host_ok()
    if result.status == "error":
        # The allocation was refused outright: the kernel lives on.
        assert "MemoryError" in (result.reason or ""), result
        await assert_fresh_run_ok(kernel)
        return
    assert result.status == "killed", result
    assert "out of memory" in (result.reason or ""), result
    assert "256 MB" in (result.reason or ""), result
    assert any(isinstance(e, KernelStatus) and e.state == "dead" for e in events)
    assert kernel.state == "dead"
    await kernel.restart()
    _, result = await kernel.run("kept", timeout=20)
    assert result.status == "error" and "NameError" in (result.reason or "")  # state is gone
    await assert_fresh_run_ok(kernel)
    await assert_neighbour_ok(neighbour)


async def test_slow_memory_growth_is_killed(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel(memory_mb=256)
    neighbour = await make_kernel()
    code = "import time\nchunks = []\nwhile True:\n    chunks.append(b'x' * (50 * 1024 * 1024))\n    time.sleep(0.05)"
    task = asyncio.create_task(kernel.run(code, timeout=20))
    await assert_neighbour_ok(neighbour)
    events, result = await task
    assert result.status == "killed", result
    assert "out of memory" in (result.reason or ""), result
    assert any(isinstance(e, KernelStatus) and e.state == "dead" for e in events)
    assert_host_ok()
    await kernel.restart()
    await assert_fresh_run_ok(kernel)
    await assert_neighbour_ok(neighbour)


# -- CPU ----------------------------------------------------------------------------------


async def test_cpu_spin_is_stopped_by_the_time_limit(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel()
    neighbour = await make_kernel()
    task = asyncio.create_task(kernel.run("n = 0\nwhile True:\n    n += 1", timeout=3))
    # The spinning kernel has one core at most: the neighbour still runs meanwhile.
    await assert_neighbour_ok(neighbour)
    assert_host_ok()
    events, result = await task
    assert result.status == "timed_out", result
    assert "3 s time limit" in (result.reason or ""), result
    assert not result.restarted
    assert any(isinstance(e, ErrorOutput) and e.ename == "KeyboardInterrupt" for e in events)
    events, result = await kernel.run("n > 0", timeout=20)  # state survives an interrupt
    assert result.status == "ok" and value(events) == "True"


# -- output -------------------------------------------------------------------------------


async def test_one_gigabyte_print_does_not_reach_the_host(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel()
    neighbour = await make_kernel()
    cap = kernel.config.output_cap_bytes
    rss_before = host_rss_kb()
    task = asyncio.create_task(kernel.run("print('x' * 10**9)", timeout=20))
    await assert_neighbour_ok(neighbour)
    events, result = await task
    rss_growth_mb = (host_rss_kb() - rss_before) / 1024
    assert rss_growth_mb < 200, f"host RSS grew by {rss_growth_mb:.0f} MB"
    assert len(text(events).encode()) <= cap
    if result.status == "killed":
        assert "out of memory" in (result.reason or ""), result
        await kernel.restart()
    else:
        assert result.status == "ok", result
        assert result.dropped_bytes > 0
        assert any(isinstance(e, OutputTruncated) for e in events)
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(3 * 10**6, id="3MB-over-the-cap"),
        pytest.param(10**7, id="10MB-over-the-max-message-size"),
    ],
)
async def test_single_huge_print_is_truncated(make_kernel: KernelFactory, size: int) -> None:
    """One write larger than the output cap is dropped with a notice; the run itself is fine.

    Over ``max_message_bytes`` (8 MiB) the stream message is larger than the host accepts,
    and the run must still end normally rather than hang until the time limit.
    """
    kernel = await make_kernel()
    neighbour = await make_kernel()
    cap = kernel.config.output_cap_bytes
    rss_before = host_rss_kb()
    events, result = await kernel.run(f"print('x' * {size})\n'done'", timeout=10)
    assert (host_rss_kb() - rss_before) / 1024 < 200
    await assert_neighbour_ok(neighbour)
    assert_host_ok()
    assert result.status == "ok", result
    assert not result.restarted
    assert result.dropped_bytes > 0, result
    assert any(isinstance(e, OutputTruncated) for e in events)
    assert len(text(events).encode()) <= cap
    await assert_fresh_run_ok(kernel)


async def test_a_million_tiny_prints_are_capped(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel()
    neighbour = await make_kernel()
    cap = kernel.config.output_cap_bytes
    rss_before = host_rss_kb()
    task = asyncio.create_task(kernel.run("for i in range(10**6):\n    print(i)", timeout=30))
    await assert_neighbour_ok(neighbour)
    events, result = await task
    assert (host_rss_kb() - rss_before) / 1024 < 200
    assert result.status == "ok", result
    assert result.dropped_bytes > 0, result
    assert f"{result.dropped_bytes} bytes of output dropped" in (result.reason or "")
    notices = [e for e in events if isinstance(e, OutputTruncated)]
    assert notices and all("output truncated" in n.reason for n in notices)
    delivered = text(events)
    assert 0 < len(delivered.encode()) <= cap
    assert delivered.startswith("0\n1\n2\n")
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


# -- file systems -------------------------------------------------------------------------

_FILL = """
import errno, json, os
def fill(directory, files=4, mb=30):
    errors = []
    for i in range(files):
        try:
            with open(os.path.join(directory, f'fill{i}'), 'wb') as f:
                for _ in range(mb):
                    f.write(b'\\0' * 1024 * 1024)
        except OSError as e:
            errors.append(os.strerror(e.errno))
    return errors
"""


@pytest.mark.parametrize("directory", ["/tmp", "~", "/dev/shm"])
async def test_filling_a_tmpfs_hits_its_size_limit(make_kernel: KernelFactory, directory: str) -> None:
    kernel = await make_kernel()
    neighbour = await make_kernel()
    code = _FILL + f"print(json.dumps(fill(os.path.expanduser({directory!r}))))"
    events, result = await kernel.run(code, timeout=20)
    assert result.status == "ok", result
    assert "No space left on device" in printed_json(events)
    # A single file beyond RLIMIT_FSIZE is refused even with room to spare (after a restart
    # the tmpfs is fresh and empty).
    await kernel.restart()
    big = kernel.config.fsize_mb + 8
    code = _FILL + f"print(json.dumps(fill(os.path.expanduser({directory!r}), files=1, mb={big})))"
    events, result = await kernel.run(code, timeout=20)
    assert result.status == "ok", result
    assert printed_json(events) == ["File too large"]
    # Filling it again errors out clearly when raised rather than caught.
    code = _FILL.replace("errors.append(os.strerror(e.errno))", "raise") + f"fill(os.path.expanduser({directory!r}))"
    _, result = await kernel.run(code, timeout=20)
    assert result.status == "error", result
    assert "No space left on device" in (result.reason or "") or "File too large" in (result.reason or "")
    # The neighbour's tmpfs is its own: it can still write 30 MB there.
    events, result = await neighbour.run(
        _FILL + f"print(json.dumps(fill(os.path.expanduser({directory!r}), files=1)))", timeout=20
    )
    assert result.status == "ok" and printed_json(events) == []
    assert_host_ok()
    await kernel.restart()
    events, result = await kernel.run(
        _FILL + f"print(json.dumps(fill(os.path.expanduser({directory!r}), files=1)))", timeout=20
    )
    assert result.status == "ok" and printed_json(events) == [], "a restart gives a fresh, empty tmpfs"


_READ_ONLY_PATHS = ["/x", "/usr/x", "/usr/local/bin/python3", "/opt/kernel/bin/x", "/etc/passwd", "/var/tmp/x"]


async def test_root_filesystem_is_read_only(kernel: Kernel) -> None:
    for path in _READ_ONLY_PATHS:
        _, result = await kernel.run(f"open({path!r}, 'a').write('pwned')", timeout=20)
        assert result.status == "error", (path, result)
        # A new file: EROFS. An existing root-owned file may fail its permission check first.
        allowed = ["Read-only file system"] + (["Permission denied"] if path == "/etc/passwd" else [])
        assert any(a in (result.reason or "") for a in allowed), (path, result)
    # Nor can a directory be made anywhere outside the tmpfs mounts.
    _, result = await kernel.run("import os\nos.makedirs('/usr/lib/pwned')", timeout=20)
    assert result.status == "error" and "Read-only file system" in (result.reason or ""), result
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


async def test_too_many_open_files(make_kernel: KernelFactory) -> None:
    kernel = await make_kernel()
    neighbour = await make_kernel()
    # The descriptors stay open after the error: the kernel must still report it.
    events, result = await kernel.run("fds = []\nwhile True:\n    fds.append(open('/dev/null'))", timeout=20)
    assert result.status == "error", result
    assert "Too many open files" in (result.reason or ""), result
    await assert_neighbour_ok(neighbour)
    assert_host_ok()
    # No restart: closing them is enough.
    events, result = await kernel.run("n = len(fds)\nfor f in fds:\n    f.close()\ndel fds\nn", timeout=20)
    assert result.status == "ok", result
    assert 0 < int(value(events)) <= kernel.config.nofile
    await assert_fresh_run_ok(kernel)


# -- network ------------------------------------------------------------------------------

_NET_PROBE = """
import json, os, socket
out = {'interfaces': sorted(os.listdir('/sys/class/net'))}
for host, port in [('192.0.2.1', 80), ('172.17.0.1', 2375), ('127.0.0.1', 6379)]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        out[host] = 'CONNECTED'
    except OSError as e:
        out[host] = [type(e).__name__, e.errno]
    finally:
        s.close()
try:
    out['dns'] = socket.getaddrinfo('example.com', 80)
except OSError as e:
    out['dns'] = [type(e).__name__, str(e)]
print(json.dumps(out, default=str))
"""


async def test_no_network_egress(kernel: Kernel, docker_client: docker.DockerClient) -> None:
    import errno

    events, result = await kernel.run(_NET_PROBE, timeout=30)
    assert result.status == "ok", result
    out = printed_json(events)
    assert out["interfaces"] == ["lo"]
    assert out["192.0.2.1"] == ["OSError", errno.ENETUNREACH]
    assert out["172.17.0.1"] == ["OSError", errno.ENETUNREACH]  # the Docker bridge gateway
    # The container's own loopback: nothing listens, so the host's services are not there.
    assert out["127.0.0.1"] == ["ConnectionRefusedError", errno.ECONNREFUSED]
    assert out["dns"][0] == "gaierror", out["dns"]
    attrs = await asyncio.to_thread(docker_client.api.inspect_container, kernel.handle.container_id)
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


# -- secrets and privileges ---------------------------------------------------------------

_SECRET_PROBE = """
import json, os
needles = ['host-secret-', 'CLARIFY_ADMIN_TOKEN', 'docker.sock']
hits, read, denied = [], 0, 0
def scan(path):
    global read, denied
    try:
        with open(path, 'rb') as f:
            data = f.read(1 << 20)
    except OSError:
        denied += 1
        return
    read += 1
    for n in needles:
        if n.encode() in data:
            hits.append([path, n])
for p in ['/proc/self/environ', '/proc/1/environ', '/proc/1/cmdline', '/proc/self/cmdline',
          '/proc/self/mountinfo', '/proc/self/cgroup', '/proc/self/status', '/etc/hosts',
          '/etc/resolv.conf', '/etc/hostname', '/run/clarify/conn/connection.json']:
    scan(p)
for root, dirs, files in os.walk('/sys/fs/cgroup'):
    for name in files:
        scan(os.path.join(root, name))
for k, v in os.environ.items():
    for n in needles:
        if n in k or n in v:
            hits.append(['os.environ', k])
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
print(json.dumps({
    'hits': hits, 'read': read, 'denied': denied, 'uid': os.getuid(), 'euid': os.geteuid(),
    'gid': os.getgid(), 'groups': os.getgroups(), 'clarify_env': [k for k in os.environ if 'CLARIFY' in k],
    'status': {k: v.strip() for k, v in status.items()},
}))
"""


async def test_no_host_secrets_and_no_privileges(
    make_kernel: KernelFactory, monkeypatch: pytest.MonkeyPatch, docker_client: docker.DockerClient
) -> None:
    secret = f"host-secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("CLARIFY_ADMIN_TOKEN", secret)
    kernel = await make_kernel()
    events, result = await kernel.run(_SECRET_PROBE, timeout=30)
    assert result.status == "ok", result
    assert secret not in text(events)
    out = printed_json(events)
    assert out["hits"] == []
    assert out["read"] > 20, "the probe should have read the cgroup files"
    assert out["clarify_env"] == []
    assert out["uid"] == out["euid"] == 1000
    assert out["gid"] == 1000
    assert 0 not in out["groups"]
    status = out["status"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap], 16) == 0, f"{cap} = {status[cap]}"
    assert status["NoNewPrivs"] == "1"
    # Docker's own view agrees: no host environment was passed in.
    attrs = await asyncio.to_thread(docker_client.api.inspect_container, kernel.handle.container_id)
    assert not any(secret in e or "CLARIFY" in e for e in attrs["Config"]["Env"] or [])
    assert attrs["HostConfig"]["Privileged"] is False
    assert not any("docker.sock" in (m.get("Source") or "") for m in attrs["Mounts"])
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


_DOCKER_SOCK_PROBE = """
import json, os
direct = {p: os.path.lexists(p) for p in ['/var/run/docker.sock', '/run/docker.sock', '/var/run/docker',
                                          '/run/containerd/containerd.sock']}
found, dirs_seen = [], 0
for root, dirs, files in os.walk('/'):
    if root == '/':
        dirs[:] = [d for d in dirs if d not in ('proc', 'sys')]
    dirs_seen += 1
    found += [os.path.join(root, n) for n in files + dirs if n in ('docker.sock', 'containerd.sock')]
    if dirs_seen > 200000:
        break
print(json.dumps({'direct': direct, 'found': found, 'dirs_seen': dirs_seen}))
"""


async def test_docker_socket_is_not_reachable(kernel: Kernel) -> None:
    events, result = await kernel.run(_DOCKER_SOCK_PROBE, timeout=30)
    assert result.status == "ok", result
    out = printed_json(events)
    assert not any(out["direct"].values()), out["direct"]
    assert out["found"] == []
    assert out["dirs_seen"] > 100, "the walk should have covered the image"
    assert_host_ok()
    await assert_fresh_run_ok(kernel)


# -- other kernels ------------------------------------------------------------------------


async def test_kernel_cannot_see_or_signal_another_kernel(
    make_kernel: KernelFactory, docker_client: docker.DockerClient
) -> None:
    ka = await make_kernel()
    kb = await make_kernel()
    b_attrs = await asyncio.to_thread(docker_client.api.inspect_container, kb.handle.container_id)
    b_pid = b_attrs["State"]["Pid"]
    assert b_pid > 0
    b_sock = str(kb.handle.kdir.sock)
    b_root = str(kb.handle.kdir.root)
    code = f"""
import json, os, signal
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
try:
    os.kill({b_pid}, 0)
    kill = 'delivered'
except OSError as e:
    kill = type(e).__name__
try:
    os.kill({b_pid}, signal.SIGKILL)
    kill9 = 'delivered'
except OSError as e:
    kill9 = type(e).__name__
print(json.dumps({{'pids': pids, 'kill': kill, 'kill9': kill9,
                   'sock': os.path.lexists({b_sock!r}), 'root': os.path.lexists({b_root!r}),
                   'hostname': os.uname().nodename}}))
"""
    events, result = await ka.run(code, timeout=20)
    assert result.status == "ok", result
    out = printed_json(events)
    assert len(out["pids"]) < 10, out["pids"]  # its own PID namespace: tini, the kernel, a few children
    assert 1 in out["pids"]
    assert b_pid not in out["pids"]
    assert out["kill"] in ("ProcessLookupError", "PermissionError")
    assert out["kill9"] in ("ProcessLookupError", "PermissionError")
    assert out["sock"] is False and out["root"] is False
    # B is untouched.
    assert await kb.check_alive()
    await assert_neighbour_ok(kb)
    assert_host_ok()
    await assert_fresh_run_ok(ka)
