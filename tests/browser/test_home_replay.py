"""The staff home and the replay page in a real browser (Debian's Chromium) against a real `clarify serve`.

Home: the admin token, the specialization filter, creating a session and reading its links.
The session is then driven without a browser (a Node Yjs client edits, the candidate asks and
runs on the events socket); the replay page opens a moment between two edits and plays on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page, async_playwright, expect

from tests.browser.shots import screenshot
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, KERNEL_WAIT_MS, watch_errors
from tests.server.harness import ADMIN, YClient, events_socket, recv_until

QUESTION = "How many tickets arrive per day, and how many escalate?"


async def code_text(page: Page) -> str:
    return await page.locator("#code").text_content() or ""


async def test_home_creates_a_session_and_replay_scrubs_and_plays(server_factory) -> None:
    assert (DIST / "home.html").is_file() and (DIST / "replay.html").is_file(), (
        "frontend/dist lacks the home or replay page: build the browser app (cd frontend && npm run build)"
    )
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base) as http:
        home = await http.get("/")
        assert home.status_code == 200
        assert home.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in home.headers["content-security-policy"]
        assert (await http.get("/api/sessions")).status_code == 401
        assert (await http.get("/replay/nope")).headers["content-security-policy"] == home.headers[
            "content-security-policy"
        ]

    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            watch_errors(page, errors)

            # -- home: token, filter, create -------------------------------------------------
            await page.goto(f"{server.base}/")
            await expect(page.locator("#admin-token")).to_be_focused()
            await page.locator("#admin-token").fill("not-the-token")
            await page.locator("#admin-token").press("Enter")
            await expect(page.locator("#signin-error")).to_contain_text("not accepted")
            # Chrome logs the refused request itself; that one is expected.
            assert errors and all("401" in e and "/api/problems" in e for e in errors), errors
            errors.clear()
            await page.locator("#admin-token").fill(ADMIN)
            await page.locator("#admin-token").press("Enter")
            await expect(page.locator("#staff")).to_be_visible()
            assert await page.evaluate("sessionStorage.getItem('clarify.admin-token')") == ADMIN

            await page.locator("#spec-filter").select_option("ml")
            items = page.locator("#problems li")
            await expect(items.first).to_be_visible()
            specs = await page.locator("#problems .spec").all_text_contents()
            assert specs and set(specs) == {"ml"}, specs
            # Keyboard: focus the problem's button and press Enter; its brief is previewed.
            pick = page.locator('#problems li[data-problem="ticket-escalation"] button')
            await pick.focus()
            await page.keyboard.press("Enter")
            await expect(pick).to_have_attribute("aria-pressed", "true")
            await expect(page.locator("#preview h3")).to_have_text("Flag support tickets that will escalate")
            # Staff also preview the hidden constraints.
            hidden = page.locator("#preview .hidden-constraints")
            await expect(hidden.locator("summary")).to_have_text("Hidden constraints (7, staff only)")
            await hidden.locator("summary").click()
            await expect(hidden.locator("li").first).to_contain_text("Only about 6% of tickets escalate")
            assert await page.locator("#problem").input_value() == "ticket-escalation"

            await page.locator("#candidate").fill("Grace")
            await page.locator("#level").select_option("senior")  # the bar, else the pack's level
            await page.locator("#candidate").press("Enter")
            await expect(page.locator("#created")).to_be_visible(timeout=30_000)
            candidate_link = await page.locator('#created-links [data-role="candidate"] input').input_value()
            reviewer_replay = await page.locator('#created-links [data-role="replay"] input').input_value()
            session_id = urlsplit(candidate_link).path.rsplit("/", 1)[-1]
            candidate_token = parse_qs(urlsplit(candidate_link).query)["token"][0]
            reviewer_token = parse_qs(urlsplit(reviewer_replay).query)["token"][0]
            interviewer_link = await page.locator('#created-links [data-role="interviewer"] input').input_value()
            interviewer_token = parse_qs(urlsplit(interviewer_link).query)["token"][0]
            assert urlsplit(reviewer_replay).path == f"/replay/{session_id}"

            row = page.locator(f'#sessions tr[data-session="{session_id}"]')
            await expect(row.locator(".who")).to_have_text("Grace")
            await expect(row.locator(".status")).to_have_text("live")
            await expect(row.get_by_role("link", name="Room")).to_have_count(1)
            await expect(row.get_by_role("link", name="Replay")).to_have_attribute(
                "href", f"/replay/{session_id}?token={reviewer_token}"
            )
            await expect(row.get_by_role("link", name="Scorecard")).to_have_count(1)
            await screenshot(page, "home.png", full_page=True)

            # The new endpoint lists the session for staff only.
            async with httpx.AsyncClient(base_url=server.base) as http:
                listed = await http.get("/api/sessions", headers={"Authorization": f"Bearer {ADMIN}"})
                assert listed.status_code == 200
                session = next(s for s in listed.json() if s["id"] == session_id)
                assert session["candidate"] == "Grace" and session["problem"] == "ticket-escalation"
                assert session["level"] == "senior"
                assert "tokens" not in session
                created_ms = session["created_ms"]

            # -- drive the session without a browser ------------------------------------------
            editor = await YClient.start(server.ws_base, session_id, candidate_token, "Grace")
            try:
                await editor.synced()
                starter = await editor.text()
                editor.send(op="insert", index=0, text="first\n")
                await editor.wait_text("first\n" + starter)
                await asyncio.sleep(1.5)
                between_ms = int(time.time() * 1000) - created_ms
                await asyncio.sleep(1.5)
                editor.send(op="insert", index=0, text="second\n")
                await editor.wait_text("second\nfirst\n" + starter)
                await asyncio.sleep(0.5)  # the server has applied and recorded it
            finally:
                await editor.close()

            async with (
                events_socket(server, session_id, candidate_token) as cand,
                events_socket(server, session_id, interviewer_token) as staff,
            ):
                await recv_until(cand, lambda m: m["type"] == "hello")
                await recv_until(staff, lambda m: m["type"] == "hello")
                await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
                asked = await recv_until(staff, lambda m: m["type"] == "question")
                qid = asked[-1]["question"]["id"]
                await staff.send(
                    json.dumps(
                        {
                            "type": "answer",
                            "question": qid,
                            "text": "About 6% escalate.",
                            "constraint": "class-imbalance",
                        }
                    )
                )
                await recv_until(cand, lambda m: m["type"] == "answer")
                await cand.send(json.dumps({"type": "run", "code": "print('hello from the replay test')"}))
                done = await recv_until(cand, lambda m: m["type"] == "run.done", timeout=KERNEL_WAIT_MS / 1000)
                assert done[-1]["result"]["status"] == "ok", done[-1]
                await cand.send(json.dumps({"type": "run", "code": "1 / 0"}))
                done = await recv_until(cand, lambda m: m["type"] == "run.done", timeout=60)
                assert done[-1]["result"]["status"] == "error", done[-1]

            # -- replay: the moment between the edits, then play at 32x -----------------------
            replay = await context.new_page()
            watch_errors(replay, errors)
            await replay.goto(f"{server.base}/replay/{session_id}?token={reviewer_token}#t={between_ms}")
            await expect(replay.locator("body")).to_have_attribute("data-loaded", "true", timeout=15_000)
            await expect(replay.locator("#code")).to_contain_text("first", timeout=10_000)
            text = await code_text(replay)
            assert "second" not in text, text
            assert "def " in text or text.strip() != "first", text  # the starter is there too
            assert abs(int(await replay.locator("#scrub").input_value()) - between_ms) <= 100

            for kind in ("question", "run", "error", "discovery", "join", "leave"):
                assert await replay.locator(f'#markers .marker[data-kind="{kind}"]').count() >= 1, kind
            await expect(replay.locator('#markers .marker[data-kind="question"]')).to_have_attribute(
                "title", re.compile(re.escape(QUESTION))
            )
            # Nothing after the playhead is shown yet.
            await expect(replay.locator("#thread .q-text")).to_have_count(0)
            await expect(replay.locator("#console .run")).to_have_count(0)

            await replay.locator("#speed").select_option("32")
            start_value = int(await replay.locator("#scrub").input_value())
            await replay.locator("#play").click()
            await expect(replay.locator("#code")).to_contain_text("second", timeout=15_000)
            assert int(await replay.locator("#scrub").input_value()) > start_value
            # Played on to the end: the question and its answer, both runs, the ledger entry.
            await expect(replay.locator("#thread .q-text")).to_have_text([QUESTION], timeout=30_000)
            await expect(replay.locator("#thread .q-answer")).to_contain_text("About 6% escalate.")
            await expect(replay.locator("#console .run")).to_have_count(2, timeout=30_000)
            await expect(replay.locator(".out-stdout").first).to_contain_text("hello from the replay test")
            await expect(replay.locator('#ledger [data-constraint="class-imbalance"]')).to_have_class(
                "ledger-item found"
            )
            await expect(replay.locator("#play")).to_have_attribute("aria-pressed", "false", timeout=30_000)
            hash_ms = int((await replay.evaluate("location.hash")).removeprefix("#t="))
            assert hash_ms == int(await replay.locator("#scrub").input_value())

            # Jumping to a marker (Previous from the end: the error run) updates the view and the URL.
            await replay.locator("#prev-marker").click()
            await expect(replay.locator("#console .run")).to_have_count(2)
            await screenshot(replay, "replay.png", full_page=True)

            # Scrubbing back to the start empties the views again and the text follows.
            await replay.locator("#scrub").focus()
            await replay.keyboard.press("Home")
            await expect(replay.locator("#console .run")).to_have_count(0)
            await expect(replay.locator("#code")).not_to_contain_text("first", timeout=10_000)
            assert (await replay.evaluate("location.hash")) == "#t=0"
            await replay.keyboard.press("ArrowRight")  # the range's keys step by a second
            await expect(replay.locator("#clock")).to_contain_text("0:01 /")
            assert (await replay.evaluate("location.hash")) == "#t=1000"

            # Without a token in the link, the replay uses the staff token of this tab.
            await page.goto(f"{server.base}/replay/{session_id}#t={between_ms}")
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=15_000)
            await expect(page.locator("#code")).to_contain_text("first", timeout=10_000)
            assert errors == []
        finally:
            await browser.close()
