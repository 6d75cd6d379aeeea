"""Signing in with a real browser (Debian's Chromium) through a real OpenID provider
(panva/oidc-provider): an interviewer hosts a session and opens its room with no token in any
URL; a reviewer can neither create sessions nor open a live room's staff panel; a cookie
request without the CSRF token changes nothing; a replayed sign-in is refused; disabling a
member closes their open room at once."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from tests.browser.shots import screenshot
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST
from tests.signin.helpers import admin_headers


@pytest.fixture(autouse=True)
def built_frontend() -> None:
    assert (DIST / "home.html").is_file() and (DIST / "team.html").is_file(), (
        "the frontend is not built: run `make frontend`"
    )


async def browser_sign_in(context: BrowserContext, base: str, username: str, shot: str | None = None) -> Page:
    """Sign in from the staff home through the provider's login form; returns the home page."""
    page = await context.new_page()
    await page.goto(f"{base}/")
    await page.get_by_role("link", name="Sign in with your identity provider").click()
    await page.wait_for_url("**/interaction/**")
    if shot:
        await screenshot(page, shot)
    await page.fill("input[name=login]", username)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await expect(page.locator("#whoami")).to_contain_text(username.capitalize(), timeout=15_000)
    return page


async def test_interviewer_and_reviewer_sign_in(signin) -> None:
    base = signin.base
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # -- the interviewer: create a session, open its room through sign-in ----------
            alice_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
            callbacks: list[str] = []
            alice_ctx.on("request", lambda r: callbacks.append(r.url) if "/auth/callback" in r.url else None)
            home = await browser_sign_in(alice_ctx, base, "alice", shot="signin-idp.png")
            await expect(home.locator("#whoami")).to_contain_text("Alice Interviewer · interviewer")
            await home.fill("#candidate", "Ada Lovelace")
            await home.click("#create button[type=submit]")
            row = home.locator("#sessions tr", has_text="Ada Lovelace")
            await expect(row).to_have_count(1)
            await expect(row).to_contain_text("Alice Interviewer")
            await screenshot(home, "signin-home.png", full_page=True)
            session_id = await row.get_attribute("data-session")
            assert session_id
            # No token in any URL the page shows.
            hrefs = await home.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
            assert not [h for h in hrefs if "token=" in h and "/auth/" not in h], hrefs

            # A cookie request without the CSRF header changes nothing.
            status = await home.evaluate(
                """async () => (await fetch('/api/sessions', {method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({candidate: 'Forged'})})).status"""
            )
            assert status == 403

            async with alice_ctx.expect_page() as opened:
                await row.get_by_role("link", name="Room").click()
            room = await opened.value
            await room.wait_for_load_state()
            assert "token=" not in room.url
            await expect(room.locator("#role")).to_have_text("interviewer", timeout=30_000)
            await expect(room.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
            await expect(room.locator("#presence")).to_contain_text("Alice Interviewer", timeout=15_000)
            await expect(room.locator("#right .staff-tabs, #right [role=tablist]").first).to_be_visible()

            # The room's address opened in a fresh browser: sign in from it and land back in it.
            fresh_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
            fresh = await fresh_ctx.new_page()
            await fresh.goto(f"{base}/s/{session_id}")
            await expect(fresh.locator("#closed-title")).to_have_text("Sign in to open this room", timeout=15_000)
            await fresh.get_by_role("link", name="Sign in").click()
            await fresh.wait_for_url("**/interaction/**")
            await fresh.fill("input[name=login]", "alice")
            await fresh.click("button[type=submit]")
            await fresh.wait_for_url(f"{base}/s/{session_id}")
            await expect(fresh.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
            await expect(fresh.locator("#role")).to_have_text("interviewer")
            await fresh_ctx.close()

            # A replayed sign-in (the same callback URL again) is refused with a clear page.
            assert callbacks
            replay = await alice_ctx.new_page()
            await replay.goto(callbacks[0])
            await expect(replay.locator("h1")).to_have_text("Sign-in refused")
            await expect(replay.locator("#signin-message")).to_contain_text("already used")

            # -- the reviewer: reads, never creates, never sees the live staff panel --------
            rita_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
            rita = await browser_sign_in(rita_ctx, base, "rita")
            await expect(rita.locator("#whoami")).to_contain_text("Rita Reviewer · reviewer")
            await expect(rita.locator("#create")).to_be_hidden()
            await expect(rita.locator("#sessions tr", has_text="Ada Lovelace")).to_have_count(1)
            created = await rita.evaluate(
                """async () => {
                    const me = await (await fetch('/api/me')).json();
                    return (await fetch('/api/sessions', {method: 'POST',
                        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf},
                        body: JSON.stringify({candidate: 'Sneaky'})})).status;
                }"""
            )
            assert created == 403
            frames: list[str] = []
            rita_room = await rita_ctx.new_page()
            rita_room.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
            await rita_room.goto(f"{base}/s/{session_id}")
            await expect(rita_room.locator("#connection")).to_have_attribute("data-state", "closed", timeout=30_000)
            await expect(rita_room.locator("#notice")).to_contain_text("may not join")
            assert await rita_room.locator(".staff-tabs, [role=tablist]").count() == 0
            assert not any('"constraints"' in f for f in frames)
            # The panel's pages work by the cookie alone: the replay, the scorecard, the comparison.
            replay = await rita_ctx.new_page()
            await replay.goto(f"{base}/replay/{session_id}")
            await expect(replay.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
            assert "token=" not in replay.url
            async with rita_ctx.expect_page() as opened:
                await rita.locator(".problem .compare-link").first.click()
            compare = await opened.value
            await compare.wait_for_load_state()
            await expect(compare.locator("table")).to_contain_text("Ada Lovelace")
            await expect(compare.locator("table")).to_contain_text("Alice Interviewer")
            card = await rita_ctx.new_page()
            await card.goto(f"{base}/api/sessions/{session_id}/scorecard")
            await expect(card.locator("body")).to_contain_text("Ada Lovelace")
            async with httpx.AsyncClient() as http:
                listed = (await http.get(f"{base}/api/sessions", headers=admin_headers())).json()
            assert [s["candidate"] for s in listed] == ["Ada Lovelace"]

            # The host ends the session from the room: a cookie request with the CSRF header,
            # recorded as hers.
            room.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
            await room.locator(".end-session").click()
            await expect(room.locator("#connection")).to_have_attribute("data-state", "closed", timeout=15_000)
            async with httpx.AsyncClient() as http:
                info = (await http.get(f"{base}/api/sessions/{session_id}", headers=admin_headers())).json()
                assert info["status"] == "ended"
                lines = (
                    await http.get(f"{base}/api/sessions/{session_id}/recording", headers=admin_headers())
                ).text.splitlines()
            ended = [json.loads(line) for line in lines if '"session.ended"' in line]
            assert ended and ended[-1]["payload"].get("by_name") == "Alice Interviewer", ended
        finally:
            await browser.close()


async def test_a_disabled_members_open_room_disconnects(signin) -> None:
    base = signin.base
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
            home = await browser_sign_in(ctx, base, "alice")
            await home.fill("#candidate", "Grace Hopper")
            await home.click("#create button[type=submit]")
            row = home.locator("#sessions tr", has_text="Grace Hopper")
            await expect(row).to_have_count(1)
            session_id = await row.get_attribute("data-session")

            # From the home page: a new candidate link (the old one stops working), revoking
            # it, and ending a session, each a cookie request with the CSRF header.
            home.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
            await home.fill("#candidate", "Linus")
            await home.click("#create button[type=submit]")
            other = home.locator("#sessions tr", has_text="Linus")
            await expect(other).to_have_count(1)
            other_id = await other.get_attribute("data-session")
            old_link = await home.locator("#created-links li[data-role=candidate] input").input_value()
            await other.get_by_role("button", name="New candidate link").click()
            await expect(home.locator("#created-title")).to_contain_text("New candidate link for Linus")
            new_link = await home.locator("#created-links li[data-role=candidate] input").input_value()
            assert new_link != old_link and "token=" in new_link
            async with httpx.AsyncClient() as http:
                old_token = old_link.split("token=")[1]
                new_token = new_link.split("token=")[1]
                assert (await http.get(f"{base}/api/sessions/{other_id}?token={old_token}")).status_code == 401
                assert (await http.get(f"{base}/api/sessions/{other_id}?token={new_token}")).status_code == 200
                await other.get_by_role("button", name="Revoke candidate link").click()
                await expect(home.locator("#notice")).to_contain_text("no longer works")
                assert (await http.get(f"{base}/api/sessions/{other_id}?token={new_token}")).status_code == 401
            await other.get_by_role("button", name="End").click()
            await expect(home.locator("#sessions tr", has_text="Linus")).to_contain_text("ended")

            room = await ctx.new_page()
            closes: list[int] = []
            room.on("websocket", lambda ws: ws.on("close", lambda _: closes.append(1)))
            await room.goto(f"{base}/s/{session_id}")
            await expect(room.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
            me = await home.evaluate("async () => (await (await fetch('/api/me')).json()).id")
            async with httpx.AsyncClient() as http:
                r = await http.patch(f"{base}/api/members/{me}", json={"disabled": True}, headers=admin_headers())
            assert r.status_code == 200
            await expect(room.locator("#connection")).to_have_attribute("data-state", "closed", timeout=5_000)
            await expect(room.locator("#notice")).to_contain_text("not valid")
            await asyncio.sleep(0.5)
            assert len(closes) >= 2  # both sockets
            await home.reload()
            await expect(home.get_by_role("link", name="Sign in with your identity provider")).to_be_visible()

            # The admin's team page: members and the audit log.
            admin_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
            await browser_sign_in(admin_ctx, base, "adam")
            team = await admin_ctx.new_page()
            await team.goto(f"{base}/team")
            row = team.locator("#members tr", has_text="Alice Interviewer")
            await expect(row).to_contain_text("disabled")
            await expect(team.locator("#audit")).to_contain_text("member.disable")
            await screenshot(team, "team-members.png", full_page=True)
        finally:
            await browser.close()
