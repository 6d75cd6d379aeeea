"""The clarify flow over real websockets, and a whole session walked as the candidate:
no hidden text ever reaches the candidate's socket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from problems import load_pack
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, events_socket, recv_until, staff_get


def hidden_texts(problem) -> list[str]:
    out = []
    for c in problem.meta.constraint:
        out += [c.title, c.answer, c.probe, *c.cues]
    for d in problem.meta.rubric:
        out += [d.title, *d.anchors.values()]
    out += [c.description for c in problem.meta.check]
    if problem.meta.summary:
        out.append(problem.meta.summary)  # the staff summary may name the traps
    return out


async def drain(ws, seconds: float = 0.3) -> list[str]:
    """Every frame that arrives within ``seconds`` of quiet."""
    frames = []
    try:
        while True:
            frames.append(await asyncio.wait_for(ws.recv(), seconds))
    except TimeoutError:
        return frames


async def test_a_whole_session_as_the_candidate_leaks_nothing_and_scores(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada"})).json()
    sid, tokens = s["id"], s["tokens"]
    candidate_frames: list[str] = []
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
        events_socket(server, sid, tokens["observer"]) as obs,
    ):
        candidate_frames.append(await cand.recv())
        hello = json.loads(await staff.recv())
        assert hello["clarify"]["ledger"]["constraints"] == {"multilingual": None, "latency-budget": None}
        await obs.recv()

        # The candidate asks; staff see a suggestion, the candidate only their question.
        await cand.send(json.dumps({"type": "ask", "text": "Are all the listings in English, or other languages?"}))
        seen = await recv_until(staff, lambda m: m["type"] == "suggestion")
        suggestion = seen[-1]
        assert suggestion["proposed"] == "multilingual"
        candidate_frames += await drain(cand)
        assert [json.loads(f)["type"] for f in candidate_frames[1:]] == ["question"]

        # The interviewer confirms and answers with the pack's answer; the candidate reads it.
        await staff.send(
            json.dumps(
                {
                    "type": "answer",
                    "question": suggestion["question"],
                    "constraint": "multilingual",
                    "use_pack_answer": True,
                }
            )
        )
        ledger = (await recv_until(staff, lambda m: m["type"] == "ledger"))[-1]
        assert ledger["discovery"]["how"] == "typed" and ledger["discovery"]["before_first_run"] is True
        frames = await drain(cand)
        candidate_frames += frames
        answer = next(json.loads(f) for f in frames if json.loads(f)["type"] == "answer")
        assert answer["text"] == problem.meta.constraint[0].answer  # the candidate may read the answer they asked for

        # A run, then a constraint asked out loud, a private note and a rating.
        await cand.send(json.dumps({"type": "run", "code": problem.starter}))
        candidate_frames += [json.dumps(m) for m in await recv_until(cand, lambda m: m["type"] == "run.done")]
        await staff.send(
            json.dumps(
                {"type": "mark", "constraint": "latency-budget", "how": "aloud", "quote": "how fast must this be?"}
            )
        )
        await staff.send(json.dumps({"type": "note", "text": "PRIVATE-NOTE asked about languages early"}))
        await staff.send(json.dumps({"type": "rate", "dimension": "framing", "score": 4}))
        await recv_until(staff, lambda m: m["type"] == "rating")
        await obs.send(json.dumps({"type": "note", "text": "observer cannot write"}))
        err = (await recv_until(obs, lambda m: m["type"] == "error"))[-1]
        assert "observer" in err["message"]

        # Candidate errors never echo hidden text either.
        for bad in (
            {"type": "mark", "constraint": "latency-budget"},
            {"type": "answer", "question": 1, "text": "x"},
            {"type": "ask", "text": ""},
            {"type": "rate", "dimension": "framing", "score": 9},
        ):
            await cand.send(json.dumps(bad))
        await cand.send(json.dumps({"type": "ask", "text": "Is there a latency budget?"}))
        candidate_frames += await drain(cand, 1.0)
        assert sum(1 for f in candidate_frames if json.loads(f)["type"] == "error") == 4

        # Hidden checks run in a separate grading kernel; results go to staff only.
        await staff.send(json.dumps({"type": "checks"}))
        checks = (await recv_until(staff, lambda m: m["type"] == "checks", timeout=120))[-1]
        assert [r["id"] for r in checks["results"]] == ["finds-duplicates"]
        candidate_frames += await drain(cand)

    # The one hidden text the candidate may hold is the answer the interviewer chose to give.
    given = problem.meta.constraint[0].answer
    forbidden = [t for t in hidden_texts(problem) if t != given]
    for frame in candidate_frames:
        for text in [*forbidden, "PRIVATE-NOTE", "suggestion", "finds-duplicates", '"ledger"']:
            assert text not in frame, (text, frame)

    r = await staff_get(server, f"/api/sessions/{sid}/scorecard")
    card = r.json()
    rows = {row["constraint"]: row for row in card["discovery"]}
    assert rows["multilingual"]["how"] == "typed" and rows["latency-budget"]["how"] == "aloud"
    assert rows["latency-budget"]["before_first_run"] is False
    assert rows["multilingual"]["evidence"]["link"].startswith(f"/replay/{sid}#t=")
    assert card["ratings"]["framing"]["score"] == 4 and "ratings" in card["parts"]
    async with httpx.AsyncClient(base_url=server.base) as http:
        page = await http.get(
            f"/api/sessions/{sid}/scorecard", params={"token": tokens["reviewer"]}, headers={"Accept": "text/html"}
        )
        assert page.status_code == 200 and "<h1>Ada" in page.text
        assert "Listings are in three languages" in page.text and "<td>aloud</td>" in page.text
        denied = await http.get(f"/api/sessions/{sid}/scorecard", params={"token": tokens["candidate"]})
        assert denied.status_code == 403
        comp = (
            await http.get(f"/api/problems/{problem.id}/comparison", headers={"Authorization": f"Bearer {ADMIN}"})
        ).json()
        [row] = comp["candidates"]
        assert row["candidate"] == "Ada" and row["discovery"]["multilingual"]["how"] == "typed"
        page = await http.get(
            f"/api/problems/{problem.id}/comparison",
            headers={"Authorization": f"Bearer {ADMIN}", "Accept": "text/html"},
        )
        assert page.status_code == 200 and "<h1>Deduplicate product listings</h1>" in page.text
        assert f"/replay/{sid}#t=" in page.text and ">Ada</a>" in page.text


async def test_auto_mode_answers_confident_matches_and_asks_for_assumptions_otherwise(server_factory, tmp_path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Bo"})).json()
    async with (
        events_socket(server, s["id"], s["tokens"]["interviewer"]) as staff,
        events_socket(server, s["id"], s["tokens"]["candidate"]) as cand,
    ):
        await staff.recv()
        await cand.recv()
        await staff.send(json.dumps({"type": "mode", "mode": "auto"}))
        await recv_until(staff, lambda m: m["type"] == "mode")
        await cand.send(json.dumps({"type": "ask", "text": "What languages are the listings written in?"}))
        answer = (await recv_until(cand, lambda m: m["type"] == "answer"))[-1]
        assert answer["text"] == problem.meta.constraint[0].answer
        await cand.send(json.dumps({"type": "ask", "text": "What colour is the office?"}))
        answer = (await recv_until(cand, lambda m: m["type"] == "answer"))[-1]
        assert "state the assumption" in answer["text"]
