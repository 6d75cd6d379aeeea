"""Resilience and rendering in a real browser (Debian's Chromium) against a real `clarify serve`.

A matplotlib figure reaches both room pages as a real, decodable PNG; two pages that lose their
connections (the server killed and restarted on the same port, one page's browser context
offline meanwhile) reconnect on their own and converge without losing or duplicating a line;
the scorecard and the per-problem comparison render as readable pages.

What ``BrowserContext.set_offline(True)`` does to websockets in this Chromium (156, through
Playwright 1.65's network emulation), as measured: ``navigator.onLine`` turns false and *new*
connections fail (``net::ERR_INTERNET_DISCONNECTED``), but websockets that are already open are
neither closed nor errored: they silently stop carrying frames. Edits stop flowing while the
room's badge still says "connected"; only y-websocket's own watchdog (no message for 30 s) closes
the document socket, and the badge then shows "reconnecting…". The events socket is never closed
by it. So two kinds of drop are exercised: the context offline long enough for that watchdog,
and the server killed (SIGKILL, then a new process on the same port), which closes every socket
at once; with the candidate's context offline meanwhile, the candidate's page cannot reconnect
until it is back online, while the interviewer's page reconnects as soon as the server is up.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from problems import PACKS_DIR, load_pack
from tests.browser.shots import screenshot
from tests.browser.test_room import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST,
    KERNEL_WAIT_MS,
    editor_text,
    wait_editor_text,
    watch_errors,
)
from tests.server.harness import ADMIN, ServerProcess, events_socket, recv_until

ROLES = ("interviewer", "candidate")
PLOT_LINES = ["import matplotlib.pyplot as plt", "plt.plot([1, 2, 3], [1, 4, 9])", "plt.show()"]
PNG_PREFIX = "data:image/png;base64,"
RECONNECT_MS = 30_000  # the events socket backs off up to 8 s between attempts
PROBLEM = "ticket-escalation"
QUESTION = "How many tickets actually escalate, roughly?"
SUGGESTED = "class-imbalance"
CANDIDATE = "Grace Hopper"


def require_dist() -> None:
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: run `bash scripts/build-frontend.sh`"


async def create_session(server: ServerProcess, **body: str) -> dict:
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post("/api/sessions", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def open_room(
    browser: Browser, session: dict, errors: dict[str, list[str]]
) -> tuple[dict[str, BrowserContext], dict[str, Page]]:
    """The interviewer's and the candidate's pages, each in its own context, both connected."""
    contexts: dict[str, BrowserContext] = {}
    pages: dict[str, Page] = {}
    for role in ROLES:
        contexts[role] = await browser.new_context(viewport={"width": 1280, "height": 800})
        pages[role] = await contexts[role].new_page()
        watch_errors(pages[role], errors[role])
        await pages[role].goto(session["links"][role])
    for role, page in pages.items():
        await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
        await expect(page.locator("#role")).to_have_text(role)
    return contexts, pages


async def close_all(contexts: dict[str, BrowserContext]) -> None:
    for context in contexts.values():
        await context.close()  # closes its pages too


# -- 1. a matplotlib figure ---------------------------------------------------------------------


async def test_matplotlib_figure_reaches_both_pages(server_factory) -> None:
    require_dist()
    server = server_factory()
    session = await create_session(server, candidate="Ada")
    errors: dict[str, list[str]] = {role: [] for role in ROLES}
    async with chromium() as browser:
        contexts, pages = await open_room(browser, session, errors)
        try:
            candidate = pages["candidate"]
            # Replace the editor's content by keyboard. Escape before each Enter closes any
            # completion popup, so that Enter starts a new line instead of accepting a completion.
            await candidate.locator(".cm-content").click()
            await candidate.keyboard.press("Control+A")
            for i, line in enumerate(PLOT_LINES):
                await candidate.keyboard.type(line)
                await candidate.keyboard.press("Escape")
                if i < len(PLOT_LINES) - 1:
                    await candidate.keyboard.press("Enter")
            code = "\n".join(PLOT_LINES)
            for page in pages.values():
                await wait_editor_text(page, code)
            await candidate.keyboard.press("Shift+Enter")

            for role, page in pages.items():
                run = page.locator(".run").filter(has_text="import matplotlib.pyplot as plt")
                await expect(run).to_have_count(1, timeout=KERNEL_WAIT_MS)
                await expect(run).to_have_attribute("data-state", "ok", timeout=KERNEL_WAIT_MS)
                image = run.locator("img")
                await expect(image).to_have_count(1)
                src = await image.get_attribute("src") or ""
                assert src.startswith(PNG_PREFIX), f"{role}: {src[:60]!r}"
                # decode() rejects unless the browser really decoded the image.
                width = await image.evaluate("(img) => img.decode().then(() => img.naturalWidth)")
                height = await image.evaluate("(img) => img.naturalHeight")
                assert width > 0 and height > 0, f"{role}: {width}x{height}"
            # Both pages received the same figure.
            srcs = {role: await page.locator(".run img").get_attribute("src") for role, page in pages.items()}
            assert srcs["interviewer"] == srcs["candidate"]
            assert errors == {"interviewer": [], "candidate": []}
        finally:
            await close_all(contexts)


# -- 2. connections dropped, then back ----------------------------------------------------------


def unexpected_errors(errors: list[str], server: ServerProcess, session_id: str) -> list[str]:
    """Console errors other than the expected ones.

    While the server is down (and while a context is offline) the pages keep trying to reconnect,
    and Chromium logs every refused attempt as a console error: "WebSocket connection to
    'ws://<our host>/ws/{doc,events}/<this session>?token=…' failed: …". Exactly those are
    expected; anything else is not.
    """
    expected = re.compile(
        rf"^console: WebSocket connection to '{re.escape(server.ws_base)}/ws/(doc|events)/"
        rf"{re.escape(session_id)}\?token=[^']*' failed"
    )
    return [e for e in errors if not expected.match(e)]


async def type_line(page: Page, line: str) -> None:
    """A new last line, typed (a comment, so no completion pops up; Escape closes one anyway)."""
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type(line)
    await page.keyboard.press("Escape")


async def badge_state(page: Page) -> str:
    return await page.locator("#connection").get_attribute("data-state") or ""


async def wait_converged(pages: dict[str, Page], timeout: float = 20.0) -> str:
    """The editors' text once every page shows the same."""
    async with asyncio.timeout(timeout):
        while True:
            texts = {role: await editor_text(page) for role, page in pages.items()}
            if len(set(texts.values())) == 1:
                return texts["interviewer"]
            await asyncio.sleep(0.2)


def assert_each_line_once(text: str, lines: list[str]) -> None:
    have = text.split("\n")
    for line in lines:
        assert have.count(line) == 1, f"{line!r} appears {have.count(line)} times in {text!r}"
    assert sorted(have) == sorted(lines), text  # nothing else either


async def drop_and_converge(server: ServerProcess, candidate_offline: bool) -> None:
    require_dist()
    session = await create_session(server, candidate="Ada")
    errors: dict[str, list[str]] = {role: [] for role in ROLES}
    async with chromium() as browser:
        contexts, pages = await open_room(browser, session, errors)
        try:
            interviewer, candidate = pages["interviewer"], pages["candidate"]
            # A shared first line, replacing the (empty) document.
            await interviewer.locator(".cm-content").click()
            await interviewer.keyboard.press("Control+A")
            await interviewer.keyboard.type("# shared")
            await wait_editor_text(candidate, "# shared")
            lines = ["# shared"]

            if candidate_offline:
                # Offline alone leaves the open sockets up (see the module docstring); here it
                # keeps the candidate's page from reconnecting once the server has dropped them.
                await contexts["candidate"].set_offline(True)
            server.kill()
            for page in pages.values():
                await expect(page.locator("#connection")).to_have_attribute(
                    "data-state", "reconnecting", timeout=10_000
                )
                await expect(page.locator("#connection")).not_to_have_text("connected")

            # Both keep typing while disconnected.
            for i in (1, 2):
                for role, page in pages.items():
                    line = f"# {role} while down {i}"
                    await type_line(page, line)
                    lines.append(line)
            for role, page in pages.items():
                assert f"# {role} while down 2" in await editor_text(page)
            assert "# candidate while down 1" not in await editor_text(interviewer)

            server.start()  # same port, same data directory
            await expect(interviewer.locator("#connection")).to_have_text("connected", timeout=RECONNECT_MS)
            if candidate_offline:
                # The server is back, the candidate's context is still offline: no reconnection.
                await candidate.wait_for_timeout(3000)
                assert await badge_state(candidate) == "reconnecting"
                for role, page in pages.items():
                    line = f"# {role} while apart"
                    await type_line(page, line)
                    lines.append(line)
                assert "# interviewer while apart" not in await editor_text(candidate)
                await contexts["candidate"].set_offline(False)
            # The badge returns to "connected" on its own: nobody reloads the page.
            await expect(candidate.locator("#connection")).to_have_text("connected", timeout=RECONNECT_MS)
            await expect(interviewer.locator("#connection")).to_have_text("connected")

            text = await wait_converged(pages)
            assert_each_line_once(text, lines)
            # And it stays so: typing after the reconnection reaches the other page once.
            await type_line(candidate, "# candidate after")
            lines.append("# candidate after")
            await wait_editor_text(interviewer, text + "\n# candidate after")
            assert_each_line_once(await wait_converged(pages), lines)

            for role in ROLES:
                assert unexpected_errors(errors[role], server, session["id"]) == [], role
        finally:
            await close_all(contexts)


async def test_pages_converge_after_the_network_drops(server_factory) -> None:
    """The server restarts while the candidate's context is offline; the pages diverge, then converge."""
    await drop_and_converge(server_factory(), candidate_offline=True)


async def test_pages_reconnect_and_converge_after_a_server_restart(server_factory) -> None:
    """Both pages online: the server is killed and restarted under them."""
    await drop_and_converge(server_factory(), candidate_offline=False)


async def test_pages_converge_after_the_context_goes_offline(server_factory) -> None:
    """Only the candidate's context goes offline (the server stays up); no restart involved."""
    require_dist()
    server = server_factory()
    session = await create_session(server, candidate="Ada")
    errors: dict[str, list[str]] = {role: [] for role in ROLES}
    async with chromium() as browser:
        contexts, pages = await open_room(browser, session, errors)
        try:
            interviewer, candidate = pages["interviewer"], pages["candidate"]
            await interviewer.locator(".cm-content").click()
            await interviewer.keyboard.press("Control+A")
            await interviewer.keyboard.type("# shared")
            await wait_editor_text(candidate, "# shared")
            lines = ["# shared"]

            await contexts["candidate"].set_offline(True)
            for i in (1, 2):
                for role, page in pages.items():
                    line = f"# {role} offline {i}"
                    await type_line(page, line)
                    lines.append(line)
            # The open sockets carry nothing now: the documents diverge.
            await candidate.wait_for_timeout(1000)
            assert "# interviewer offline 1" not in await editor_text(candidate)
            assert "# candidate offline 1" not in await editor_text(interviewer)
            # The badge leaves "connected" once y-websocket's 30 s watchdog gives up on the socket.
            await expect(candidate.locator("#connection")).to_have_attribute(
                "data-state", "reconnecting", timeout=45_000
            )
            await expect(interviewer.locator("#connection")).to_have_text("connected")

            await contexts["candidate"].set_offline(False)
            await expect(candidate.locator("#connection")).to_have_text("connected", timeout=RECONNECT_MS)
            text = await wait_converged(pages)
            assert_each_line_once(text, lines)
            await type_line(interviewer, "# interviewer after")
            lines.append("# interviewer after")
            assert_each_line_once(await wait_converged(pages), lines)

            for role in ROLES:
                assert unexpected_errors(errors[role], server, session["id"]) == [], role
        finally:
            await close_all(contexts)


# -- 3. scorecard and comparison pages ----------------------------------------------------------


async def test_scorecard_and_comparison_pages_render(server_factory) -> None:
    pack = load_pack(PACKS_DIR / PROBLEM)
    answer = next(c.answer for c in pack.meta.constraint if c.id == SUGGESTED)
    found_title = next(c.title for c in pack.meta.constraint if c.id == SUGGESTED)
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate=CANDIDATE)
    sid, tokens = session["id"], session["tokens"]

    # A short session: one question, answered with the pack's answer; then it ends.
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        await recv_until(cand, lambda m: m["type"] == "hello")
        await recv_until(staff, lambda m: m["type"] == "hello")
        await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
        asked = await recv_until(staff, lambda m: m["type"] == "question")
        qid = asked[-1]["question"]["id"]
        await staff.send(
            json.dumps({"type": "answer", "question": qid, "constraint": SUGGESTED, "use_pack_answer": True})
        )
        got = await recv_until(cand, lambda m: m["type"] == "answer")
        assert got[-1]["text"] == answer
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(f"/api/sessions/{sid}/end", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    assert r.status_code == 200, r.text

    errors: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 900})
        try:
            page = await context.new_page()
            watch_errors(page, errors)
            await page.set_extra_http_headers({"Accept": "text/html"})
            response = await page.goto(f"{server.base}/api/sessions/{sid}/scorecard?token={tokens['reviewer']}")
            assert response is not None and response.status == 200
            assert response.headers["content-type"].startswith("text/html")
            await expect(page.locator("h1")).to_contain_text(CANDIDATE)
            await expect(page.get_by_role("heading", name="Clarifying questions: hidden constraints")).to_be_visible()
            table = page.locator("table").first
            rows = table.locator("tr")
            await expect(rows).to_have_count(1 + len(pack.meta.constraint))  # a header, a row each
            await expect(rows.first.locator("th")).to_contain_text(["constraint", "category", "weight", "how"])
            found = rows.filter(has_text=found_title)
            await expect(found).to_have_count(1)
            await expect(found.locator("td").nth(3)).to_have_text("typed")
            await expect(rows.filter(has_text="not asked")).to_have_count(len(pack.meta.constraint) - 1)
            await screenshot(page, "scorecard.png", full_page=True)

            # The comparison of every candidate on the problem (staff only), as a page.
            await page.set_extra_http_headers({"Accept": "text/html", "Authorization": f"Bearer {ADMIN}"})
            response = await page.goto(f"{server.base}/api/problems/{PROBLEM}/comparison")
            assert response is not None and response.status == 200
            assert response.headers["content-type"].startswith("text/html"), (
                "the comparison has no HTML rendering yet (server/scorecard.py render_comparison_html)"
            )
            await expect(page.locator("h1")).to_have_text(pack.meta.title)
            row = page.locator("tr").filter(has_text=CANDIDATE)
            await expect(row).to_have_count(1)
            await expect(row).to_contain_text("typed")
            await screenshot(page, "comparison.png", full_page=True)
            assert errors == []
        finally:
            await context.close()
