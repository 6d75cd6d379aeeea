"""The assistant panel (issue 13) in a real browser (Debian's Chromium) against a real `clarify serve`
pointed at a real `clarify assistant-sim`.

The interviewer turns the assistant on from the panel, the candidate asks, the reply streams and
completes, "Insert at cursor" puts its code in the editor; the interviewer's page shows the same
conversation live and read-only; the recording holds the prompt, the reply and an ``insert``
signal. The provider answering 429 gives a clear message in the panel and the room still runs code.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright, expect

from tests.assistant.conftest import assistant_env, sim  # noqa: F401 - the fixture, shared
from tests.browser.shots import screenshot
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, KERNEL_WAIT_MS, editor_text, watch_errors
from tests.server.harness import ADMIN

PROBLEM = "ticket-escalation"
QUESTION = "How do I drop rows with missing text?"
SNIPPET = "def how_drop_rows_with_missing_text(rows):"  # the sim names its snippet after the question


async def recording(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/sessions/{sid}/recording")
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


async def wait_recording(client: httpx.AsyncClient, sid: str, done) -> list[dict[str, Any]]:
    async with asyncio.timeout(30):
        while not done(events := await recording(client, sid)):
            await asyncio.sleep(0.2)
    return events


async def replace_editor(page: Page, text: str) -> None:
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def test_the_candidate_asks_inserts_and_staff_watch_live(server_factory, sim) -> None:  # noqa: F811
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: run scripts/build-frontend.sh"
    server = server_factory(**assistant_env(sim))
    async with httpx.AsyncClient(
        base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
    ) as client:
        r = await client.post("/api/sessions", json={"problem": PROBLEM, "candidate": "Ada"})
        assert r.status_code == 201, r.text
        session = r.json()
        sid = session["id"]

        errors: dict[str, list[str]] = {"interviewer": [], "candidate": []}
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                pages: dict[str, Page] = {}
                for role in ("interviewer", "candidate"):
                    context = await browser.new_context(viewport={"width": 1280, "height": 900})
                    page = await context.new_page()
                    watch_errors(page, errors[role])
                    await page.goto(session["links"][role])
                    await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                    pages[role] = page
                interviewer, candidate = pages["interviewer"], pages["candidate"]
                panel = {role: page.locator("#assistant-panel") for role, page in pages.items()}
                ask_box = candidate.get_by_role("textbox", name="Ask the assistant")

                # Off by default: the candidate has no ask box; only the interviewer has controls.
                await expect(panel["candidate"].locator(".assistant-status")).to_contain_text("off for this session")
                await expect(ask_box).to_be_hidden()
                await expect(panel["candidate"].get_by_role("button", name="Turn on")).to_have_count(0)

                # The interviewer turns it on and picks the model from the panel.
                await panel["interviewer"].get_by_role("button", name="Turn on").click()
                await panel["interviewer"].get_by_role("combobox", name="Assistant model").select_option("sim-1")
                for page in pages.values():
                    await expect(page.locator("#assistant-panel .assistant-status")).to_contain_text(
                        "Assistant on (sim-1)"
                    )
                await expect(ask_box).to_be_visible()
                # Staff read only: no ask box on the interviewer's page.
                await expect(interviewer.get_by_role("textbox", name="Ask the assistant")).to_be_hidden()

                # The candidate clears the editor to one empty cell, then asks in the panel.
                await replace_editor(candidate, "# %%\n")
                await ask_box.fill(QUESTION)
                await ask_box.press("Enter")
                for page in pages.values():
                    turn = page.locator("#assistant-panel .assistant-turn")
                    await expect(turn).to_have_count(1)
                    await expect(turn.locator(".assistant-prompt")).to_have_text(QUESTION)
                    await expect(turn).to_have_attribute("data-status", "done", timeout=30_000)
                    await expect(turn.locator(".assistant-reply")).to_contain_text(SNIPPET)
                    await expect(turn.locator(".assistant-reply")).to_contain_text("Check it on a small sample")
                await expect(panel["candidate"].locator(".assistant-status")).not_to_contain_text(" 0 of ")
                # Staff cannot insert: the actions are the candidate's.
                await expect(interviewer.get_by_role("button", name="Insert at cursor")).to_have_count(0)

                # "Insert at cursor" puts the code block in the editor, seen by both pages.
                await candidate.locator(".cm-content").click()
                await candidate.keyboard.press("Control+End")
                await candidate.get_by_role("button", name="Insert at cursor").click()
                for page in pages.values():
                    async with asyncio.timeout(10):
                        while SNIPPET not in await editor_text(page):
                            await asyncio.sleep(0.1)
                text = await editor_text(candidate)
                assert text.startswith("# %%\n" + SNIPPET), text
                await screenshot(candidate, "assistant-panel.png")

                # The recording holds the prompt, the reply and the insert signal.
                def complete(events: list[dict[str, Any]]) -> bool:
                    types = {e["type"] for e in events}
                    inserts = [e for e in events if e["type"] == "process.signal" and e["payload"]["kind"] == "insert"]
                    return {"assistant.prompt", "assistant.reply"} <= types and bool(inserts)

                events = await wait_recording(client, sid, complete)
                prompt = next(e for e in events if e["type"] == "assistant.prompt")
                assert prompt["role"] == "candidate" and prompt["payload"]["text"] == QUESTION
                reply = next(e for e in events if e["type"] == "assistant.reply")["payload"]
                assert SNIPPET in reply["text"] and reply["model"] == "sim-1" and reply["tokens"] > 0
                insert = next(e for e in events if e["type"] == "process.signal" and e["payload"]["kind"] == "insert")[
                    "payload"
                ]
                assert insert["source"] == "assistant" and insert["size"] > len(SNIPPET)
                assert insert["at"] == len("# %%\n")

                # The provider answers 429: a clear message in the panel; the room still runs code.
                await panel["interviewer"].get_by_role("combobox", name="Assistant model").select_option("sim-429")
                await expect(panel["candidate"].locator(".assistant-status")).to_contain_text("(sim-429)")
                await ask_box.fill("What does groupby do?")
                await ask_box.press("Enter")
                for page in pages.values():
                    failed = page.locator("#assistant-panel .assistant-turn").nth(1)
                    await expect(failed).to_have_attribute("data-status", "error", timeout=30_000)
                    await expect(failed.locator(".assistant-error")).to_contain_text("7 s")
                await replace_editor(candidate, "# %%\nprint(6 * 7)")
                await candidate.keyboard.press("Shift+Enter")
                for page in pages.values():
                    await expect(page.locator(".out-stdout").filter(has_text="42")).to_have_count(
                        1, timeout=KERNEL_WAIT_MS
                    )
                await expect(ask_box).to_be_enabled()

                assert errors == {"interviewer": [], "candidate": []}
            finally:
                await browser.close()
