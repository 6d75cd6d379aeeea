"""Undo, overturn and granted assistant credit end to end: real `clarify serve`, real Redis,
real websockets; an overturn after the session ended through the API; auto mode on questions
about nothing hidden, on a shipped pack."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from problems import PACKS_DIR, load_pack
from server.clarify.session import NEUTRAL_REPLY, RETRACTED_NOTE
from tests.clarify.test_flow import drain
from tests.clarify.test_overturn_undo import CONFIDENT, OFF_TOPIC
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, events_socket, recv_until, staff_get


def is_type(kind: str):
    return lambda m: m["type"] == kind


async def recording(server, sid: str) -> list[dict]:
    r = await staff_get(server, f"/api/sessions/{sid}/recording")
    assert r.status_code == 200
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


async def test_undo_live_and_overturn_live_and_after_the_end(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs), CLARIFY_UNDO_WINDOW_S="45")
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada"})).json()
    sid, tokens = s["id"], s["tokens"]
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
        events_socket(server, sid, tokens["observer"]) as obs,
    ):
        for ws in (cand, staff, obs):
            await ws.recv()

        # An answer with the pack text, undone within the window: the candidate's answer goes.
        await cand.send(json.dumps({"type": "ask", "text": CONFIDENT}))
        suggestion = (await recv_until(staff, is_type("suggestion")))[-1]
        qid = suggestion["question"]
        await staff.send(
            json.dumps({"type": "answer", "question": qid, "constraint": "multilingual", "use_pack_answer": True})
        )
        undoable = (await recv_until(staff, is_type("undoable")))[-1]
        assert undoable["kind"] == "answer" and undoable["question"] == qid and undoable["window_ms"] == 45_000
        await recv_until(cand, lambda m: m["type"] == "answer" and m["question"] == qid)

        await obs.send(json.dumps({"type": "undo", "event": undoable["event"]}))
        err = (await recv_until(obs, is_type("error")))[-1]
        assert "observer" in err["message"]
        await staff.send(json.dumps({"type": "undo", "event": undoable["event"]}))
        retracted = (await recv_until(cand, is_type("answer.retracted")))[-1]
        assert retracted == {
            "type": "answer.retracted",
            "question": qid,
            "note": RETRACTED_NOTE,
            "view": retracted["view"],
        }
        assert retracted["view"]["answer"] is None and retracted["view"]["status"] == "open"
        seen = await recv_until(staff, is_type("undone"))
        assert seen[-1]["kind"] == "answer" and seen[-1]["constraint"] == "multilingual"
        ledger = (await recv_until(staff, is_type("ledger")))[-1]  # after the undo
        assert ledger["ledger"]["constraints"]["multilingual"] is None
        await staff.send(json.dumps({"type": "undo", "event": undoable["event"]}))
        err = (await recv_until(staff, is_type("error")))[-1]
        assert "not an answer or a mark that can be undone" in err["message"]

        # "Mark only" credits the typed question without answering it; grant assistant credit.
        await staff.send(json.dumps({"type": "mark", "constraint": "multilingual", "how": "typed", "question": qid}))
        ledger = (await recv_until(staff, is_type("ledger")))[-1]
        assert ledger["discovery"]["how"] == "typed" and ledger["discovery"]["quote"] == CONFIDENT
        await staff.send(
            json.dumps({"type": "mark", "constraint": "latency-budget", "how": "assistant", "quote": "how fast?"})
        )
        ledger = (await recv_until(staff, is_type("ledger")))[-1]
        assert ledger["discovery"]["how"] == "assistant" and ledger["discovery"]["auto"] is False

        # Live overturn over the socket (an observer may; a candidate may not).
        await cand.send(json.dumps({"type": "overturn", "constraint": "multilingual", "reason": "mine"}))
        err = (await recv_until(cand, is_type("error")))[-1]
        assert "candidate" in err["message"]
        await obs.send(json.dumps({"type": "overturn", "constraint": "multilingual", "reason": "leading question"}))
        ledger = (await recv_until(staff, is_type("ledger")))[-1]
        overturned = ledger["discovery"]["overturned"]
        assert overturned["reason"] == "leading question" and overturned["by"].startswith("observer")
        await obs.send(json.dumps({"type": "overturn", "constraint": "latency-budget"}))
        err = (await recv_until(obs, is_type("error")))[-1]
        assert "reason" in err["message"]
        cand_frames = await drain(cand)
        assert not any(json.loads(f)["type"] in ("ledger", "undoable", "undone") for f in cand_frames)

    # The session ends; a reviewer overturns the assistant credit through the API.
    async with httpx.AsyncClient(base_url=server.base) as http:
        r = await http.post(f"/api/sessions/{sid}/end", headers={"Authorization": f"Bearer {tokens['interviewer']}"})
        assert r.status_code == 200
        card = (await http.get(f"/api/sessions/{sid}/scorecard", params={"token": tokens["reviewer"]})).json()
        before = card["parts"]["discovery"]
        assert before > 0
        url = f"/api/sessions/{sid}/overturn"
        review = {"Authorization": f"Bearer {tokens['reviewer']}"}
        bad = [
            ({}, {"constraint": "latency-budget", "reason": "x"}, 401),
            # The candidate's link says "ended" once the session is over.
            ({"Authorization": f"Bearer {tokens['candidate']}"}, {"constraint": "latency-budget", "reason": "x"}, 409),
            (review, "not json", 422),
            (review, {"constraint": "latency-budget"}, 422),
            (review, {"constraint": "latency-budget", "reason": ""}, 422),
            (review, {"constraint": "nope", "reason": "x"}, 422),
            (review, {"constraint": "multilingual", "reason": "again"}, 422),  # already overturned
        ]
        for headers, body, status in bad:
            kw = {"content": body} if isinstance(body, str) else {"json": body}
            r = await http.post(url, headers=headers, **kw)
            assert r.status_code == status, (body, r.text)
            assert r.json()["message"]
        r = await http.post(
            url, headers=review, json={"constraint": "latency-budget", "reason": "the assistant said it"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["discovery"]["overturned"]["reason"] == "the assistant said it"
        card = (await http.get(f"/api/sessions/{sid}/scorecard", params={"token": tokens["reviewer"]})).json()
    rows = {row["constraint"]: row for row in card["discovery"]}
    assert rows["latency-budget"]["overturned"]["by"] == "reviewer-link"
    assert rows["latency-budget"]["how"] == "assistant" and rows["latency-budget"]["credit"] == 0.0
    assert rows["multilingual"]["overturned"]["reason"] == "leading question"
    assert rows["multilingual"]["auto"] is False and card["parts"]["discovery"] == 0.0 < before

    # Everything is in the recording, and a re-import gives the same scorecard.
    events = await recording(server, sid)
    kinds = [e["type"] for e in events]
    assert kinds.count("clarify.overturned") == 2 and kinds.count("clarify.undone") == 1
    undone = next(e for e in events if e["type"] == "clarify.undone")
    assert undone["payload"]["reason"] == "correction" and undone["role"] == "interviewer"
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        # The audit log says who changed a score, and when (the reason stays in the recording).
        r = await http.get("/api/audit", params={"action": "discovery.overturn", "session": sid})
        [entry] = r.json()["entries"]
        assert (entry["actor"], entry["target"]) == ("reviewer-link", "latency-budget")
        assert "the assistant said it" not in json.dumps(entry)
        body = "\n".join(json.dumps(e) for e in events)
        r = await http.post("/api/recordings", content=body)
        assert r.status_code == 201, r.text
        again = (await http.get(f"/api/sessions/{r.json()['id']}/scorecard")).json()

    def judged(c: dict) -> list[tuple]:
        return [(r["constraint"], r["how"], r["credit"], r["auto"], r["overturned"]) for r in c["discovery"]]

    assert judged(again) == judged(card) and again["parts"] == card["parts"]


async def test_auto_mode_gives_a_neutral_reply_and_no_credit_off_topic(server_factory) -> None:
    """On a shipped pack, the questions a candidate asks about nothing hidden."""
    problem = load_pack(PACKS_DIR / "rag-support-assistant")
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Bo"})).json()
    async with (
        events_socket(server, s["id"], s["tokens"]["interviewer"]) as staff,
        events_socket(server, s["id"], s["tokens"]["candidate"]) as cand,
    ):
        await staff.recv()
        await cand.recv()
        await staff.send(json.dumps({"type": "mode", "mode": "auto"}))
        await recv_until(staff, is_type("mode"))
        for question in OFF_TOPIC:
            await cand.send(json.dumps({"type": "ask", "text": question}))
            answer = (await recv_until(cand, is_type("answer")))[-1]
            assert answer["text"] == NEUTRAL_REPLY, question
        await cand.send(json.dumps({"type": "ask", "text": "Is the index refreshed, or can articles be stale?"}))
        await recv_until(cand, is_type("answer"))
    card = (await staff_get(server, f"/api/sessions/{s['id']}/scorecard")).json()
    found = [row for row in card["discovery"] if row["discovered"]]
    # At most the one on-topic question was credited, and any credit auto mode gave is marked so.
    assert all(row["auto"] is True and row["overturned"] is None for row in found)
    assert len(found) <= 1
    assert [q["answer"] for q in card["questions"][:4]] == [NEUTRAL_REPLY] * 4
    assert all(q["constraint"] is None for q in card["questions"][:4])
