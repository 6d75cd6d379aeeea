"""Output in the room under a real interview's load, in Chromium against a real `clarify serve`.

The console follows new runs (a plot, then an error, is still followed), unless the reader
scrolled up: then a "new output ↓" marker appears. A staff tab that is not in view gets a
badge. At 800 px wide, a wide DataFrame and a long traceback stay inside their boxes: the page
never grows past the window, and "End session" and "Ask" stay on screen.
"""

from __future__ import annotations

import json

from playwright.async_api import Page, expect

from tests.browser.shots import screenshot
from tests.browser.test_interview_day import connected, open_page
from tests.browser.test_resilience import chromium, create_session, require_dist
from tests.browser.test_room import KERNEL_WAIT_MS
from tests.server.harness import events_socket, recv_until

PROBLEM = "ticket-escalation"
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"
LONG = "print('\\n'.join(f'line {i}' for i in range(120)))"
ERROR = "def deeper(n):\n    return deeper(n - 1) if n else 1 / 0\ndeeper(60)"
WIDE = (
    "import pandas as pd\n"
    "pd.set_option('display.max_columns', 200)\n"
    "pd.DataFrame({f'a_rather_long_column_name_{i}': range(30) for i in range(60)})"
)
TRACEBACK = "raise ValueError('x' * 3000)"


async def at_end(page: Page) -> bool:
    return await page.evaluate(
        "() => { const b = document.getElementById('console'); "
        "return b.scrollHeight - b.scrollTop - b.clientHeight < 24; }"
    )


async def run(ws, code: str) -> int:
    """Queue ``code`` on the interviewer's socket; returns the run id once it is done."""
    await ws.send(json.dumps({"type": "run", "code": code}))
    queued = await recv_until(ws, lambda m: m["type"] == "run.queued", timeout=30)
    rid = queued[-1]["run"]["id"]
    await recv_until(ws, lambda m: m["type"] == "run.done" and m["run"] == rid, timeout=KERNEL_WAIT_MS / 1000)
    return rid


async def in_viewport(page: Page, selector: str) -> None:
    box = await page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"] + 0.5, (selector, box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (selector, box, size)


async def page_fits(page: Page) -> None:
    """The page itself never scrolls: everything long scrolls inside its own box."""
    width, height = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    size = page.viewport_size
    assert size is not None
    wide = await page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5
                && e.parentElement && e.parentElement.getBoundingClientRect().right <= window.innerWidth + 0.5)
            .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
    )
    assert width <= size["width"] and height <= size["height"], (width, height, size, wide)


async def test_output_follows_new_runs_and_the_room_holds_at_800px(server_factory) -> None:
    require_dist()
    server = server_factory()
    session = await create_session(server, problem=PROBLEM, candidate="Ada")
    errors: dict[str, list[str]] = {"interviewer": [], "candidate": []}
    async with chromium() as browser:
        candidate = await open_page(browser, session["links"]["candidate"], errors["candidate"], width=800)
        interviewer = await open_page(browser, session["links"]["interviewer"], errors["interviewer"], width=800)
        await connected(candidate, "candidate")
        await connected(interviewer, "interviewer")
        await candidate.locator("#recorded-ok").click()
        # The interviewer looks at the questions while the candidate works.
        await interviewer.get_by_role("tab", name="Questions").click()
        output_badge = interviewer.get_by_role("tab", name="Output").locator(".tab-badge")
        await expect(output_badge).to_be_hidden()

        async with events_socket(server, session["id"], session["tokens"]["interviewer"]) as ws:
            await recv_until(ws, lambda m: m["type"] == "hello")
            # A long output, then a plot, then an error: the console still shows the newest.
            await run(ws, LONG)
            await run(ws, PLOT)
            plot = candidate.locator(".run").filter(has_text="import matplotlib").locator("img")
            await expect(plot).to_have_count(1)
            await plot.evaluate("(img) => img.decode()")
            await run(ws, ERROR)
            error = candidate.locator(".run").filter(has_text="def deeper").locator(".out-error")
            await expect(error).to_contain_text("ZeroDivisionError")
            await expect(error).to_be_in_viewport()
            assert await at_end(candidate)
            # The Output tab, not in view, says there is something new.
            await expect(output_badge).to_be_visible()

            # The reader scrolls up: new output no longer moves them; a marker offers the way down.
            await candidate.locator("#console").evaluate("(b) => { b.scrollTop = 0; }")
            await candidate.wait_for_function("() => document.getElementById('console').scrollTop === 0")
            await run(ws, "print('after scrolling up')")
            await expect(candidate.locator(".out-stdout").filter(has_text="after scrolling up")).to_have_count(1)
            marker = candidate.locator("#console-more")
            await expect(marker).to_be_visible()
            assert await candidate.locator("#console").evaluate("(b) => b.scrollTop") == 0
            await marker.click()
            await expect(marker).to_be_hidden()
            assert await at_end(candidate)

            # At 800 px: a wide DataFrame and a long traceback stay in their boxes.
            await run(ws, WIDE)
            await run(ws, TRACEBACK)
            await expect(candidate.locator(".out-html table")).to_have_count(1)
            await expect(candidate.locator(".out-error").filter(has_text="ValueError")).to_have_count(1)

        await interviewer.get_by_role("tab", name="Output").click()
        await expect(output_badge).to_be_hidden()
        for page in (candidate, interviewer):
            await page_fits(page)
        await in_viewport(candidate, "#ask button[type=submit]")
        await in_viewport(candidate, "#ask-text")
        await in_viewport(interviewer, ".end-session")
        await in_viewport(interviewer, "#run-cell")
        await screenshot(candidate, "room-800-candidate.png")
        await screenshot(interviewer, "room-800-interviewer.png")
        assert errors == {"interviewer": [], "candidate": []}
