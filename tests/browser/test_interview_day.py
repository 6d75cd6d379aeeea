"""Interview day in the room, in a real browser against a real `clarify serve` (issue 11).

The clock (elapsed, time left, warnings, the interviewer's extension, recorded), the brief as
rendered Markdown, Tab in the editor, dismissed questions as the candidate sees them, the
closing screen, and the pages an invalid, revoked or ended link shows. No run is needed here;
output and layout under load are in test_interview_day_output.py.
"""

from __future__ import annotations

import json
import re

import httpx
from playwright.async_api import Browser, Page, expect

from problems import PACKS_DIR, load_pack
from tests.browser.shots import screenshot
from tests.browser.test_resilience import chromium, create_session, require_dist
from tests.browser.test_room import watch_errors
from tests.server.harness import ADMIN, ServerProcess

PROBLEM = "ticket-escalation"
CONNECT_MS = 15_000


async def open_page(browser: Browser, url: str, errors: list[str], width: int = 1280, clock: bool = False) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    watch_errors(page, errors)
    if clock:
        await page.clock.install()  # the page's own time, moved forward by the test
    await page.goto(url)
    return page


async def connected(page: Page, role: str) -> None:
    await expect(page.locator("#connection")).to_have_text("connected", timeout=CONNECT_MS)
    await expect(page.locator("#role")).to_have_text(role)


async def recording(server: ServerProcess, session_id: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.get(
            f"/api/sessions/{session_id}/recording", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
        )
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def closed_socket_errors(errors: list[str]) -> list[str]:
    """Console errors other than Chromium's note of a websocket the server closed on purpose."""
    return [e for e in errors if "WebSocket" not in e]


async def test_clock_counts_warns_and_the_interviewer_extends_it(server_factory) -> None:
    require_dist()
    minutes = load_pack(PACKS_DIR / PROBLEM).meta.minutes
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate="Ada")
    errors: dict[str, list[str]] = {"interviewer": [], "candidate": []}
    async with chromium() as browser:
        interviewer = await open_page(browser, session["links"]["interviewer"], errors["interviewer"])
        candidate = await open_page(browser, session["links"]["candidate"], errors["candidate"], clock=True)
        await connected(interviewer, "interviewer")
        await connected(candidate, "candidate")

        # Everyone sees elapsed time and time left against the problem's minutes.
        for page in (interviewer, candidate):
            await expect(page.locator("#session-clock")).to_be_visible()
            await expect(page.locator("#clock-left")).to_have_text(re.compile(r"^\d+:\d\d left$"))
            await expect(page.locator("#clock-elapsed")).to_have_text(re.compile(r"^\d+:\d\d$"))
            await expect(page.locator("#session-clock")).to_have_attribute("data-state", "ok")
        left = await candidate.locator("#clock-left").text_content() or ""
        assert int(left.split(":")[0]) in (minutes - 1, minutes), left
        # Only the interviewer can extend.
        await expect(candidate.locator("#extend")).to_be_hidden()
        await expect(interviewer.locator("#extend")).to_be_enabled()

        # The candidate's page lives through the interview: a gentle warning at 10 minutes left,
        # a stronger one at 5, and "over" when the time is up.
        await candidate.clock.fast_forward((minutes - 10) * 60_000 + 5_000)
        await expect(candidate.locator("#session-clock")).to_have_attribute("data-state", "warn10")
        await expect(candidate.locator("#announce")).to_have_text("10 minutes left.")
        await candidate.clock.fast_forward(5 * 60_000)
        await expect(candidate.locator("#session-clock")).to_have_attribute("data-state", "warn5")
        await expect(candidate.locator("#announce")).to_have_text("5 minutes left.")
        await screenshot(candidate, "room-clock-warning.png", clip={"x": 0, "y": 0, "width": 1280, "height": 120})

        # The interviewer adds five minutes: recorded, and every page shows the new limit. The
        # candidate's page also takes the server's time again (the server's clock is the truth,
        # not the page's, which this test moved forward on its own).
        await interviewer.locator("#extend").click()
        await expect(candidate.locator("#announce")).to_have_text("The interviewer added 5 minutes.")
        extended = re.compile(rf"of {minutes + 5}:00$")
        for page in (interviewer, candidate):
            await expect(page.locator("#session-clock")).to_have_attribute("title", extended)
        after = await candidate.locator("#clock-left").text_content() or ""
        assert int(after.split(":")[0]) >= minutes + 3, after
        extends = [e for e in await recording(server, session["id"]) if e["type"] == "session.extend"]
        assert [(e["role"], e["payload"]["minutes"]) for e in extends] == [("interviewer", 5)]

        # A page that opens later gets the extended limit from its greeting.
        late = await open_page(browser, session["links"]["interviewer"], errors["interviewer"])
        await connected(late, "interviewer")
        await expect(late.locator("#session-clock")).to_have_attribute("title", extended)
        assert errors == {"interviewer": [], "candidate": []}


async def test_brief_is_rendered_markdown_resizable_and_collapsible_and_tab_indents(server_factory) -> None:
    require_dist()
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate="Ada")
    errors: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, session["links"]["candidate"], errors)
        await connected(page, "candidate")
        brief = page.locator("#brief")
        # Markdown is rendered: a heading, inline code and a code block, no raw "#" or backticks.
        await expect(brief.get_by_role("heading", name="Flag support tickets that will escalate")).to_be_visible()
        await expect(brief.locator("code").filter(has_text="/data/tickets.csv")).to_have_count(1)
        await expect(brief.locator("pre code")).to_contain_text("def predict_escalation")
        text = await brief.inner_text()
        assert "# Flag" not in text and "```" not in text and "`/data" not in text
        assert await brief.evaluate("(b) => getComputedStyle(b).resize") == "vertical"
        # Resizable: the reader drags its corner (set here as the browser would) and it keeps the size.
        await brief.evaluate("(b) => { b.style.height = '300px'; }")
        assert (await brief.bounding_box() or {}).get("height") == 300
        await screenshot(page, "room-brief.png", clip={"x": 0, "y": 0, "width": 1280, "height": 520})

        # Collapsible: hidden and shown again; the editor takes the room.
        toggle = page.locator("#brief-toggle")
        await toggle.click()
        await expect(brief).to_be_hidden()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await toggle.click()
        await expect(brief).to_be_visible()

        # Tab indents in the editor; Escape then Tab moves focus out of it.
        content = page.locator(".cm-content")
        await content.click()
        await page.keyboard.press("Control+End")
        await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")  # a completion popup, if any
        await page.keyboard.insert_text("x = 1")
        await page.keyboard.press("Home")
        await page.keyboard.press("Tab")
        line = await page.evaluate(
            """() => Array.from(document.querySelectorAll('.cm-line')).map((l) => l.textContent)
                 .find((t) => t.includes('x = 1'))"""
        )
        assert line is not None and re.match(r"^\s+x = 1$", line), repr(line)
        assert await page.evaluate("() => document.activeElement?.classList.contains('cm-content')")
        await page.keyboard.press("Escape")
        await page.keyboard.press("Tab")
        assert not await page.evaluate("() => !!document.activeElement?.closest('.cm-editor')")
        assert errors == []


async def test_dismissed_questions_closing_screen_and_link_pages(server_factory) -> None:
    require_dist()
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate="Ada")
    sid = session["id"]
    errors: dict[str, list[str]] = {"interviewer": [], "candidate": []}
    async with chromium() as browser:
        interviewer = await open_page(browser, session["links"]["interviewer"], errors["interviewer"])
        candidate = await open_page(browser, session["links"]["candidate"], errors["candidate"])
        await connected(interviewer, "interviewer")
        await connected(candidate, "candidate")

        # On joining, the candidate is told what is recorded (once; it can be put away).
        notice = candidate.locator("#recorded")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text("Nothing outside this page is recorded")
        await expect(interviewer.locator("#recorded")).to_be_hidden()
        await screenshot(candidate, "room-recorded-notice.png", clip={"x": 0, "y": 0, "width": 1280, "height": 200})
        await candidate.locator("#recorded-ok").click()
        await expect(notice).to_be_hidden()

        questions = ["Can I answer this one out loud?", "What is the exact label noise rate?", "Is there a holdout?"]
        for q in questions:
            await candidate.locator("#ask-text").fill(q)
            await candidate.locator("#ask-text").press("Enter")
            await expect(interviewer.locator("#thread .staff-q").filter(has_text=q)).to_have_count(1)
        await interviewer.get_by_role("tab", name=re.compile("^Questions")).click()
        staff_q = interviewer.locator("#thread .staff-q")
        await staff_q.filter(has_text=questions[0]).get_by_role("button", name="Answer out loud").click()
        await staff_q.filter(has_text=questions[1]).get_by_role("button", name="Don't answer").click()

        thread = candidate.locator("#thread .question")
        await expect(thread.filter(has_text=questions[0])).to_contain_text("will answer this out loud")
        await expect(thread.filter(has_text=questions[1])).to_contain_text("chose not to answer")
        await expect(thread.filter(has_text=questions[2])).to_contain_text("waiting for an answer")
        await expect(staff_q.filter(has_text=questions[0])).to_contain_text("To be answered out loud")
        await expect(staff_q.filter(has_text=questions[1])).to_contain_text("Not answered")
        await screenshot(candidate, "room-dismissed.png")
        kinds = [e["payload"].get("how") for e in await recording(server, sid) if e["type"] == "clarify.dismiss"]
        assert kinds == ["aloud", "unanswered"]

        # The interviewer ends the session: the candidate gets a closing screen, and nothing
        # is left "waiting".
        interviewer.on("dialog", lambda d: d.accept())
        await interviewer.locator(".end-session").click()
        closed = candidate.locator("#closed")
        await expect(closed).to_be_visible(timeout=CONNECT_MS)
        await expect(closed.locator("h2")).to_have_text("This interview has ended — thank you")
        await expect(candidate.locator("#room")).to_be_hidden()
        assert await candidate.locator('#thread [data-status="open"]').count() == 0
        await expect(thread.filter(has_text=questions[2])).to_contain_text("Not answered before the session ended")
        await screenshot(candidate, "room-closed.png")
        # The interviewer keeps the room, with the scorecard link.
        await expect(interviewer.locator(".scorecard-link")).to_be_visible()

        # Opening the candidate link again after the end: the ended page, not an empty room.
        again = await open_page(browser, session["links"]["candidate"], errors["candidate"])
        ended = "This interview has ended — thank you"
        await expect(again.locator("#closed h2")).to_have_text(ended, timeout=CONNECT_MS)
        await expect(again.locator("#room")).to_be_hidden()
        await expect(again.locator(".kernel")).to_be_hidden()

        # A link with a wrong token, one for no session, and a revoked one: "not valid".
        other = await create_session(server, problem=PROBLEM, candidate="Grace")
        async with httpx.AsyncClient(base_url=server.base) as http:
            r = await http.delete(
                f"/api/sessions/{other['id']}/candidate-link", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            assert r.status_code == 200, r.text
        bad_links = [
            re.sub(r"token=[^&]+", "token=not-a-real-token", other["links"]["candidate"]),
            f"{server.base}/s/0000000000000000?token=whatever",
            other["links"]["candidate"],  # revoked
        ]
        for i, url in enumerate(bad_links):
            page = await open_page(browser, url, errors["candidate"], width=800)
            await expect(page.locator("#closed h2")).to_have_text("This link is not valid", timeout=CONNECT_MS)
            await expect(page.locator("#room")).to_be_hidden()
            await expect(page.locator(".kernel")).to_be_hidden()  # no "Kernel: starting" on a dead link
            if i == 0:
                await screenshot(page, "link-invalid-800.png")
        assert closed_socket_errors(errors["interviewer"]) == []
        assert closed_socket_errors(errors["candidate"]) == []

    # Loading rooms leaves a log an operator can read: no logging tracebacks.
    log = server.log.read_text()
    assert "Logging error" not in log and "Traceback" not in log, log[-3000:]
