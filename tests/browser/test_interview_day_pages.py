"""The panel's pages (scorecard, comparison) in Chromium: the app's look, readable at 800 px,
printable, and the score explained in words; dismissed questions say what became of them."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import Page, expect

from tests.browser.shots import screenshot
from tests.browser.test_resilience import chromium, create_session
from tests.browser.test_room import watch_errors
from tests.server.harness import ADMIN, events_socket, recv_until

PROBLEM = "ticket-escalation"
CANDIDATE = "Grace Hopper"
SUGGESTED = "class-imbalance"


async def fits(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert page.viewport_size is not None and width <= page.viewport_size["width"], width


async def test_scorecard_and_comparison_read_well_on_screen_and_paper(server_factory) -> None:
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate=CANDIDATE)
    sid, tokens = session["id"], session["tokens"]
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        await recv_until(cand, lambda m: m["type"] == "hello")
        await recv_until(staff, lambda m: m["type"] == "hello")
        for text in ("How many tickets actually escalate, roughly?", "Can I use the agent tier column?"):
            await cand.send(json.dumps({"type": "ask", "text": text}))
            await recv_until(staff, lambda m: m["type"] == "question")
        answer = {"type": "answer", "question": 1, "constraint": SUGGESTED, "use_pack_answer": True}
        await staff.send(json.dumps(answer))
        await staff.send(json.dumps({"type": "dismiss", "question": 2, "how": "aloud"}))
        await recv_until(cand, lambda m: m["type"] == "question.dismissed")
        await staff.send(json.dumps({"type": "note", "text": "Asked about the base rate first."}))
        await recv_until(staff, lambda m: m["type"] == "note")
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(f"/api/sessions/{sid}/end", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    assert r.status_code == 200, r.text

    errors: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 900})
        page = await context.new_page()
        watch_errors(page, errors)
        await page.set_extra_http_headers({"Accept": "text/html"})
        response = await page.goto(f"{server.base}/api/sessions/{sid}/scorecard?token={tokens['reviewer']}")
        assert response is not None and response.status == 200
        await expect(page.locator("h1")).to_contain_text(CANDIDATE)
        await expect(page.locator(".doc-bar .doc-brand")).to_have_text("Clarify")
        await expect(page.locator(".summary .band")).to_be_visible()
        # The dismissed question says it was answered out loud; nothing is left "waiting".
        await expect(page.locator(".questions li").nth(1)).to_contain_text("Answered out loud.")
        await expect(page.locator(".notes")).to_contain_text("Asked about the base rate first.")
        # How the score is computed, in words for people (not the code's docstring).
        how = page.locator("section.how")
        await expect(how.get_by_role("heading", name="How the score is computed")).to_be_visible()
        await expect(how).to_contain_text("Asking early counts more")
        await expect(how).not_to_contain_text("credit(c)")

        # Readable at 800 px: wide tables scroll in their own box, the page does not.
        await page.set_viewport_size({"width": 800, "height": 900})
        await fits(page)
        await screenshot(page, "scorecard-800.png", full_page=True)

        # Printable: the print stylesheet drops the app bar and the replay links.
        await page.emulate_media(media="print")
        await expect(page.locator(".doc-bar")).to_be_hidden()
        await expect(page.locator("th.no-print").first).to_be_hidden()
        await expect(how).to_be_visible()
        pdf = await page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
        await page.emulate_media(media="screen")

        await page.set_extra_http_headers({"Accept": "text/html", "Authorization": f"Bearer {ADMIN}"})
        response = await page.goto(f"{server.base}/api/problems/{PROBLEM}/comparison")
        assert response is not None and response.status == 200
        await expect(page.locator(".doc-bar .doc-kind")).to_have_text("Comparison")
        await expect(page.locator("tr").filter(has_text=CANDIDATE)).to_contain_text("typed")
        await fits(page)
        await page.emulate_media(media="print")
        await expect(page.locator(".doc-bar")).to_be_hidden()
        await context.close()
    assert errors == []
