"""Every page is safe by construction (issue 8, findings 3 and 7), in a real browser.

A real `clarify serve`, a real kernel, Debian's Chromium. One session is filled with hostile
values in every field a person can reach (candidate name, question, answer, note, run code,
stream, HTML and error output, cursor name and colour), a recording with hostile values is
imported, and every page is opened: the staff home (and its scorecard, opened without a token
in the URL), the room as each role, the replay, the scorecard and the comparison. Nothing may
run, no dialog may open, every HTML response carries the strict policy, and output HTML may
not cover the interviewer's End session button.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from playwright.async_api import Browser, BrowserContext, Page, Response, async_playwright, expect
from pycrdt import Awareness, Doc, create_awareness_message

from server.scorecard import render_comparison_html, render_html
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, KERNEL_WAIT_MS
from tests.hostile.conftest import ModuleServerFactory
from tests.server.harness import ADMIN, ServerProcess, events_socket, recv_until

PROBLEM = "batch-to-realtime"
NAME = "<img src=x onerror=window.__pwned=1>"
QUESTION = "<script>window.__pwned=1</script>How many requests? <img src=x onerror=alert(1)>"
ANSWER = "<img src=x onerror=\"window.__pwned=1;alert('answer')\">About 200."
NOTE = '<svg onload="window.__pwned=1"></svg><iframe src=javascript:alert(1)></iframe>'
SCORE = "<script>window.__pwned=1</script>"
DIMENSION = "<img src=x onerror=alert('dimension')>"
CURSOR_NAME = "<img src=x onerror=window.__pwned=1>"
CURSOR_COLOUR = "red;background:url(/api/problems)"
COVER = '<div style="position:fixed;inset:0;z-index:2147483647;background:red" class="cover">COVER</div>'
CODE = "\n".join(
    [
        "# <img src=x onerror=window.__pwned=1>",
        "from IPython.display import HTML, display",
        "print('<img src=x onerror=\"window.__pwned=1\">')",
        "display(HTML('<img src=x onerror=\"window.__pwned=1;alert(1)\">'",
        f"             '{COVER}'",
        "             '<svg><style>*{display:none}</style></svg><script>window.__pwned=1</script>'",
        "             '<a href=\"javascript:alert(1)\">link</a>'))",
        "raise ValueError('<img src=x onerror=\"window.__pwned=1\">')",
    ]
)


# -- the policy ------------------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict(response_headers: dict[str, str], where: str) -> None:
    """The policy every HTML response must carry."""
    policy = response_headers.get("content-security-policy")
    assert policy, f"{where}: no Content-Security-Policy"
    d = directives(policy)
    assert d.get("script-src") == ["'self'"], (where, policy)
    assert "script-src-attr" not in d and "script-src-elem" not in d, (where, policy)
    assert d.get("default-src") == ["'self'"], (where, policy)
    assert d.get("object-src") == ["'none'"], (where, policy)
    assert d.get("base-uri") == ["'none'"], (where, policy)
    assert d.get("frame-ancestors") == ["'none'"], (where, policy)
    assert d.get("form-action") == ["'self'"], (where, policy)
    assert set(d.get("img-src", [])) <= {"'self'", "data:", "blob:"}, (where, policy)
    assert "'unsafe-eval'" not in policy and "*" not in policy.split(), (where, policy)
    assert response_headers.get("x-content-type-options") == "nosniff", where
    assert response_headers.get("referrer-policy") == "no-referrer", where


class Watch:
    """What a browser context saw: HTML responses, dialogs, policy violations."""

    def __init__(self) -> None:
        self.html: list[tuple[str, dict[str, str]]] = []
        self.dialogs: list[str] = []

    def attach(self, context: BrowserContext) -> None:
        context.on("response", self._response)
        context.on("page", self._page)

    def _page(self, page: Page) -> None:
        page.on("dialog", lambda d: (self.dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))

    def _response(self, response: Response) -> None:
        if response.headers.get("content-type", "").startswith("text/html"):
            self.html.append((response.url, response.headers))


async def assert_nothing_ran(page: Page, watch: Watch) -> None:
    await page.wait_for_timeout(300)  # let a late onerror fire, if one could
    assert await page.evaluate("window.__pwned") is None, page.url
    assert watch.dialogs == [], watch.dialogs


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(module_server_factory: ModuleServerFactory) -> ServerProcess:
    return module_server_factory()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


def awareness_frame(client_id: int, state: dict[str, Any]) -> bytes:
    doc = Doc(client_id=client_id)
    awareness = Awareness(doc)
    awareness.set_local_state(state)
    return create_awareness_message(awareness.encode_awareness_update([client_id]))


async def hostile_session(server: ServerProcess) -> dict[str, Any]:
    """A live session with hostile values in every field a candidate or interviewer can fill."""
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        r = await http.post("/api/sessions", json={"problem": PROBLEM, "candidate": NAME}, timeout=30)
    assert r.status_code == 201, r.text
    session = r.json()
    sid, tokens = session["id"], session["tokens"]
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        await recv_until(cand, lambda m: m["type"] == "hello")
        await recv_until(staff, lambda m: m["type"] == "hello")
        await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
        asked = await recv_until(staff, lambda m: m["type"] == "question")
        qid = asked[-1]["question"]["id"]
        await staff.send(json.dumps({"type": "answer", "question": qid, "text": ANSWER}))
        await recv_until(cand, lambda m: m["type"] == "answer")
        await staff.send(json.dumps({"type": "note", "text": NOTE}))
        await recv_until(staff, lambda m: m["type"] == "note")
        await staff.send(json.dumps({"type": "rate", "dimension": "skew-awareness", "score": 3}))
        await recv_until(staff, lambda m: m["type"] == "rating")
        await cand.send(json.dumps({"type": "run", "code": CODE}))
        done = await recv_until(cand, lambda m: m["type"] == "run.done", timeout=KERNEL_WAIT_MS / 1000)
        assert done[-1]["result"]["status"] == "error", done[-1]
    return session


async def import_hostile_recording(server: ServerProcess, sid: str) -> dict[str, Any] | None:
    """The session's recording with hostile ratings appended, imported as a new session.

    A score that is not a number is refused at the import (422 naming line and field); then a
    hostile rubric dimension with a valid score is what reaches the page, if anything does.
    """
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as http:
        recording = (await http.get(f"/api/sessions/{sid}/recording")).text
        lines = recording.splitlines()
        last_t = json.loads(lines[-1])["t"]
        imported = None
        for dimension, score in ((DIMENSION, SCORE), (DIMENSION, 3)):
            rate = {"t": last_t + 1, "type": "clarify.rate", "role": "interviewer", "actor": "x", "payload": {}}
            rate["payload"] = {"dimension": dimension, "score": score}
            body = "\n".join([*lines, json.dumps(rate)]) + "\n"
            r = await http.post("/api/recordings", content=body.encode())
            if r.status_code == 201:
                imported = r.json()
                break
            assert r.status_code == 422, r.text
            assert r.json()["field"].startswith(f"line {len(lines) + 1}"), r.json()
    return imported


# -- the test --------------------------------------------------------------------------------


async def test_every_page_with_hostile_values_runs_nothing(server: ServerProcess, browser: Browser) -> None:
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: run scripts/build-frontend.sh"
    session = await hostile_session(server)
    sid, tokens = session["id"], session["tokens"]
    imported = await import_hostile_recording(server, sid)

    watch = Watch()
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    watch.attach(context)
    # A second participant's cursor with a hostile name and colour, on the document socket.
    doc_ws = await websockets.connect(f"{server.ws_base}/ws/doc/{sid}?token={tokens['candidate']}")
    try:
        await doc_ws.send(awareness_frame(4242, {"user": {"name": CURSOR_NAME, "color": CURSOR_COLOUR}}))

        # -- the room, as each role ---------------------------------------------------------
        for role in ("interviewer", "candidate", "observer", "reviewer"):
            page = await context.new_page()
            await page.goto(session["links"][role])
            await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
            await expect(page.locator("#thread .q-text")).to_have_text([QUESTION], timeout=15_000)
            await expect(page.locator("#console .out-html")).to_have_count(1, timeout=15_000)
            await expect(page.locator("#console .out-error")).to_contain_text("onerror")
            # The cursor's name is shown as text; its colour never reaches a style.
            chip = page.locator("#presence .presence-chip", has_text=CURSOR_NAME)
            await expect(chip).to_have_count(1, timeout=10_000)
            assert "url" not in (await chip.get_attribute("style") or "")
            html_box = page.locator("#console .out-html")
            assert await html_box.locator("[style], style, script, img[onerror], [x-defused-onerror]").count() == 0
            await assert_nothing_ran(page, watch)
            if role == "interviewer":
                await expect(page.locator("#staff-notes")).to_contain_text("<svg", timeout=10_000)
                await assert_end_button_uncovered(page)
            await page.close()

        # -- the replay, played to its end ----------------------------------------------------
        page = await context.new_page()
        await page.goto(f"{server.base}/replay/{sid}?token={tokens['reviewer']}#t=999999999")
        await expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=15_000)
        await expect(page.locator("#console .run")).to_have_count(1, timeout=15_000)
        await expect(page.locator("#thread .q-text")).to_have_text([QUESTION])
        await expect(page.locator("#console .run-code pre")).to_contain_text("# <img src=x onerror=window.__pwned=1>")
        await assert_nothing_ran(page, watch)

        # -- the scorecard pages --------------------------------------------------------------
        await page.set_extra_http_headers({"Accept": "text/html"})
        await page.goto(f"{server.base}/api/sessions/{sid}/scorecard?token={tokens['reviewer']}")
        await expect(page.locator("h1")).to_contain_text(NAME)
        await expect(page.locator(".questions")).to_contain_text(QUESTION)
        await expect(page.locator(".notes")).to_contain_text(NOTE)
        await assert_nothing_ran(page, watch)
        if imported is not None:
            await page.goto(
                f"{server.base}/api/sessions/{imported['id']}/scorecard?token={imported['tokens']['reviewer']}"
            )
            await expect(page.locator("body")).to_contain_text(DIMENSION)
            await assert_nothing_ran(page, watch)
        await page.close()
    finally:
        await doc_ws.close()

    # -- the comparison (staff: the admin token in a header) --------------------------------
    staff = await browser.new_context()
    watch.attach(staff)
    await staff.set_extra_http_headers({"Accept": "text/html", "Authorization": f"Bearer {ADMIN}"})
    page = await staff.new_page()
    await page.goto(f"{server.base}/api/problems/{PROBLEM}/comparison")
    await expect(page.locator("tr", has_text=NAME)).to_have_count(1 if imported is None else 2)
    await assert_nothing_ran(page, watch)
    await staff.close()

    # -- the staff home, and a scorecard opened from it with the admin token in a header ----
    page = await context.new_page()
    await page.goto(f"{server.base}/")
    await page.locator("#admin-token").fill(ADMIN)
    await page.locator("#admin-token").press("Enter")
    row = page.locator(f'#sessions tr[data-session="{sid}"]')
    await expect(row.locator(".who")).to_have_text(NAME, timeout=15_000)
    await assert_nothing_ran(page, watch)
    for link in await page.locator("a[href]").all():
        assert ADMIN not in (await link.get_attribute("href") or "")
    async with context.expect_page() as opened:
        await row.get_by_role("button", name="Scorecard").click()
    card = await opened.value
    await expect(card.locator("h1")).to_contain_text(NAME, timeout=15_000)
    assert ADMIN not in card.url
    await expect(card.locator("td", has_text="not asked").first).to_be_visible()
    await assert_nothing_ran(card, watch)
    # The blob page inherits the home page's policy: an inline handler put into it cannot run.
    assert card.url.startswith("blob:")
    await card.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=window.__pwned=1>')")
    await assert_nothing_ran(card, watch)
    await context.close()

    # Every HTML response carried the strict policy.
    seen = {url.split("?")[0] for url, _ in watch.html}
    assert any("/s/" in u for u in seen) and any("/replay/" in u for u in seen), seen
    assert any(u.endswith("/scorecard") for u in seen) and any(u.endswith("/comparison") for u in seen), seen
    for url, headers in watch.html:
        if not url.startswith("blob:"):  # a blob is no response: it has its creator's policy
            assert_strict(headers, url)


async def assert_end_button_uncovered(page: Page) -> None:
    """Output HTML stays in its box: neither the sanitized output nor a fixed-position element
    slipped into it covers the End session button."""
    button = page.locator(".end-session")
    await expect(button).to_be_visible()

    async def hit() -> bool:
        return await page.evaluate(
            """() => {
                const b = document.querySelector('.end-session').getBoundingClientRect();
                const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
                return hit !== null && hit.closest('.end-session') !== null;
            }"""
        )

    assert await hit(), "kernel output covers the End session button"
    # Should the sanitizer ever let a style through, the box itself still holds it.
    await page.evaluate(
        """() => {
            const cover = document.createElement('div');
            cover.style.cssText = 'position:fixed;inset:0;z-index:2147483647;background:red';
            document.querySelector('#console .out-html').append(cover);
        }"""
    )
    assert await hit(), "a fixed-position element in an output escapes its box"


# -- the templates, in process ---------------------------------------------------------------


def test_templates_escape_every_value() -> None:
    evil = "<script>window.__pwned=1</script>"
    session = {"id": f"id{evil}", "candidate": evil, "status": "ended"}
    card = {
        "session": session,
        "problem": evil,
        "problem_title": evil,
        "band": evil,
        "overall": 42.0,
        "parts": {evil: 10.0},
        "discovery": [
            {
                "constraint": "c",
                "title": evil,
                "category": evil,
                "weight": 1.0,
                "how": evil,
                "t": 61_000,
                "before_first_run": True,
                "credit": 0.5,
                "evidence": {"t": 61_000},
            }
        ],
        "checks": [{"id": evil, "passed": False, "detail": evil}],
        "checks_status": evil,
        "ratings": {evil: {"score": evil}, "x": {"score": {"nested": evil}}},
        "questions": [{"text": evil, "answer": evil}],
        "notes": [{"text": evil}],
        "formula": evil,
    }
    page = render_html(card)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert 'href="/replay/id%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E#t=61000"' in page
    assert "token" not in page
    comparison = render_comparison_html(
        {
            "problem": {"title": evil, "specialization": evil, "level": evil, "minutes": evil},
            "constraints": [{"id": "c", "title": f"'{evil}"}],
            "candidates": [
                {"session": evil, "candidate": evil, "overall": 1, "band": evil, "discovery": {"c": {"how": evil}}}
            ],
        }
    )
    assert "<script" not in comparison and "&lt;script&gt;" in comparison
    assert 'title="&#39;&lt;script&gt;' in comparison
    assert "token" not in comparison
