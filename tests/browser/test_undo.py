"""Undo in the shared editor undoes only your own edits, never a collaborator's."""

from __future__ import annotations

import httpx
from playwright.async_api import async_playwright

from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, editor_text, wait_editor_text, watch_errors
from tests.server.harness import ADMIN


async def test_undo_only_undoes_your_own_edits(server_factory) -> None:
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post("/api/sessions", json={"candidate": "Ada"}, headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 201, r.text
    links = r.json()["links"]
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages = {}
            for role in ("interviewer", "candidate"):
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                watch_errors(page, errors)
                await page.goto(links[role])
                await page.wait_for_selector("#connection[data-state='connected']")
                pages[role] = page
            cand, inter = pages["candidate"], pages["interviewer"]
            await cand.click(".cm-content")
            await cand.keyboard.type("mine = 1")
            await wait_editor_text(inter, "mine = 1")
            await inter.click(".cm-content")
            await inter.keyboard.press("Control+End")
            await inter.keyboard.press("Enter")
            await inter.keyboard.type("theirs = 2")
            await wait_editor_text(cand, "mine = 1\ntheirs = 2")
            await cand.keyboard.press("Control+z")
            await wait_editor_text(inter, "\ntheirs = 2")
            assert await editor_text(cand) == "\ntheirs = 2"
            await cand.keyboard.press("Control+y")
            await wait_editor_text(inter, "mine = 1\ntheirs = 2")
        finally:
            await browser.close()
    assert errors == []
