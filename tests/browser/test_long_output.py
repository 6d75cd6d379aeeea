"""A run whose output is longer than a greeting carries: the room shows part of it and fetches
the rest on demand (``GET /api/sessions/{id}/runs/{run}``), in a real browser."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import async_playwright, expect

from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, KERNEL_WAIT_MS, watch_errors
from tests.server.harness import ADMIN, events_socket, recv_until


async def test_a_late_joiner_loads_a_long_runs_full_output(server_factory) -> None:
    server = server_factory(CLARIFY_HELLO_OUTPUT_BYTES="2000")
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(
            "/api/sessions", json={"candidate": "Ada"}, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
        )
        assert r.status_code == 201, r.text
        session = r.json()
    candidate = session["tokens"]["candidate"]
    # 40 prints of 200 characters: 8,000 characters, of which a greeting keeps about 2,000.
    code = "for i in range(40):\n    print(f'{i:03d}' + 'y' * 196, flush=True)"
    async with events_socket(server, session["id"], candidate) as ws:
        await recv_until(ws, lambda m: m["type"] == "hello")
        await ws.send(json.dumps({"type": "run", "code": code}))
        await recv_until(ws, lambda m: m["type"] == "run.done", timeout=KERNEL_WAIT_MS / 1000)

    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page()
            watch_errors(page, errors)
            await page.goto(f"{server.base}/s/{session['id']}?token={candidate}")
            run = page.locator("article.run").first
            await expect(run).to_be_visible(timeout=30_000)
            shown = await run.locator(".run-body").inner_text()
            assert "039" not in shown  # the greeting left the end out ...
            more = run.locator("button.run-more")
            await expect(more).to_have_text("Show all output")
            await more.click()
            await expect(more).to_have_count(0, timeout=10_000)
            full = await run.locator(".run-body").inner_text()
            lines = [ln for ln in full.splitlines() if ln.strip()]
            assert [ln[:3] for ln in lines] == [f"{i:03d}" for i in range(40)]  # ... and all of it, in order
        finally:
            await browser.close()
    assert errors == []
