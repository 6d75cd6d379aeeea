"""Scrubbing and 32x playback of a long recording in a real browser against a real `clarify serve`.

Two stock Yjs clients (the candidate, then the interviewer) type a few thousand keystrokes, so
the recording holds many checkpoints. The replay page rebuilds the document itself; at every
moment sampled (random scrubs, then every animation frame of a 32x playback) the text it shows
is the text the server's ``/document?at=`` gives for the playhead's time.
"""

from __future__ import annotations

import asyncio
import random

import httpx
from playwright.async_api import Page, async_playwright, expect

from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, watch_errors
from tests.server.harness import ADMIN, YClient

KEYSTROKES = 1800
FAST_DOC = {"CLARIFY_DOC_MESSAGES_PER_SECOND": "5000", "CLARIFY_DOC_BURST_MESSAGES": "20000"}

# Installed in the page before playing: one sample per animation frame while it plays.
SAMPLER = """() => {
  window.__samples = [];
  const scrub = document.getElementById("scrub");
  const code = document.getElementById("code");
  const tick = () => {
    const marks = code.querySelectorAll("mark.edit-mark");
    const latest = code.querySelector("mark.edit-latest");
    window.__samples.push({
      t: Number(scrub.value),
      at: Number(code.dataset.at),
      text: code.textContent,
      marks: marks.length,
      who: latest ? latest.dataset.who : null,
    });
    if (document.body.dataset.playing === "true") requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

# A scrub as a person makes it (an input event on the range), read back in the same task:
# the editor shows the moment before the browser paints again.
SCRUB = """(to) => {
  const scrub = document.getElementById("scrub");
  scrub.value = String(to);
  scrub.dispatchEvent(new Event("input", { bubbles: true }));
  const code = document.getElementById("code");
  return { t: Number(scrub.value), at: Number(code.dataset.at), text: code.textContent };
}"""


async def type_session(server, session_id: str, token: str, name: str, count: int, seed: int) -> None:
    """A typist: mostly appending, now and then a newline or a backspace, in small bursts."""
    rng = random.Random(seed)
    client = await YClient.start(server.ws_base, session_id, token, name)
    try:
        await client.synced()
        text = await client.text()
        for i in range(count):
            if len(text) > 10 and rng.random() < 0.08:
                client.send(op="delete", index=len(text) - 1, length=1)
                text = text[:-1]
            else:
                ch = "\n" if rng.random() < 0.05 else rng.choice("abcdefghij (=):")
                client.send(op="append", text=ch)
                text += ch
            if i % 40 == 39:
                await asyncio.sleep(0.2)  # the recording spans a few seconds: playback has frames to sample
        await client.wait_text(text, timeout=60)
        await asyncio.sleep(0.5)  # the server has applied and recorded the last of them
    finally:
        await client.close()


async def server_text(http: httpx.AsyncClient, session_id: str, at: int) -> str:
    r = await http.get(f"/api/sessions/{session_id}/document", params={"at": at})
    assert r.status_code == 200, r.text
    return r.json()["text"]


async def test_scrub_and_play_at_32x_match_the_server_document(server_factory) -> None:
    assert (DIST / "replay.html").is_file(), "frontend/dist lacks the replay page: run scripts/build-frontend.sh"
    server = server_factory(**FAST_DOC)
    created = server.create_session("Ada")
    sid, tokens = created["id"], created["tokens"]
    await type_session(server, sid, tokens["candidate"], "Ada", KEYSTROKES, seed=1)
    await type_session(server, sid, tokens["interviewer"], "Ivy", 120, seed=2)

    errors: list[str] = []
    async with (
        httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as http,
        async_playwright() as pw,
    ):
        recording = await http.get(f"/api/sessions/{sid}/recording")
        checkpoints = recording.text.count('"type":"doc.checkpoint"')
        assert checkpoints >= 8, checkpoints
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page: Page = await browser.new_page(viewport={"width": 1280, "height": 900})
            watch_errors(page, errors)
            await page.goto(f"{server.base}/replay/{sid}?token={tokens['reviewer']}")
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
            await expect(page.locator("#load-progress")).to_be_hidden()
            end = int(await page.locator("#scrub").get_attribute("max") or 0)
            assert end > 3000, end

            # -- scrubbing: random moments, back and forth, each drawn before the next paint ----
            rng = random.Random(3)
            moments = [0, end, end // 2, 1, *rng.sample(range(end), 30), end // 3, 2 * end // 3]
            for at in moments:
                shown = await page.evaluate(SCRUB, at)
                assert shown["at"] == shown["t"] == at
                assert shown["text"] == await server_text(http, sid, at), f"scrub to {at}"

            # -- playback at 32x from a third of the way in, sampled every frame ---------------
            await page.evaluate(SCRUB, end // 3)
            await page.locator("#speed").select_option("32")
            await page.locator("#play").click()
            await page.evaluate(SAMPLER)
            await expect(page.locator("#play")).to_have_attribute("aria-pressed", "false", timeout=60_000)
            samples = await page.evaluate("window.__samples")
            assert len(samples) >= 10, len(samples)
            times = [s["t"] for s in samples]
            assert times == sorted(times) and times[-1] == end
            for s in samples:
                assert s["at"] == s["t"]
                assert s["text"] == await server_text(http, sid, s["t"]), f"played to {s['t']}"
            # Visible edits: typed text was highlighted, labelled with who typed it.
            assert any(s["marks"] > 0 for s in samples)
            who = {s["who"] for s in samples if s["who"]}
            assert "Ada (candidate)" in who and "interviewer" in who, who

            # After the highlights fade, the editor shows the plain text.
            await expect(page.locator("#code mark")).to_have_count(0, timeout=10_000)
            assert await page.locator("#code").text_content() == await server_text(http, sid, end)
            assert errors == []
        finally:
            await browser.close()
