"""The staff panel in a real browser (Debian's Chromium) against a real `clarify serve`.

An interviewer, a candidate and an observer on the shipped ticket-escalation pack: a typed
question arrives with its suggested constraint, is confirmed with the pack answer, and shows
as discovered; the interviewer marks, notes, rates and ends the session; the scorecard agrees.
Nothing hidden (constraints, cues, probes, other answers, rubric, checks) reaches the
candidate's page, neither its DOM nor any websocket frame it received.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
from playwright.async_api import Page, WebSocket, async_playwright, expect

from problems import PACKS_DIR, load_pack
from tests.browser.shots import screenshot
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, editor_text, watch_errors
from tests.server.harness import ADMIN

PROBLEM = "ticket-escalation"
QUESTION = "How many tickets actually escalate, roughly?"
SUGGESTED = "class-imbalance"
MARKED = "leakage"
NOTE = "Asked about the base rate before modelling."
DIMENSION = "problem-framing"
CHECKS_WAIT_MS = 180_000  # a grading kernel starts and loads the pack's data


def hidden_texts(given: str) -> list[str]:
    """Every staff-only text of the pack except the one answer the candidate was given."""
    meta = load_pack(PACKS_DIR / PROBLEM).meta
    texts: list[str] = []
    for c in meta.constraint:
        texts += [c.title, c.probe, *c.cues]
        if c.id != given:
            texts.append(c.answer)
    for d in meta.rubric:
        texts += [d.title, *d.anchors.values()]
    texts += [c.description for c in meta.check]
    return texts


def strings_in(value: Any) -> list[str]:
    """All strings (keys and values) inside a decoded JSON message."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings_in(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def frame_text(payload: str | bytes) -> str:
    """A received frame as searchable text: JSON decoded (no escapes), binary (Yjs) as UTF-8."""
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "ignore")
    try:
        return "\n".join(strings_in(json.loads(payload)))
    except ValueError:
        return payload


def leaks(haystack: str, texts: list[str]) -> list[str]:
    return [t for t in texts if t in haystack or html.escape(t, quote=False) in haystack]


async def staff_controls_enabled(page: Page, outside: str | None = None) -> list[str]:
    """Enabled controls of the staff panel, tabs and "new output ↓" markers aside (an observer
    may only look; those only move the view); with ``outside``, those not inside that element."""
    return await page.evaluate(
        """(outside) => Array.from(document.querySelectorAll(
            "#right button, #right textarea, #right select, #right input, .staff-session button"
        )).filter((c) => !c.disabled && c.getAttribute("role") !== "tab" && !c.classList.contains("new-marker"))
          .filter((c) => !outside || !c.closest(outside))
          .map((c) => c.outerHTML.slice(0, 120))""",
        outside,
    )


async def test_staff_panel_answers_marks_rates_and_ends_without_leaking(server_factory) -> None:
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: cd frontend && npm ci && npm run build"
    pack = load_pack(PACKS_DIR / PROBLEM)
    answer = next(c.answer for c in pack.meta.constraint if c.id == SUGGESTED)
    secret = hidden_texts(SUGGESTED)

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
    interviewer_token = session["tokens"]["interviewer"]

    errors: dict[str, list[str]] = {"interviewer": [], "candidate": [], "observer": []}
    frames: list[str] = []  # everything the candidate's page received on its websockets

    def on_websocket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(frame_text(payload)))

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages: dict[str, Page] = {}
            for role in ("interviewer", "candidate", "observer"):
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                watch_errors(page, errors[role])
                if role == "candidate":
                    page.on("websocket", on_websocket)
                await page.goto(session["links"][role])
                pages[role] = page
            interviewer, candidate, observer = pages["interviewer"], pages["candidate"], pages["observer"]
            for role, page in pages.items():
                await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                await expect(page.locator("#role")).to_have_text(role)
            # Staff get the tabbed panel; the candidate does not.
            assert await candidate.locator("[role=tab]").count() == 0
            assert await candidate.locator("#staff-constraints, #staff-notes, .staff-session").count() == 0
            await expect(interviewer.get_by_role("tab")).to_have_text(
                ["Output", "Questions", re.compile(r"^Constraints\s*0/7$"), "Notes & rating"]
            )
            checklist = interviewer.locator("#staff-constraints li.constraint")
            await expect(checklist).to_have_count(len(pack.meta.constraint))

            # The candidate asks; the interviewer sees it with the suggested constraint pre-selected.
            await interviewer.get_by_role("tab", name="Questions").click()
            await expect(interviewer.locator("#questions-panel")).to_be_visible()
            for other in ("#console-panel", "#staff-constraints", "#staff-notes"):
                await expect(interviewer.locator(other)).to_be_hidden()
            await candidate.locator("#ask-text").fill(QUESTION)
            await candidate.locator("#ask-text").press("Enter")
            card = interviewer.locator("#thread li.staff-q").filter(has_text=QUESTION)
            await expect(card).to_have_count(1)
            await expect(card.locator("select.q-constraint")).to_have_value(SUGGESTED)
            proposed = card.locator(".q-chip.proposed")
            await expect(proposed).to_have_text(re.compile(rf"^{SUGGESTED} \d+%$"))
            await expect(interviewer.get_by_role("tab", name="Questions")).to_contain_text("1")
            await screenshot(interviewer, "room-interviewer-staff.png")

            # Send pack answer (its text previewed first): the candidate gets it, the constraint is typed.
            await card.get_by_role("button", name="Send pack answer").click()
            await expect(candidate.locator("#thread .q-answer")).to_have_text([answer])
            await expect(card).to_have_attribute("data-status", "answered")
            await expect(card.locator(".q-answer")).to_have_text(answer)
            await interviewer.get_by_role("tab", name="Constraints").click()
            typed = interviewer.locator(f'li.constraint[data-constraint="{SUGGESTED}"]')
            await expect(typed).to_have_attribute("data-discovered", "typed")
            await expect(typed.locator(".c-found")).to_contain_text("typed at ")
            await expect(typed.locator(".c-found")).to_contain_text("before the first run")
            await expect(typed.get_by_role("button", name="Asked out loud")).to_be_disabled()

            # One click marks another constraint as asked out loud.
            marked = interviewer.locator(f'li.constraint[data-constraint="{MARKED}"]')
            await marked.get_by_role("button", name="Asked out loud").click()
            await expect(marked).to_have_attribute("data-discovered", "aloud")
            await expect(marked.locator(".c-found")).to_contain_text("asked out loud at ")
            await expect(interviewer.get_by_role("tab", name="Constraints")).to_contain_text("2/7")

            # A private note and a rating (keyboard: focus the score and press Enter).
            await interviewer.get_by_role("tab", name="Notes & rating").click()
            await interviewer.locator("#note-text").fill(NOTE)
            await interviewer.get_by_role("button", name="Add note").click()
            await expect(interviewer.locator(".note-text")).to_have_text([NOTE])
            score = interviewer.locator(f'fieldset[data-dimension="{DIMENSION}"] button[data-score="3"]')
            await score.focus()
            await interviewer.keyboard.press("Enter")
            await expect(score).to_have_attribute("aria-pressed", "true")
            await expect(interviewer.locator(f'fieldset[data-dimension="{DIMENSION}"] .anchor')).to_contain_text("3: ")

            # Mode toggle: auto, then back to assisted.
            await interviewer.get_by_role("tab", name="Questions").click()
            for mode in ("Auto", "Assisted"):
                await interviewer.get_by_role("button", name=mode, exact=True).click()
                await expect(interviewer.get_by_role("button", name=mode, exact=True)).to_have_attribute(
                    "aria-pressed", "true"
                )

            # Hidden checks on the starter code: results come back as a pass/fail list.
            await interviewer.get_by_role("tab", name="Constraints").click()
            await interviewer.get_by_role("button", name="Run hidden checks").click()
            results = interviewer.locator("#staff-constraints li.check")
            await expect(results).to_have_count(len(pack.meta.check), timeout=CHECKS_WAIT_MS)
            await expect(interviewer.locator(".checks-status")).to_contain_text("passed")
            await expect(interviewer.get_by_role("button", name="Run hidden checks")).to_be_enabled()

            # The observer sees everything live, and can change nothing.
            await observer.get_by_role("tab", name="Constraints").click()
            await expect(observer.locator(f'li.constraint[data-constraint="{SUGGESTED}"]')).to_have_attribute(
                "data-discovered", "typed"
            )
            await expect(observer.locator(f'li.constraint[data-constraint="{MARKED}"]')).to_have_attribute(
                "data-discovered", "aloud"
            )
            await expect(observer.locator("#staff-constraints li.check")).to_have_count(len(pack.meta.check))
            await expect(
                observer.locator(f'fieldset[data-dimension="{DIMENSION}"] button[data-score="3"]')
            ).to_have_attribute("aria-pressed", "true")
            await expect(observer.locator(".note-text")).to_have_text([NOTE])
            assert await observer.locator(".end-session").count() == 0
            assert await staff_controls_enabled(observer) == []
            assert await staff_controls_enabled(interviewer) != []
            for button in ("#run-cell", "#run-all", "#interrupt", "#restart"):
                await expect(observer.locator(button)).to_be_disabled()
            before = await editor_text(observer)
            await observer.locator(".cm-content").click()
            await observer.keyboard.type("zzz")
            await observer.wait_for_timeout(300)
            assert await editor_text(observer) == before
            await expect(observer.locator(".cm-content")).to_have_attribute("contenteditable", "false")
            await observer.locator(f'li.constraint[data-constraint="{SUGGESTED}"] summary').click()
            await screenshot(observer, "room-observer.png")

            # Nothing hidden reached the candidate: not in the DOM, not on any socket.
            dom = await candidate.evaluate("document.documentElement.outerHTML")
            assert answer in dom
            assert leaks(dom, secret) == []
            assert frames, "no websocket frames were captured on the candidate's page"
            assert leaks("\n".join(frames), secret) == []

            # The interviewer ends the session; the scorecard link appears and the card agrees.
            interviewer.once("dialog", lambda dialog: dialog.accept())
            await interviewer.get_by_role("button", name="End session").click()
            link = interviewer.get_by_role("link", name="Scorecard")
            await expect(link).to_be_visible()
            href = await link.get_attribute("href")
            assert href == f"/api/sessions/{session['id']}/scorecard?token={interviewer_token}"
            await expect(candidate.locator("#notice")).to_contain_text("the session has ended")
            await expect(interviewer.get_by_role("button", name="End session")).to_be_hidden()
            # Everything is closed except the call transcript: it usually arrives after the call,
            # and its questions are marked on the ended session (issue 10).
            assert await staff_controls_enabled(interviewer, outside="#transcript") == []
            assert await staff_controls_enabled(interviewer) != []  # the transcript's upload stays
            async with httpx.AsyncClient(base_url=server.base) as http:
                r = await http.get(href, timeout=30)
            assert r.status_code == 200, r.text
            card_json = r.json()
            rows = {row["constraint"]: row for row in card_json["discovery"]}
            assert rows[SUGGESTED]["discovered"] and rows[SUGGESTED]["how"] == "typed"
            assert rows[MARKED]["how"] == "aloud"
            assert card_json["ratings"][DIMENSION]["score"] == 3
            assert card_json["session"]["status"] == "ended"

            assert leaks("\n".join(frames), secret) == []  # still nothing, up to the end
            assert errors == {"interviewer": [], "candidate": [], "observer": []}
        finally:
            await browser.close()
