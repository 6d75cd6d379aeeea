"""The two-minute scorecard in Chromium (issue 10): the result and its meaning fit the first
screen, the timeline marks open the replay, print hides the bar and the buttons, and both the
browser's own PDF and the API's PDF download work. No console errors: nothing breaks the CSP."""

from __future__ import annotations

import json
import re

from playwright.async_api import expect

from problems import load_pack
from problems.loader import PACKS_DIR
from tests.browser.shots import screenshot
from tests.browser.test_resilience import chromium, create_session
from tests.browser.test_room import watch_errors
from tests.server.harness import events_socket, recv_until

PROBLEM = "ticket-escalation"
CANDIDATE = "Grace Hopper"
SUGGESTED = "class-imbalance"
QUESTION = "How many tickets actually escalate, roughly?"
PACK = load_pack(PACKS_DIR / PROBLEM)


async def test_the_scorecard_page_reads_in_two_minutes_and_prints(server_factory) -> None:
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate=CANDIDATE)
    sid, tokens = session["id"], session["tokens"]
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        await recv_until(staff, lambda m: m["type"] == "hello")
        await recv_until(cand, lambda m: m["type"] == "hello")
        await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
        await recv_until(staff, lambda m: m["type"] == "suggestion")
        await staff.send(
            json.dumps({"type": "answer", "question": 1, "constraint": SUGGESTED, "use_pack_answer": True})
        )
        await recv_until(staff, lambda m: m["type"] == "ledger")
        await cand.send(json.dumps({"type": "run", "code": "print(1)"}))
        await recv_until(cand, lambda m: m["type"] == "run.done", timeout=120)
        await staff.send(json.dumps({"type": "note", "text": "Asked about the base rate first."}))
        await recv_until(staff, lambda m: m["type"] == "note")
        dimension = PACK.meta.rubric[0]
        await staff.send(json.dumps({"type": "rate", "dimension": dimension.id, "score": 3}))
        await recv_until(staff, lambda m: m["type"] == "rating")

    errors: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        page = await context.new_page()
        watch_errors(page, errors)
        await page.set_extra_http_headers({"Accept": "text/html"})
        response = await page.goto(f"{server.base}/api/sessions/{sid}/scorecard?token={tokens['reviewer']}")
        assert response is not None and response.status == 200

        # The first screen: who, what, the band and what it means, the parts, how it was reached.
        top = page.locator(".card-top")
        await expect(top.locator("h1")).to_contain_text(CANDIDATE)
        await expect(top.locator(".doc-sub")).to_contain_text("level")
        await expect(top.locator(".band-meaning")).to_be_visible()
        await expect(top.locator(".reached").first).to_contain_text("How it was reached:")
        await expect(top.locator(".parts li")).not_to_have_count(0)
        box = await top.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, box
        assert await page.evaluate("() => window.scrollY") == 0
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 1280

        # The evidence: own words, probes for the missed, what each check tests (none run here).
        found = page.locator("table.discovery tr.found")
        await expect(found).to_have_count(1)
        await expect(found.locator(".own-words")).to_have_text(QUESTION)
        await expect(found.locator(".how-words")).to_contain_text("typed the question")
        await expect(page.locator(".probes li").first).to_contain_text("Probe:")
        await expect(page.locator(".people")).to_contain_text("Asked about the base rate first.")
        rating = page.locator(".people table.ratings tr").nth(1)
        await expect(rating).to_contain_text(dimension.title)
        await expect(rating).to_contain_text(dimension.anchors["3"])

        # The timeline strip: every mark links to the replay at its moment.
        marks = page.locator(".tl-mark")
        assert await marks.count() >= 4  # question, discovery, run, note
        hrefs = await marks.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert all(re.fullmatch(rf"/replay/{sid}\?token={tokens['reviewer']}#t=\d+", h) for h in hrefs), hrefs
        await expect(page.locator(".tl-run .tl-mark")).to_have_count(1)
        await screenshot(page, "scorecard-two-minute.png", full_page=True)

        # The API's PDF, from the page's own link (it carries the page's role link).
        link = page.get_by_role("link", name="Download PDF")
        await expect(link).to_have_attribute("href", f"/api/sessions/{sid}/scorecard.pdf?token={tokens['reviewer']}")
        async with page.expect_download() as info:
            await link.click()
        download = await info.value
        assert re.fullmatch(r"scorecard-grace-hopper-[a-z0-9-]+\.pdf", download.suggested_filename)
        path = await download.path()
        assert path is not None and path.read_bytes().startswith(b"%PDF-")

        # Paper: no bar, no buttons, no strip; the marks as a list of times instead.
        await page.emulate_media(media="print")
        await expect(page.locator(".doc-bar")).to_be_hidden()
        await expect(page.locator(".card-actions")).to_be_hidden()
        await expect(page.locator(".tl")).to_be_hidden()
        await expect(page.locator(".tl-list")).to_be_visible()
        await expect(page.locator(".tl-list li").first).to_contain_text("question")
        await expect(page.locator(".card-top .band-meaning")).to_be_visible()
        pdf = await page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
        await page.emulate_media(media="screen")

        # A mark opens the replay at its moment.
        first = marks.first
        href = await first.get_attribute("href")
        await first.click()
        await expect(page).to_have_url(f"{server.base}{href}")
        await context.close()
    assert errors == [], errors
