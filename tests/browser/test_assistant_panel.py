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


def clock(ms: int) -> str:
    """As the pages show a time (api.ts clock): m:ss."""
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


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


async def code_marks(page: Page) -> list[dict[str, str]]:
    return await page.locator("#code mark.assistant-code").evaluate_all(
        "ms => ms.map(m => ({text: m.textContent, title: m.title, reply: m.dataset.reply}))"
    )


async def test_the_replay_highlights_code_from_the_assistant(server_factory, sim) -> None:  # noqa: F811
    """The candidate inserts the assistant's code and edits around it; the replay keeps that code
    highlighted (exactly its text, with a tooltip naming the reply) from the moment it went in,
    and shows no highlight before; the scorecard counts it in the share of the final code."""
    assert (DIST / "replay.html").is_file(), "frontend/dist is missing: run scripts/build-frontend.sh"
    server = server_factory(**assistant_env(sim))
    async with httpx.AsyncClient(
        base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
    ) as client:
        r = await client.post("/api/sessions", json={"problem": PROBLEM, "candidate": "Ada"})
        assert r.status_code == 201, r.text
        session = r.json()
        sid = session["id"]
        errors: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                pages: dict[str, Page] = {}
                for role in ("interviewer", "candidate"):
                    context = await browser.new_context(viewport={"width": 1280, "height": 900})
                    page = await context.new_page()
                    watch_errors(page, errors)
                    await page.goto(session["links"][role])
                    await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                    pages[role] = page
                candidate = pages["candidate"]
                await pages["interviewer"].locator("#assistant-panel").get_by_role("button", name="Turn on").click()
                ask_box = candidate.get_by_role("textbox", name="Ask the assistant")
                await expect(ask_box).to_be_visible()

                await replace_editor(candidate, "# %%\n")
                await ask_box.fill(QUESTION)
                await ask_box.press("Enter")
                turn = candidate.locator("#assistant-panel .assistant-turn")
                await expect(turn).to_have_attribute("data-status", "done", timeout=30_000)
                await candidate.locator(".cm-content").click()
                await candidate.keyboard.press("Control+End")
                await candidate.get_by_role("button", name="Insert at cursor").click()
                async with asyncio.timeout(10):
                    while SNIPPET not in await editor_text(candidate):
                        await asyncio.sleep(0.1)
                events = await wait_recording(
                    client,
                    sid,
                    lambda evs: any(e["type"] == "process.signal" and e["payload"]["kind"] == "insert" for e in evs),
                )
                insert = next(e for e in events if e["type"] == "process.signal" and e["payload"]["kind"] == "insert")
                at, size = insert["payload"]["at"], insert["payload"]["size"]
                inserted = (await editor_text(candidate))[at : at + size]
                assert inserted.startswith(SNIPPET), inserted
                asked_t = next(e for e in events if e["type"] == "assistant.prompt")["t"]

                # Typed above and below the inserted code.
                await candidate.keyboard.press("Control+Home")
                await candidate.keyboard.type("import re\n")
                await candidate.keyboard.press("Control+End")
                await candidate.keyboard.type("\nprint('done')")
                async with asyncio.timeout(10):
                    while "print('done')" not in (
                        final := (await client.get(f"/api/sessions/{sid}/document")).json().get("text", "")
                    ):
                        await asyncio.sleep(0.2)
                assert final.startswith("import re\n# %%\n" + inserted), final

                # The scorecard: all of the inserted code is still in the final text.
                card = (await client.get(f"/api/sessions/{sid}/scorecard")).json()["assistant"]
                assert card["final_code_chars_from_assistant"] == size
                assert card["final_code_chars"] == len(final)
                assert card["final_code_share"] == round(size / len(final), 4)
                typing = (await client.get(f"/api/sessions/{sid}/scorecard")).json()["process"]["typing"]
                # Everything else in the final text was typed by the candidate, and counted; typing the
                # closing quote and parenthesis over the ones the editor auto-closed counts twice.
                assert len(final) - size <= typing["typed_chars"] <= len(final) - size + 2
                assert typing["bursts"] >= 1 and len(typing["list"]) == typing["bursts"]

                # The replay at the end: the highlight is exactly the inserted code.
                reviewer = session["tokens"]["reviewer"]
                replay = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
                watch_errors(replay, errors)
                await replay.goto(f"{server.base}/replay/{sid}?token={reviewer}#t=99999999")
                await expect(replay.locator("body")).to_have_attribute("data-loaded", "true", timeout=15_000)
                await expect(replay.locator("#code")).to_contain_text("print('done')", timeout=10_000)
                # Opening plays the edits in; once their brief highlights fade, the assistant's stays.
                await expect(replay.locator("#code .edit-mark")).to_have_count(0, timeout=10_000)
                await expect(replay.locator("#code mark.assistant-code")).to_have_count(1)
                marks = await code_marks(replay)
                assert marks[0]["text"] == inserted
                assert marks[0]["reply"] == "1" and "from the assistant, reply 1" in marks[0]["title"]
                await screenshot(replay, "assistant-replay-highlight.png")
                # The insert is a signal marker on the timeline; typing bursts are a strip under it.
                signal = replay.locator('#markers .marker[data-kind="signal"]')
                await expect(signal).to_have_count(1)
                await expect(signal).to_have_attribute(
                    "aria-label", f"{clock(insert['t'])} Inserted {size} characters from the assistant (reply 1)"
                )
                await expect(replay.locator(".typing-strip .typing-burst")).to_have_count(typing["bursts"])

                # Before the insert (when the question was asked): no highlight, no snippet.
                await replay.evaluate(f"location.hash = '#t={asked_t}'")
                await expect(replay.locator("#code")).not_to_contain_text(SNIPPET)
                await expect(replay.locator("#code mark.assistant-code")).to_have_count(0)
                # Playing on from there, the highlight appears with the code and stays.
                await replay.locator("#speed").select_option("32")
                await replay.locator("#play").click()
                await expect(replay.locator("#code mark.assistant-code")).to_have_count(1, timeout=20_000)
                await expect(replay.locator("body")).to_have_attribute("data-playing", "false", timeout=30_000)
                assert (await code_marks(replay))[0]["text"] == inserted
                assert errors == []
            finally:
                await browser.close()
