"""Assisted mode that does not nudge staff, in a real browser against a real `clarify serve`.

On the shipped ticket-escalation pack: a question about nothing hidden pre-selects nothing and
offers "Send pack answer" and "Answer in my own words" alike; choosing a constraint previews the
exact pack text; an own-words answer is undone within the window (the candidate sees it
withdrawn); a confident question is pre-selected and its previewed text is what the candidate
reads; a mark is undone from the checklist by keyboard; in auto mode a credit auto mode gave is
marked and overturned with a reason.
"""

from __future__ import annotations

import re

import httpx
from playwright.async_api import async_playwright, expect

from problems import PACKS_DIR, load_pack
from server.clarify.session import RETRACTED_NOTE
from tests.browser.shots import screenshot
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, watch_errors
from tests.server.harness import ADMIN

PROBLEM = "ticket-escalation"
OFF_TOPIC = "Anything else I should know?"
CONFIDENT = "How many tickets actually escalate, roughly?"
SUGGESTED = "class-imbalance"
MARKED = "near-duplicates"
AUTO_QUESTION = "Could any fields leak the label, like something set after escalation?"
AUTO_CREDITED = "leakage"
OWN_WORDS = "Nothing more on that; assume the data is as given."


async def test_assisted_mode_previews_offers_own_words_and_undoes(server_factory) -> None:
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: bash scripts/build-frontend.sh"
    answers = {c.id: c.answer for c in load_pack(PACKS_DIR / PROBLEM).meta.constraint}
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(
            "/api/sessions",
            json={"problem": PROBLEM, "candidate": "Ada"},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
    session = r.json()
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages = {}
            for role in ("interviewer", "candidate"):
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                watch_errors(page, errors)
                await page.goto(session["links"][role])
                await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                pages[role] = page
            staff, cand = pages["interviewer"], pages["candidate"]
            await staff.get_by_role("tab", name="Questions").click()

            # A question about nothing hidden: nothing pre-selected, no default button.
            await cand.locator("#ask-text").fill(OFF_TOPIC)
            await cand.locator("#ask-text").press("Enter")
            card = staff.locator("#thread li.staff-q").filter(has_text=OFF_TOPIC)
            await expect(card).to_have_count(1)
            select = card.get_by_label("Constraint")
            await expect(select).to_have_value("")
            await expect(card.locator(".q-chip.proposed")).to_have_count(0)
            pack_button = card.get_by_role("button", name="Send pack answer")
            own_button = card.get_by_role("button", name="Answer in my own words")
            await expect(pack_button).to_be_disabled()
            await expect(own_button).to_be_enabled()
            await expect(card.get_by_role("button", name="Mark only (no answer)")).to_be_disabled()
            assert await card.locator(".q-actions button.primary").count() == 0  # neither is the default
            await expect(card.locator(".q-preview")).to_contain_text("Choose a constraint")

            # Choosing a constraint shows the exact text "Send pack answer" would send.
            await select.select_option(SUGGESTED)
            await expect(card.locator(".q-preview-text")).to_have_text(answers[SUGGESTED])
            await expect(pack_button).to_be_enabled()
            await select.select_option("")
            await expect(card.locator(".q-preview-text")).to_have_count(0)

            # Answer in my own words, then undo it within the window.
            await own_button.click()
            await card.get_by_label("Your answer").fill(OWN_WORDS)
            await card.get_by_role("button", name="Send answer").click()
            cand_q = cand.locator("#thread li.question").filter(has_text=OFF_TOPIC)
            await expect(cand_q.locator(".q-answer")).to_have_text(OWN_WORDS)
            await expect(card).to_have_attribute("data-status", "answered")
            undo = card.get_by_role("button", name=re.compile(r"^Undo this answer: \d+ seconds left$"))
            await expect(undo).to_be_visible()
            await expect(undo).to_have_text(re.compile(r"^Undo answer \(\d+ s\)$"))
            await screenshot(staff, "assisted-undo.png")
            await undo.click()
            await expect(cand_q.locator(".q-answer")).to_have_count(0)
            await expect(cand_q.locator(".q-retracted")).to_contain_text(RETRACTED_NOTE)
            await expect(card).to_have_attribute("data-status", "open")
            await expect(card.locator(".q-retracted")).to_contain_text("You withdrew the answer")
            await expect(card.get_by_role("button", name="Send pack answer")).to_be_visible()

            # A confident match is pre-selected; what the candidate reads is the previewed text.
            await cand.locator("#ask-text").fill(CONFIDENT)
            await cand.locator("#ask-text").press("Enter")
            card2 = staff.locator("#thread li.staff-q").filter(has_text=CONFIDENT)
            await expect(card2.get_by_label("Constraint")).to_have_value(SUGGESTED)
            preview = card2.locator(".q-preview-text")
            await expect(preview).to_have_text(answers[SUGGESTED])
            await screenshot(staff, "assisted-preview.png")
            previewed = await preview.text_content()
            await card2.get_by_role("button", name="Send pack answer").click()
            cand_q2 = cand.locator("#thread li.question").filter(has_text=CONFIDENT)
            await expect(cand_q2.locator(".q-answer")).to_have_text(previewed or "")

            # A mark, undone from the checklist with the keyboard, frees the constraint.
            await staff.get_by_role("tab", name="Constraints").click()
            row = staff.locator(f'li.constraint[data-constraint="{MARKED}"]')
            await row.get_by_role("button", name="Asked out loud").click()
            await expect(row).to_have_attribute("data-discovered", "aloud")
            undo_mark = row.get_by_role("button", name=re.compile(r"^Undo this mark"))
            await undo_mark.focus()
            await staff.keyboard.press("Enter")
            await expect(row).to_have_attribute("data-discovered", "")
            await expect(row.get_by_role("button", name="Asked out loud")).to_be_enabled()

            # Auto mode: its credit is marked, and a reason overturns it.
            await staff.get_by_role("tab", name="Questions").click()
            await staff.get_by_role("button", name="Auto", exact=True).click()
            await expect(staff.get_by_role("button", name="Auto", exact=True)).to_have_attribute("aria-pressed", "true")
            await cand.locator("#ask-text").fill(AUTO_QUESTION)
            await cand.locator("#ask-text").press("Enter")
            await expect(
                cand.locator("#thread li.question").filter(has_text=AUTO_QUESTION).locator(".q-answer")
            ).to_have_text(answers[AUTO_CREDITED])
            await staff.get_by_role("tab", name="Constraints").click()
            auto_row = staff.locator(f'li.constraint[data-constraint="{AUTO_CREDITED}"]')
            await expect(auto_row).to_have_attribute("data-auto", "true")
            await expect(auto_row.locator(".c-auto")).to_have_text("credited by auto mode")
            await auto_row.get_by_label("Why this credit is wrong").fill("asked after reading the column list aloud")
            await screenshot(staff, "assisted-overturn.png")
            await auto_row.get_by_role("button", name="Overturn credit").click()
            await expect(auto_row).to_have_attribute("data-overturned", "true")
            await expect(auto_row.locator(".c-overturned")).to_contain_text("asked after reading the column list aloud")
            await expect(auto_row.get_by_role("button", name="Overturn credit")).to_have_count(0)
            # The candidate saw none of it.
            assert await cand.locator(".c-overturned, .undo, .q-preview").count() == 0
        finally:
            await browser.close()

    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        card_json = (await http.get(f"/api/sessions/{session['id']}/scorecard", timeout=30)).json()
    rows = {row["constraint"]: row for row in card_json["discovery"]}
    assert rows[SUGGESTED]["how"] == "typed" and rows[SUGGESTED]["auto"] is False
    assert rows[MARKED]["discovered"] is False
    assert rows[AUTO_CREDITED]["auto"] is True and rows[AUTO_CREDITED]["credit"] == 0.0
    assert rows[AUTO_CREDITED]["overturned"]["reason"] == "asked after reading the column list aloud"
    assert [q["answer"] for q in card_json["questions"]][:1] == [None]  # the undone answer is gone
    assert errors == []
