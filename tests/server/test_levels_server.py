"""A session interviewed at a level, on a real `clarify serve` (issue 14).

``POST /api/sessions`` takes a level (default: the pack's; anything else is a 422 that creates
nothing); the session, its listing and its recording carry it; at staff the interviewer's panel
(in a real browser) offers the design-discussion dimension, the server accepts its rating, and
the scorecard (JSON, page and PDF) says which bar it applied. A mid session has no such
dimension, and the candidate never receives any of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.async_api import async_playwright, expect

from problems import load_pack
from server.clarify.levels import load_levels
from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, watch_errors
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, events_socket, recv_until
from tests.server.test_scorecard_two_minute import pdf_has

STAFF_DESIGN = next(d for d in load_levels().level["staff"].dimension if d.id == "design-discussion")


async def _create(http: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await http.post("/api/sessions", json={"candidate": "Ada", **body})


async def test_level_is_accepted_defaulted_recorded_and_bad_levels_are_refused(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    auth = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=server.base, headers=auth, timeout=30) as http:
        staff = await _create(http, problem=problem.id, level="staff")
        assert staff.status_code == 201, staff.text
        assert staff.json()["level"] == "staff"
        default = await _create(http, problem=problem.id)
        assert default.status_code == 201 and default.json()["level"] == "mid"  # the pack's level
        before = (await http.get("/api/sessions")).json()
        for bad in ("principal", "Staff", 3, ["staff"], ""):
            r = await _create(http, problem=problem.id, level=bad)
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["message"].startswith("level: ") and "'junior', 'mid', 'senior' or 'staff'" in r.text
        assert len((await http.get("/api/sessions")).json()) == len(before)  # a refused level creates nothing
        null = await _create(http, problem=problem.id, level=None)
        assert null.status_code == 201 and null.json()["level"] == "mid"  # null is "not given"
        after = (await http.get("/api/sessions")).json()
        assert len(after) == len(before) + 1
        listed = {s["id"]: s["level"] for s in after}
        assert listed[staff.json()["id"]] == "staff" and listed[default.json()["id"]] == "mid"
        sid = staff.json()["id"]
        summary = (await http.get(f"/api/sessions/{sid}", params={"token": staff.json()["tokens"]["candidate"]})).json()
        assert summary["level"] == "staff"
        recording = await http.get(f"/api/sessions/{sid}/recording")
        created = [json.loads(line) for line in recording.text.splitlines() if '"session.created"' in line]
        assert created and created[0]["payload"]["level"] == "staff"
        audit = await http.get("/api/audit", params={"action": "session.create", "session": sid})
        assert audit.status_code == 200 and '"level": "staff"' in json.dumps(audit.json())


async def test_staff_level_rates_the_design_discussion_and_the_scorecard_says_its_bar(
    server_factory, tmp_path: Path
) -> None:
    assert (DIST / "room.html").is_file(), "frontend/dist is missing: bash scripts/build-frontend.sh"
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        staff = (await _create(http, problem=problem.id, level="staff")).json()
        mid = (await _create(http, problem=problem.id, level="mid")).json()

    # A mid session: no design-discussion dimension, and rating it is refused.
    async with events_socket(server, mid["id"], mid["tokens"]["interviewer"]) as ws:
        hello = (await recv_until(ws, lambda m: m["type"] == "hello"))[-1]
        dims = [d["id"] for d in hello["problem"]["rubric"]]
        assert dims == ["framing", "scope-and-triage"] and hello["problem"]["level"] == "mid"
        await ws.send(json.dumps({"type": "rate", "dimension": "design-discussion", "score": 4}))
        error = (await recv_until(ws, lambda m: m["type"] == "error"))[-1]
        assert "unknown rubric dimension 'design-discussion'" in error["message"]

    # The staff session: the interviewer's panel, in a browser, lists and rates it.
    errors: list[str] = []
    frames: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            watch_errors(page, errors)
            candidate = await (await browser.new_context()).new_page()
            candidate.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(str(p))))
            await page.goto(staff["links"]["interviewer"])
            await candidate.goto(staff["links"]["candidate"])
            await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
            await expect(candidate.locator("#connection")).to_have_text("connected", timeout=15_000)
            await page.get_by_role("tab", name="Notes & rating").click()
            await expect(page.locator("fieldset.dimension legend")).to_have_text(
                ["Frames the problem", "Scope & triage (staff bar)", STAFF_DESIGN.title]
            )
            await expect(page.locator(".level-bar")).to_have_text("Rated at the staff bar")
            score = page.locator('fieldset[data-dimension="design-discussion"] button[data-score="4"]')
            await score.click()
            await expect(score).to_have_attribute("aria-pressed", "true")
            await expect(page.locator('fieldset[data-dimension="design-discussion"] .anchor')).to_have_text(
                f"4: {STAFF_DESIGN.anchors['4']}"
            )
            assert not await candidate.locator("fieldset.dimension").count()
        finally:
            await browser.close()
    assert not errors, errors
    assert frames and not [f for f in frames if STAFF_DESIGN.anchors["4"] in f or "scope-and-triage" in f]

    base = f"/api/sessions/{staff['id']}/scorecard"
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        card = (await http.get(base, params={"token": staff["tokens"]["reviewer"]})).json()
        assert card["level"] == "staff" and card["problem_meta"]["level"] == "mid"
        bar = card["bar"]
        assert (bar["level"], bar["pack_level"], bar["source"]) == ("staff", "mid", "session")
        assert [d["id"] for d in bar["extra_dimensions"]] == ["scope-and-triage", "design-discussion"]
        assert bar["bands"][0] == {"from": 90, "name": "strong yes"}
        assert bar["line"].startswith("Bar applied: staff (chosen for this session) \u2014 ")
        rated = card["ratings"]["design-discussion"]
        assert rated["score"] == 4 and rated["anchor"] == STAFF_DESIGN.anchors["4"]
        assert card["band_explained"]["bands"][0]["from"] == 90
        assert card["ratings"].keys() == {"design-discussion"} and card["parts"]["ratings"] == 100.0

        page = await http.get(base, params={"token": staff["tokens"]["reviewer"]}, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert '<p class="bar-applied">Bar applied: staff (chosen for this session) \u2014 ' in page.text
        assert "Bands at the staff bar: <strong>strong yes</strong> from 90, <strong>yes</strong> from 75," in page.text
        pdf = await http.get(f"{base}.pdf", params={"token": staff["tokens"]["reviewer"]})
        assert pdf.status_code == 200 and pdf_has(pdf.content, "Bar applied: staff (chosen for this session)")

        mid_card = (
            await http.get(f"/api/sessions/{mid['id']}/scorecard", params={"token": mid["tokens"]["reviewer"]})
        ).json()
        assert mid_card["bar"]["line"].startswith("Bar applied: mid (the problem's level)")
        assert [d["id"] for d in mid_card["bar"]["extra_dimensions"]] == ["scope-and-triage"]
