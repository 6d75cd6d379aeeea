"""Replay benchmark: seeking in long recordings, on the server and in the browser.

Run as ``.venv/bin/python -m bench.replay_bench [--sizes 3000 12000 48000] [--rate 200]
[--seeks 60] [--scrubs 60] [--json]``. Needs the kernel image (sessions take a kernel from the
warm pool), ``redis-server``, Node with ``tests/yclient`` installed, Chromium at
``/usr/bin/chromium`` and a built ``frontend/dist``; see ``docs/benchmarks.md``.

In one run on one machine:

1. start a redis-server and ``clarify serve`` on it (document-socket rate limits raised so one
   typist may send ``--rate`` keystrokes a second);
2. for each size N: create a session and type N keystrokes through the public websocket with a
   stock Yjs ``WebsocketProvider`` (``tests/yclient``), mostly appends with newlines and some
   backspaces, ``--rate`` a second;
3. server seeks at ``--seeks`` random moments, side by side in the same loop: the full-scan
   implementation this replaces (kept below as :func:`full_scan_document`, read the stream from
   the start up to t) and the indexed one (:meth:`Recorder.read_from_checkpoint`), both
   in-process against the server's Redis and checked to give the same text; then
   ``GET /document?at=`` end to end over HTTP;
4. recording size (Redis memory, JSON lines, gzip on the wire) and the server memory a replay
   costs (peak RSS of the server process over one ``/recording`` download and over the seeks,
   measured by resetting the peak with ``/proc/<pid>/clear_refs``), and in this process the
   Python heap peak (tracemalloc) of building the whole response as before against streaming it;
5. in Chromium: time until the replay page is ready to scrub, then ``--scrubs`` random scrubs
   timed from the input event to the editor showing that moment (DOM updated and laid out),
   and the frame intervals of 32x playback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from server.document import text_at
from server.events import Event
from server.recording import Recorder, stream_key
from tests.server.harness import ADMIN, RedisProcess, ServerProcess, YClient

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
KERNEL_DIR = Path("/tmp/ck-replay")
SERVER_ID = "bench-replay"

SCRUB_JS = """async (moments) => {
  const scrub = document.getElementById("scrub");
  const code = document.getElementById("code");
  const out = [];
  for (const to of moments) {
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const t0 = performance.now();
    scrub.value = String(to);
    scrub.dispatchEvent(new Event("input", { bubbles: true }));
    void code.offsetHeight; // layout: the editor shows the moment
    const t1 = performance.now();
    if (Number(code.dataset.at) !== to) throw new Error(`editor at ${code.dataset.at}, wanted ${to}`);
    out.push(t1 - t0);
  }
  return out;
}"""

PLAY_JS = """async () => {
  const frames = [];
  let last = performance.now();
  document.getElementById("speed").value = "32";
  document.getElementById("speed").dispatchEvent(new Event("change"));
  document.getElementById("play").click();
  await new Promise((resolve) => {
    const tick = (now) => {
      frames.push(now - last);
      last = now;
      if (document.body.dataset.playing === "true") requestAnimationFrame(tick);
      else resolve();
    };
    requestAnimationFrame(tick);
  });
  return frames.slice(1);
}"""

FETCH_JS = """async ([path, token, moments]) => {
  const out = [];
  for (const at of moments) {
    const t0 = performance.now();
    const r = await fetch(`${path}?at=${at}`, { headers: { Authorization: `Bearer ${token}` } });
    await r.json();
    out.push(performance.now() - t0);
  }
  return out;
}"""


def log(msg: str) -> None:
    print(f"[replay-bench] {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(pct(values, 50), 2),
        "p95": round(pct(values, 95), 2),
        "max": round(max(values), 2) if values else float("nan"),
        "mean": round(statistics.fmean(values), 2) if values else float("nan"),
    }


# -- the implementation this replaces, kept as the baseline ------------------------------------


async def full_scan_document(redis: aioredis.Redis, session_id: str, at: int) -> str:
    """``/document?at=`` before the checkpoint index: read the stream from its start up to ``at``
    and rebuild (from the last checkpoint seen, but only after reading everything before it)."""
    events: list[Event] = []
    start = "-"
    while True:
        chunk = await redis.xrange(stream_key(session_id), min=start, count=5000)
        if not chunk:
            break
        for _entry_id, fields in chunk:
            ev = Event.from_fields(fields)
            if ev.t > at:
                return text_at(events)
            events.append(ev)
        start = "(" + chunk[-1][0].decode()
    return text_at(events)


async def full_recording_body(redis: aioredis.Redis, session_id: str) -> str:
    """``/recording`` before streaming: every event in a list, then one string of JSON lines."""
    events = await Recorder(redis).read(session_id)
    return "".join(json.dumps(ev.to_json(), separators=(",", ":")) + "\n" for ev in events)


async def streamed_recording_body(redis: aioredis.Redis, session_id: str) -> int:
    """``/recording`` now: chunks of JSON lines through gzip; returns the compressed size."""
    from server.replay_stream import _gzipped

    _, chunks = await Recorder(redis).json_lines(session_id)
    return sum([len(b) async for b in _gzipped(chunks)])


# -- server process memory ---------------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> int:
    """Resets the process's peak RSS to its current RSS (Linux ``clear_refs`` 5); returns it."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kib(pid, "VmRSS")


def peak_kib(pid: int) -> int:
    return _status_kib(pid, "VmHWM")


# -- building recordings -----------------------------------------------------------------------


async def type_recording(server: ServerProcess, token: str, session_id: str, keystrokes: int, rate: float) -> float:
    """Types ``keystrokes`` through the public websocket; returns the seconds it took."""
    rng = random.Random(keystrokes)
    client = await YClient.start(server.ws_base, session_id, token, "Ada")
    started = time.monotonic()
    try:
        await client.synced()
        text = await client.text()
        burst = max(1, int(rate / 20))
        for i in range(keystrokes):
            if len(text) > 20 and rng.random() < 0.08:
                client.send(op="delete", index=len(text) - 1, length=1)
                text = text[:-1]
            else:
                ch = "\n" if rng.random() < 0.04 else rng.choice("abcdefghijklmnop qrstuvwxyz_(=):,.")
                client.send(op="append", text=ch)
                text += ch
            if i % burst == burst - 1:
                await client.proc.stdin.drain()  # type: ignore[union-attr]
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
        await client.wait_text(text, timeout=120)
        await asyncio.sleep(1.0)  # the server has applied and recorded the last of them
    finally:
        await client.close()
    return time.monotonic() - started


# -- one size ----------------------------------------------------------------------------------


async def measure_size(
    server: ServerProcess, redis: aioredis.Redis, browser: Any, keystrokes: int, args: argparse.Namespace
) -> dict[str, Any]:
    created = server.create_session(f"bench-{keystrokes}")
    sid, tokens = created["id"], created["tokens"]
    log(f"{keystrokes} keystrokes: typing at {args.rate:.0f}/s")
    typing_s = await type_recording(server, tokens["candidate"], sid, keystrokes, args.rate)
    key = stream_key(sid)
    entries = await redis.xrange(key)
    events = [Event.from_fields(f) for _, f in entries]
    end = events[-1].t
    kinds: dict[str, dict[str, int]] = {}
    for _, f in entries:
        k = kinds.setdefault(f[b"type"].decode(), {"events": 0, "bytes": 0})
        k["events"] += 1
        k["bytes"] += sum(len(v) for v in f.values())
    body = await full_recording_body(redis, sid)
    result: dict[str, Any] = {
        "keystrokes": keystrokes,
        "typing_s": round(typing_s, 1),
        "span_ms": end,
        "events": len(events),
        "checkpoints": kinds.get("doc.checkpoint", {}).get("events", 0),
        "text_chars": len(text_at(events)),
        "by_type": kinds,
        "redis_memory_bytes": await redis.memory_usage(key, samples=0),
        "jsonl_bytes": len(body.encode()),
        "gzip_bytes": len(gzip.compress(body.encode(), 6)),
    }
    del body, entries

    # -- server seeks: baseline and indexed, side by side on the same moments -----------------
    rng = random.Random(keystrokes + 1)
    moments = [rng.randrange(0, end + 1) for _ in range(args.seeks)]
    rec = Recorder(redis)
    base_ms: list[float] = []
    index_ms: list[float] = []
    for i, at in enumerate(moments):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        texts = {}
        for which in order:
            t0 = time.perf_counter()
            if which == 0:
                texts[0] = await full_scan_document(redis, sid, at)
                base_ms.append((time.perf_counter() - t0) * 1000)
            else:
                texts[1] = text_at(await rec.read_from_checkpoint(sid, at))
                index_ms.append((time.perf_counter() - t0) * 1000)
        assert texts[0] == texts[1], f"seek to {at}: the indexed text differs from the full scan"
    result["seek_full_scan_ms"] = summary(base_ms)
    result["seek_indexed_ms"] = summary(index_ms)

    pid = server.proc.pid  # type: ignore[union-attr]
    auth = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=server.base, headers=auth, timeout=120) as http:
        http_ms: list[float] = []
        base_rss = reset_peak(pid)
        for at in moments:
            t0 = time.perf_counter()
            r = await http.get(f"/api/sessions/{sid}/document", params={"at": at})
            http_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        result["http_document_ms"] = summary(http_ms)
        result["server_peak_over_seeks_kib"] = peak_kib(pid) - base_rss

        base_rss = reset_peak(pid)
        t0 = time.perf_counter()
        wire = 0
        async with http.stream(
            "GET", f"/api/sessions/{sid}/recording", headers={"Accept-Encoding": "gzip"}
        ) as streamed:
            async for chunk in streamed.aiter_raw():
                wire += len(chunk)
        result["http_recording_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        result["wire_gzip_bytes"] = wire
        result["server_peak_over_recording_kib"] = peak_kib(pid) - base_rss

    # -- Python heap: the whole response as before, against streaming it ----------------------
    tracemalloc.start()
    body = await full_recording_body(redis, sid)
    _, before_peak = tracemalloc.get_traced_memory()
    del body
    tracemalloc.reset_peak()
    await streamed_recording_body(redis, sid)
    _, after_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result["heap_peak_full_body_kib"] = before_peak // 1024
    result["heap_peak_streamed_kib"] = after_peak // 1024

    # -- the browser ---------------------------------------------------------------------------
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        t0 = time.perf_counter()
        await page.goto(f"{server.base}/replay/{sid}?token={tokens['reviewer']}")
        await page.wait_for_selector("body[data-loaded=true]", timeout=120_000)
        result["browser_ready_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        scrubs = [rng.randrange(0, end + 1) for _ in range(args.scrubs)]
        result["browser_scrub_ms"] = summary(await page.evaluate(SCRUB_JS, scrubs))
        result["browser_fetch_document_ms"] = summary(
            await page.evaluate(FETCH_JS, [f"/api/sessions/{sid}/document", tokens["reviewer"], scrubs[:20]])
        )
        await page.evaluate(SCRUB_JS, [0])
        frames = await page.evaluate(PLAY_JS)
        result["play32_frames"] = {**summary(frames), "over_33ms": sum(1 for f in frames if f > 33.4)}
        result["browser_heap_mib"] = round(
            (await page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")) / 2**20, 1
        )
    finally:
        await page.close()
    return result


async def main_async(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from sandbox.image import image_tag

    image = os.environ.get("CLARIFY_SANDBOX__IMAGE") or image_tag()
    redis_proc = RedisProcess(tmp / "redis")
    server = ServerProcess(
        tmp / "data",
        image=image,
        kernel_dir=KERNEL_DIR,
        redis_url=redis_proc.url,
        server_id=SERVER_ID,
        extra_env={
            "CLARIFY_DOC_MESSAGES_PER_SECOND": str(max(200, args.rate * 4)),
            "CLARIFY_DOC_BURST_MESSAGES": "100000",
        },
    )
    results: dict[str, Any] = {"machine": machine_info(image), "args": vars(args), "sizes": []}
    try:
        redis_proc.start()
        server.start()
        redis = aioredis.from_url(redis_proc.url)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                for n in args.sizes:
                    results["sizes"].append(await measure_size(server, redis, browser, n, args))
                    log(json.dumps(brief(results["sizes"][-1])))
            finally:
                await browser.close()
        await redis.aclose()
    finally:
        server.stop()
        redis_proc.stop()
        with contextlib.suppress(Exception):
            import docker

            client = docker.from_env()
            for c in client.containers.list(all=True, filters={"label": f"clarify.server={SERVER_ID}"}):
                c.remove(force=True)
            client.close()
    return results


def brief(r: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k != "by_type"}


def machine_info(image: str) -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "chromium": chromium,
        "kernel_image": image,
        "loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        "| keystrokes | events | checkpoints | full scan p50 / p95 ms | indexed p50 / p95 ms "
        "| HTTP /document p50 / p95 ms | browser scrub p50 / p95 / max ms | ready to scrub ms "
        "| 32x frames p95 ms (>33 ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        rows.append(
            f"| {r['keystrokes']} | {r['events']} | {r['checkpoints']} "
            f"| {r['seek_full_scan_ms']['p50']} / {r['seek_full_scan_ms']['p95']} "
            f"| {r['seek_indexed_ms']['p50']} / {r['seek_indexed_ms']['p95']} "
            f"| {r['http_document_ms']['p50']} / {r['http_document_ms']['p95']} "
            f"| {r['browser_scrub_ms']['p50']} / {r['browser_scrub_ms']['p95']} / {r['browser_scrub_ms']['max']} "
            f"| {r['browser_ready_ms']} "
            f"| {r['play32_frames']['p95']} ({r['play32_frames']['over_33ms']}/{r['play32_frames']['n']}) |"
        )
    rows += [
        "",
        "| keystrokes | span s | text chars | Redis bytes | JSON lines bytes | gzip on the wire | checkpoint share "
        "| server peak RSS: /recording, seeks KiB | heap: whole body vs streamed KiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        cp = r["by_type"].get("doc.checkpoint", {}).get("bytes", 0)
        total = sum(k["bytes"] for k in r["by_type"].values())
        rows.append(
            f"| {r['keystrokes']} | {r['span_ms'] / 1000:.0f} | {r['text_chars']} | {r['redis_memory_bytes']} "
            f"| {r['jsonl_bytes']} | {r['wire_gzip_bytes']} | {100 * cp / max(total, 1):.0f}% "
            f"| {r['server_peak_over_recording_kib']}, {r['server_peak_over_seeks_kib']} "
            f"| {r['heap_peak_full_body_kib']} vs {r['heap_peak_streamed_kib']} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 12000, 48000], help="keystrokes per recording")
    parser.add_argument("--rate", type=float, default=200.0, help="keystrokes per second while building")
    parser.add_argument("--seeks", type=int, default=60, help="server seeks per size (each side)")
    parser.add_argument("--scrubs", type=int, default=60, help="browser scrubs per size")
    parser.add_argument("--json", action="store_true", help="print the full results as JSON")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    KERNEL_DIR.mkdir(exist_ok=True)
    try:
        results = asyncio.run(main_async(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(json.dumps(results, indent=2) if args.json else table(results))
    print(json.dumps(results["machine"]))


if __name__ == "__main__":
    main()
