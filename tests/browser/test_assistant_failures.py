"""The assistant failing, in a real browser (Debian's Chromium) against a real `clarify serve`
pointed at a real `clarify assistant-sim` told to misbehave (by model name): the provider
answering 429 with ``Retry-After``, never answering (a timeout), and cutting its stream part-way.
Each gives the candidate a clear message in the panel, the interviewer sees the same, and the
room goes on: the candidate asks again and gets an answer, and runs code.
"""

from __future__ import annotations

import httpx
from playwright.async_api import Page, async_playwright, expect

from tests.assistant.conftest import assistant_env, sim  # noqa: F401 - the fixture, shared
from tests.browser.shots import screenshot
from tests.browser.test_assistant_panel import PROBLEM, SNIPPET, recording, replace_editor
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, KERNEL_WAIT_MS, watch_errors
from tests.server.harness import ADMIN

# model -> (recorded error code, what the panel must say)
FAILURES = {
    "sim-429": ("rate_limited", "rate-limiting requests; try again in 7 s"),
    "sim-timeout": ("timeout", "did not answer in time"),
    "sim-fail-midstream": ("interrupted", "cut off part-way; ask again"),
}


async def test_429_timeout_and_a_cut_stream_each_say_so_and_the_room_goes_on(server_factory, sim) -> None:  # noqa: F811
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
                await interviewer.locator("#assistant-panel").get_by_role("button", name="Turn on").click()
                model_box = interviewer.get_by_role("combobox", name="Assistant model")
                ask_box = candidate.get_by_role("textbox", name="Ask the assistant")
                status = candidate.locator("#assistant-panel .assistant-status")
                await expect(ask_box).to_be_visible()

                for n, (model, (_code, says)) in enumerate(FAILURES.items()):
                    await model_box.select_option(model)
                    await expect(status).to_contain_text(f"({model})")
                    await ask_box.fill(f"Question {n + 1}: how do I group tickets?")
                    await ask_box.press("Enter")
                    for page in pages.values():
                        turn = page.locator("#assistant-panel .assistant-turn").nth(n)
                        await expect(turn).to_have_attribute("data-status", "error", timeout=30_000)
                        await expect(turn.locator(".assistant-error")).to_contain_text(says)
                    # The candidate may ask again at once: the box is not stuck.
                    await expect(ask_box).to_be_enabled()
                    if model == "sim-fail-midstream":
                        await screenshot(candidate, "assistant-failure-midstream.png")

                errs = [
                    e["payload"]
                    for e in await recording(client, sid)
                    if e["type"] == "assistant.error" and e["role"] == "system"
                ]
                assert [e["code"] for e in errs] == [code for code, _ in FAILURES.values()]
                assert errs[0]["retry_after"] == 7
                assert errs[2]["partial"], "the cut stream's partial text is kept"
                # The cut stream's partial text was shown while it streamed and is not taken as code.
                third = candidate.locator("#assistant-panel .assistant-turn").nth(2)
                await expect(third.locator(".assistant-reply")).to_contain_text("Here is")
                await expect(third.get_by_role("button", name="Insert at cursor")).to_have_count(0)

                # The room goes on: ask again with a working model and get an answer ...
                await model_box.select_option("sim-1")
                await expect(status).to_contain_text("(sim-1)")
                await ask_box.fill("How do I drop rows with missing text?")
                await ask_box.press("Enter")
                answered = candidate.locator("#assistant-panel .assistant-turn").nth(3)
                await expect(answered).to_have_attribute("data-status", "done", timeout=30_000)
                await expect(answered.locator(".assistant-reply")).to_contain_text(SNIPPET)
                # ... and run code.
                await replace_editor(candidate, "# %%\nprint(6 * 7)")
                await candidate.keyboard.press("Shift+Enter")
                for page in pages.values():
                    await expect(page.locator(".out-stdout").filter(has_text="42")).to_have_count(
                        1, timeout=KERNEL_WAIT_MS
                    )
                assert errors == {"interviewer": [], "candidate": []}
            finally:
                await browser.close()
