"""The room page in a real browser (Debian's Chromium) against a real `clarify serve`.

Two browser contexts, the interviewer's and the candidate's links as the API returns them:
shared editing, runs seen by both, sanitized HTML output, the question thread.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from playwright.async_api import ConsoleMessage, Page, async_playwright, expect

from tests.browser.shots import screenshot
from tests.server.harness import ADMIN, events_socket, recv_until

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
KERNEL_WAIT_MS = 90_000  # the first run waits for the session's kernel
XSS = (
    "from IPython.display import HTML; "
    """HTML('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>')"""
)


def watch_errors(page: Page, errors: list[str]) -> None:
    """Collect console errors and uncaught exceptions (a missing favicon is not one of ours)."""

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and "favicon" not in msg.text and "favicon" not in (msg.location.get("url") or ""):
            errors.append(f"console: {msg.text} @ {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))


async def editor_text(page: Page) -> str:
    """The editor's text as displayed, without the remote carets' name labels (short documents)."""
    return await page.evaluate(
        """() => Array.from(document.querySelectorAll(".cm-content .cm-line"), (line) => {
            const copy = line.cloneNode(true);
            copy.querySelectorAll(".cm-ySelectionCaret, .cm-widgetBuffer").forEach((e) => e.remove());
            return copy.textContent;
        }).join("\\n")"""
    )


async def wait_editor_text(page: Page, expected: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while (text := await editor_text(page)) != expected:
            await asyncio.sleep(0.1)
    assert text == expected


async def test_two_browsers_share_editor_runs_and_questions(server_factory) -> None:
    assert (DIST / "room.html").is_file(), (
        "frontend/dist is missing: build the browser app first (cd frontend && npm ci && npm run build)"
    )
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(
            "/api/sessions",
            json={"problem": "batch-to-realtime", "candidate": "Ada"},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        session = r.json()
        page_response = await http.get(f"/s/{session['id']}", params={"token": session["tokens"]["candidate"]})
    assert page_response.status_code == 200
    assert page_response.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in page_response.headers["content-security-policy"]

    errors: dict[str, list[str]] = {"interviewer": [], "candidate": []}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages: dict[str, Page] = {}
            for role in ("interviewer", "candidate"):
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                watch_errors(page, errors[role])
                await page.goto(session["links"][role])
                pages[role] = page
            interviewer, candidate = pages["interviewer"], pages["candidate"]

            for role, page in pages.items():
                await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                await expect(page.locator("#role")).to_have_text(role)
                # The brief's Markdown is rendered (sanitized), its heading under the page's own.
                heading = page.locator("#brief").get_by_role("heading", name="Real-time churn scores")
                await expect(heading).to_have_count(1)
                assert "# Real-time" not in await page.locator("#brief").inner_text()
                assert await page.locator("#brief h1").count() == 0
                await expect(page.locator(".cm-content")).to_contain_text("def score_request")
            await expect(candidate.locator("#ask")).to_be_visible()
            await expect(interviewer.locator("#ask")).to_be_hidden()

            # The interviewer replaces the starter with one cell; the candidate's editor follows.
            await interviewer.locator(".cm-content").click()
            await interviewer.keyboard.press("Control+A")
            await interviewer.keyboard.type("# %%\nprint('hi from the kernel')")
            await wait_editor_text(candidate, "# %%\nprint('hi from the kernel')")

            # The candidate runs it with Shift-Enter; both consoles show the kernel's output.
            await candidate.locator(".cm-content").click()
            await candidate.keyboard.press("Control+End")
            await candidate.keyboard.press("Shift+Enter")
            for page in pages.values():
                await expect(page.locator(".out-stdout").filter(has_text="hi from the kernel")).to_have_count(
                    1, timeout=KERNEL_WAIT_MS
                )
                await expect(page.locator(".run").first).to_have_attribute("data-state", "ok", timeout=KERNEL_WAIT_MS)
            # The interviewer sees where the candidate's cursor is.
            await expect(interviewer.locator(".cm-ySelectionCaret")).to_have_count(1)

            # The candidate adds a cell that outputs hostile HTML; it runs nothing in the interviewer's page.
            await candidate.keyboard.press("Control+End")
            await candidate.keyboard.press("Enter")
            await candidate.keyboard.insert_text("# %%\n" + XSS)
            await wait_editor_text(interviewer, "# %%\nprint('hi from the kernel')\n# %%\n" + XSS)
            await candidate.keyboard.press("Shift+Enter")
            html_run = interviewer.locator(".run").filter(has_text="from IPython.display")
            await expect(html_run).to_have_attribute("data-state", "ok", timeout=KERNEL_WAIT_MS)
            image = html_run.locator(".out-html img")
            await expect(image).to_have_count(1)  # the HTML output was rendered, sanitized
            assert await image.get_attribute("onerror") is None
            assert await image.get_attribute("src") is None
            assert await html_run.locator(".out-html script").count() == 0
            await interviewer.wait_for_timeout(500)
            for page in pages.values():
                assert await page.evaluate("window.__pwned") is None

            # A clarifying question from the candidate's ask box reaches both pages, and the answer
            # (sent here on the interviewer's events socket) reaches the candidate.
            question = "How many scoring requests per second must the API handle?"
            await candidate.locator("#ask-text").fill(question)
            await candidate.locator("#ask-text").press("Enter")
            for page in pages.values():
                await expect(page.locator("#thread .q-text")).to_have_text([question])
            async with events_socket(server, session["id"], session["tokens"]["interviewer"]) as ws:
                hello = await recv_until(ws, lambda m: m["type"] == "hello")
                qid = hello[-1]["clarify"]["questions"][0]["id"]
                await ws.send(json.dumps({"type": "answer", "question": qid, "text": "About 200 at peak."}))
                await recv_until(ws, lambda m: m["type"] == "answer")
            await expect(candidate.locator("#thread .q-answer")).to_have_text(["About 200 at peak."])

            for role, page in pages.items():
                await screenshot(page, f"room-{role}.png")
            assert errors == {"interviewer": [], "candidate": []}
        finally:
            await browser.close()
