"""Every staff action in a recording names the person who took it (the event's actor is the
member id; its payload's ``by_name`` the display name),
live, after a SIGKILL restart (state rebuilt from the recording), in the scorecard, and in the
comparison filtered by interviewer."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.signin.helpers import create_as, first, member_socket
from tests.signin.idp import sign_in

PROBLEM = "ticket-escalation"
STAFF_TYPES = {
    "session.created",
    "clarify.answer",
    "clarify.discovered",
    "clarify.reveal",
    "clarify.note",
    "clarify.rate",
    "clarify.mode",
    "clarify.checks",
    "session.ended",
}


async def _act(signin, alice: httpx.Client, made: dict) -> None:
    base, ws_base, sid = signin.base, signin.server.ws_base, made["id"]
    candidate_url = f"{ws_base}/ws/events/{sid}?token={made['tokens']['candidate']}"
    async with (
        websockets.connect(candidate_url) as cand,
        member_socket(ws_base, sid, alice, base) as staff,
    ):
        await first(cand, lambda m: m["type"] == "hello")
        hello = await first(staff, lambda m: m["type"] == "hello")
        assert hello["role"] == "interviewer"
        await cand.send(json.dumps({"type": "ask", "text": "How many tickets actually escalate?"}))
        await first(staff, lambda m: m["type"] == "suggestion")
        await staff.send(
            json.dumps({"type": "answer", "question": 1, "constraint": "class-imbalance", "use_pack_answer": True})
        )
        await staff.send(json.dumps({"type": "mark", "constraint": "leakage"}))
        await staff.send(json.dumps({"type": "reveal", "constraint": "pii"}))
        await staff.send(json.dumps({"type": "note", "text": "Asked about the base rate first."}))
        await staff.send(json.dumps({"type": "rate", "dimension": "problem-framing", "score": 3}))
        await staff.send(json.dumps({"type": "mode", "mode": "auto"}))
        await staff.send(json.dumps({"type": "checks"}))
        await first(staff, lambda m: m["type"] == "checks", timeout=240)


async def _hello_after_restart(signin, alice: httpx.Client, sid: str) -> dict:
    async with member_socket(signin.server.ws_base, sid, alice, signin.base) as staff:
        return await first(staff, lambda m: m["type"] == "hello", timeout=60)


def test_every_staff_action_names_its_author_through_a_restart(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice:
        alice_id = alice.get(f"{base}/api/me").json()["id"]
        made = create_as(alice, base, "Ada", problem=PROBLEM)
        asyncio.run(_act(signin, alice, made))

        signin.server.kill()  # SIGKILL: no shutdown, no flush beyond what the recorder did
        signin.server.start()

        hello = asyncio.run(_hello_after_restart(signin, alice, made["id"]))
        clarify = hello["clarify"]
        assert clarify["notes"][0]["by"] == alice_id and clarify["notes"][0]["name"] == "Alice Interviewer"
        rating = clarify["ratings"]["problem-framing"]
        assert rating["by"] == alice_id and rating["name"] == "Alice Interviewer"
        assert clarify["mode"] == "auto"

        ended = alice.post(f"{base}/api/sessions/{made['id']}/end")
        assert ended.status_code == 200, ended.text

        recording = alice.get(f"{base}/api/sessions/{made['id']}/recording")
        events = [json.loads(line) for line in recording.text.splitlines()]
        staff = [e for e in events if e["type"] in STAFF_TYPES]
        assert {e["type"] for e in staff} == STAFF_TYPES
        for e in staff:
            assert e["actor"] == alice_id, e
            assert e["payload"]["by_name"] == "Alice Interviewer", e
        # The candidate's question stays the candidate's (no staff name on it).
        ask = next(e for e in events if e["type"] == "clarify.ask")
        assert ask["role"] == "candidate" and "by_name" not in ask["payload"]

        card = alice.get(f"{base}/api/sessions/{made['id']}/scorecard").json()
        assert card["ratings"]["problem-framing"]["name"] == "Alice Interviewer"
        assert card["notes"][0]["name"] == "Alice Interviewer"
        assert card["session"]["host_name"] == "Alice Interviewer"
        page = alice.get(f"{base}/api/sessions/{made['id']}/scorecard", headers={"Accept": "text/html"}).text
        assert "Alice Interviewer" in page

        # The recording imports back (the names validate) and keeps them.
        imported = alice.post(
            f"{base}/api/recordings", content=recording.text, headers={"Content-Type": "application/x-ndjson"}
        )
        assert imported.status_code == 201, imported.text

        compare = f"{base}/api/problems/{PROBLEM}/comparison"
        mine = alice.get(compare, params={"interviewer": alice_id}).json()
        assert made["id"] in [c["session"] for c in mine["candidates"]]
        assert all(c["interviewer"]["id"] == alice_id for c in mine["candidates"])
        others = alice.get(compare, params={"interviewer": "somebody-else"}).json()
        assert others["candidates"] == []
