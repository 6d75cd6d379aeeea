"""Browser app first load: bundle size and time to interactive of the room page.

Starts a real `clarify serve`, creates a session, and opens the candidate's room in Debian's
Chromium N times (a fresh browser context each time, so nothing is cached). Time to interactive
is navigation start to the moment the editor exists and both websockets are up (the badge says
"connected"). Baseline, same server and browser: loading /healthz (a small JSON page), the
floor any page load costs on this machine.
Usage: python -m bench.frontend_bench [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from sandbox.image import image_tag
from tests.server.harness import ADMIN, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "frontend" / "dist"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def bundle_sizes() -> dict[str, dict[str, int]]:
    out = {}
    for path in sorted((DIST / "assets").glob("*")):
        data = path.read_bytes()
        out[path.name] = {"bytes": len(data), "gzip": len(gzip.compress(data, 9))}
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def measure(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="clarify-fe-bench-") as tmp:
        server = ServerProcess(
            Path(tmp) / "data",
            image=image_tag(),
            kernel_dir=Path("/tmp/ck-febench"),
            redis_url=None,
            server_id="bench-frontend",
        )
        server.start()
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                r = await http.post(
                    "/api/sessions",
                    json={"problem": "ticket-escalation", "candidate": "Bench"},
                    headers={"Authorization": f"Bearer {ADMIN}"},
                )
            r.raise_for_status()
            link = r.json()["links"]["candidate"]
            room, floor = [], []
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                try:
                    for _ in range(runs):
                        for kind in ("room", "floor"):
                            context = await browser.new_context(viewport={"width": 1280, "height": 800})
                            page = await context.new_page()
                            if kind == "room":
                                await page.goto(link)
                                await page.wait_for_selector(".cm-editor")
                                await page.wait_for_selector("#connection[data-state='connected']")
                            else:
                                await page.goto(f"{server.base}/healthz")
                            ms = await page.evaluate("performance.now()")
                            (room if kind == "room" else floor).append(ms)
                            await context.close()
                finally:
                    await browser.close()
        finally:
            server.stop()
    return {
        "runs": runs,
        "room_tti_ms": {"p50": statistics.median(room), "p95": pct(room, 0.95)},
        "floor_ms": {"p50": statistics.median(floor), "p95": pct(floor, 0.95)},
        "bundle": bundle_sizes(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (DIST / "room.html").exists():
        raise SystemExit("frontend/dist is missing: run `bash scripts/build-frontend.sh` first")
    r = asyncio.run(measure(args.runs))
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print("bundle (minified / gzip -9):")
    for name, s in r["bundle"].items():
        print(f"  {name:32} {s['bytes'] / 1024:8.1f} KiB {s['gzip'] / 1024:8.1f} KiB")
    t, f = r["room_tti_ms"], r["floor_ms"]
    print(f"room page, navigation -> editor + both sockets connected: p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms")
    print(f"baseline, a JSON page from the same server:              p50 {f['p50']:.0f} ms, p95 {f['p95']:.0f} ms")
    print(f"ratio (p50): {t['p50'] / f['p50']:.1f}x   ({r['runs']} fresh contexts each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
