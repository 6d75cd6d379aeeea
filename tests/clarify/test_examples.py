"""Learning from the interviewers: judgements become labelled examples, stored, reviewed by
admins, written back into a pack, and used by the matcher at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from problems import load_pack
from server import events as E
from server.auth.personal_tokens import PersonalTokens
from server.clarify.examples import BOOK, Example, ExampleStore, derive_all, merge
from server.clarify.matcher import build_matcher
from server.events import Event
from server.members import Member, MemberStore
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, ROOT, RedisProcess, events_socket, recv_until

# A wording the pack's labelled questions do not cover; the interviewer ties it to a constraint the
# matcher did not rank first (a correction).
WORDING = "Will sellers wait on this before their listing goes live?"


def _ask(t: int, qid: int, text: str, top: str | None) -> Event:
    suggestions = [{"constraint": top, "confidence": 0.7}] if top else []
    return Event(t, E.ASK, "candidate", "cand", {"id": qid, "text": text, "suggestions": suggestions})


def _answer(t: int, qid: int, cid: str | None, actor: str = "ivy") -> Event:
    role = "system" if actor == "auto" else "interviewer"
    return Event(t, E.ANSWER, role, actor, {"question": qid, "text": "an answer", "constraint": cid})


def test_judgements_become_confirms_corrections_and_dismissals() -> None:
    events = [
        _ask(100, 1, "What languages are the listings in?", "multilingual"),
        _answer(200, 1, "multilingual"),  # the top suggestion: confirm
        _ask(300, 2, WORDING, "multilingual"),
        _answer(400, 2, "latency-budget"),  # another constraint: correct
        _ask(500, 3, "Can I use pandas?", "multilingual"),
        _answer(600, 3, None),  # answered, about nothing hidden
        _ask(700, 4, "What colour is the office?", None),
        Event(800, E.DISMISS, "interviewer", "ivy", {"question": 4, "how": "aloud"}),
        _ask(900, 5, "Is there a latency budget?", "latency-budget"),
        _answer(950, 5, "latency-budget", actor="auto"),  # auto mode: never an example
        Event(1000, E.DISCOVERED, "interviewer", "ivy", {"constraint": "latency-budget", "how": "typed", "quote": "x"}),
        Event(1100, E.DISCOVERED, "interviewer", "ivy", {"constraint": "multilingual", "how": "volunteered"}),
        Event(1200, E.DISCOVERED, "interviewer", "ivy", {"constraint": "latency-budget", "how": "aloud", "quote": ""}),
        Event(
            1300,
            E.DISCOVERED,
            "interviewer",
            "ivy",
            {"constraint": "latency-budget", "how": "aloud", "quote": "  how fast?  "},
        ),
    ]
    found = {e.text: e for e in derive_all("dedup", "s1", events, now=5)}
    assert sorted(found) == sorted(
        ["What languages are the listings in?", WORDING, "Can I use pandas?", "What colour is the office?", "how fast?"]
    )
    confirm, correct = found["What languages are the listings in?"], found[WORDING]
    assert (confirm.kind, confirm.constraint, confirm.proposed) == ("confirm", "multilingual", "multilingual")
    assert (correct.kind, correct.constraint, correct.proposed) == ("correct", "latency-budget", "multilingual")
    assert (correct.session, correct.by, correct.t, correct.status) == ("s1", "ivy", 300, "pending")
    for text in ("Can I use pandas?", "What colour is the office?"):
        assert (found[text].kind, found[text].constraint) == ("dismiss", "")
    assert found["What colour is the office?"].proposed == ""
    spoken = found["how fast?"]
    assert (spoken.kind, spoken.constraint, spoken.t) == ("confirm", "latency-budget", 1300)

    # The same question judged again is one example (the latest judgement), with a stable id.
    again = derive_all("dedup", "s1", [*events, _answer(2000, 2, "multilingual")])
    assert len(again) == len(found)
    [redone] = [e for e in again if e.text == WORDING]
    assert redone.id == correct.id and redone.kind == "confirm"


def test_an_undone_judgement_makes_no_example() -> None:
    """An interviewer's undo within the window is a correction: the answer it took back teaches
    the matcher nothing (the recorded index of the answer is what the undo names)."""
    events = [
        _ask(100, 1, WORDING, "multilingual"),
        _answer(200, 1, "multilingual"),  # index 1, undone below
        Event(300, E.UNDONE, "interviewer", "ivy", {"event": 1, "by": "ivy", "reason": "correction"}),
        _ask(400, 2, "What languages are the listings in?", "multilingual"),
        _answer(500, 2, "multilingual"),
        Event(600, E.UNDONE, "interviewer", "ivy", {"event": 99, "by": "ivy", "reason": "correction"}),
    ]
    assert [e.text for e in derive_all("dedup", "s1", events)] == ["What languages are the listings in?"]
    # Judged again after the undo: the new judgement is the example.
    [again] = [e for e in derive_all("dedup", "s1", [*events, _answer(700, 1, "latency-budget")]) if e.text == WORDING]
    assert (again.kind, again.constraint) == ("correct", "latency-budget")


def test_withdrawing_an_undone_judgement_stops_the_matcher_using_it(learn_pack) -> None:
    ex = Example("w1", learn_pack.id, WORDING, "latency-budget", "correct", "multilingual", "s9", "ivy", 1)
    other = Example("w2", learn_pack.id, "Do sellers mind waiting?", "latency-budget", "confirm", "", "s9", "ivy", 2)
    BOOK.put(ex)
    BOOK.put(other)
    BOOK.note_event("s9", 4, ex)
    assert (WORDING, "latency-budget") in BOOK.labelled(learn_pack.id)
    before = BOOK.version(learn_pack.id)
    assert BOOK.withdraw("s9", 5, redis=None) is None  # not a judgement this book made
    assert BOOK.withdraw("s9", 4, redis=None) == ex
    assert (WORDING, "latency-budget") not in BOOK.labelled(learn_pack.id)
    assert ("Do sellers mind waiting?", "latency-budget") in BOOK.labelled(learn_pack.id)  # only that one
    assert BOOK.version(learn_pack.id) > before  # the next build_matcher sees it gone


def test_a_new_judgement_reopens_a_reviewed_example_and_the_same_one_keeps_its_review() -> None:
    ex = Example("e1", "p", "how fast?", "latency-budget", "confirm", "", "s", "ivy", 1, created_ms=7)
    accepted = Example(**{**ex.to_json(), "status": "accepted", "reviewed_by": "admin"})
    assert merge(accepted, ex) is accepted
    changed = merge(accepted, Example("e1", "p", "how fast?", "", "dismiss", "", "s", "ivy", 1, created_ms=9))
    assert (changed.status, changed.constraint, changed.created_ms) == ("pending", "", 7)
    assert Example.from_json(json.loads(json.dumps(ex.to_json()))) == ex


@pytest.fixture
def learn_pack(tmp_path: Path):
    """A pack of its own id, so that what this process learns stays out of other tests."""
    problem = load_pack(write_pack(tmp_path / "packs", pack_id="learning-dedup"))
    yield problem
    BOOK.replace_all(problem.id, [])


def test_the_matcher_uses_a_new_example_from_the_next_question_and_drops_a_rejected_one(learn_pack) -> None:
    matcher = build_matcher(learn_pack)
    before = matcher.suggest(WORDING)
    target = next(c.id for c in learn_pack.meta.constraint if c.id != before[0].constraint)
    ex = Example("e1", learn_pack.id, WORDING, target, "correct", before[0].constraint, "s", "ivy", 1)
    BOOK.put(ex)
    after = matcher.suggest(WORDING)  # the same matcher object: the session's
    assert after[0].constraint == target and after[0].confidence >= matcher.threshold
    # A second session shares the built matcher; nothing is rebuilt per question.
    other = build_matcher(learn_pack)
    other.suggest(WORDING)
    assert other.current is matcher.current
    BOOK.set(Example(**{**ex.to_json(), "status": "rejected", "reviewed_by": "admin"}))
    assert matcher.suggest(WORDING) == before
    # Explicit examples (the bench's way) are used exactly as given, without the learnt ones.
    assert not hasattr(build_matcher(learn_pack, examples=[]), "current")


async def test_the_store_round_trips_reviews_and_erasure(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis")
    server.start()
    client = aioredis.from_url(server.url)
    try:
        store = ExampleStore(client)
        a = Example("a1", "dedup", WORDING, "latency-budget", "correct", "multilingual", "s1", "ivy", 10, created_ms=1)
        b = Example("b1", "dedup", "Can I use pandas?", "", "dismiss", "", "s2", "ivy", 20, created_ms=2)
        assert await store.put(a) == a
        await store.put(b)
        assert await store.get("a1") == a and await store.get("nope") is None
        assert [e.id for e in await store.list("dedup")] == ["a1", "b1"]
        reviewed = await store.review("a1", "accepted", "admin")
        assert reviewed is not None and (reviewed.status, reviewed.reviewed_by) == ("accepted", "admin")
        assert await store.review("nope", "accepted", "admin") is None
        assert [e.id for e in await store.list("dedup", "accepted")] == ["a1"]
        assert await store.put(a) == reviewed  # recorded again, unchanged: the review stands
        fixed = await store.review("b1", "rejected", "admin", constraint="")
        assert fixed is not None and fixed.status == "rejected"
        # What a restarted server reads at start-up; rejected ones are not the matcher's.
        BOOK.attach(client)
        await BOOK.load(client, ["dedup"])
        assert BOOK.labelled("dedup") == [(WORDING, "latency-budget")]
        assert await store.delete_session("s1") == 1
        assert await store.get("a1") is None and BOOK.labelled("dedup") == []
    finally:
        BOOK.replace_all("dedup", [])
        await BOOK.wait()
        BOOK.store = None  # the next test's server is not this one
        await client.aclose()
        server.stop()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env={**os.environ, "CLARIFY_ADMIN_TOKEN": ADMIN, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _ask_and_wait(cand, staff, text: str) -> dict:
    await cand.send(json.dumps({"type": "ask", "text": text}))
    return (await recv_until(staff, lambda m: m["type"] == "suggestion"))[-1]


async def test_a_correction_teaches_the_matcher_and_admins_review_export_and_write_back(
    server_factory, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    client = aioredis.from_url(redis.url)
    try:
        # An interviewer (not an admin) with a personal token.
        await MemberStore(client).save(Member("m-ivy", "ivy@example.com", "Ivy", "interviewer"))
        ivy_token, _ = await PersonalTokens(client).create("m-ivy", "test")
        server = server_factory(redis.url, CLARIFY_PROBLEMS_DIR=str(packs))
        admin = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=server.base, headers=admin, timeout=30) as http:
            s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada"})).json()
            async with (
                events_socket(server, s["id"], s["tokens"]["interviewer"]) as staff,
                events_socket(server, s["id"], s["tokens"]["candidate"]) as cand,
            ):
                await staff.recv()
                await cand.recv()
                first = await _ask_and_wait(cand, staff, WORDING)
                top = first["suggestions"][0]["constraint"]
                target = next(c.id for c in problem.meta.constraint if c.id != top)  # a correction
                await staff.send(
                    json.dumps(
                        {
                            "type": "answer",
                            "question": first["question"],
                            "constraint": target,
                            "text": "Yes: 50 ms.",
                        }
                    )
                )
                await recv_until(staff, lambda m: m["type"] == "ledger")
                # The very next question in the same session already uses the correction.
                again = await _ask_and_wait(cand, staff, WORDING)
                assert again["proposed"] == target
                office = await _ask_and_wait(cand, staff, "What colour is the office carpet?")
                await staff.send(json.dumps({"type": "dismiss", "question": office["question"], "how": "aloud"}))
                await recv_until(staff, lambda m: m["type"] == "question.dismissed")

            # Admins list them (JSON); the unanswered repeat made none.
            listed = (await http.get(f"/api/problems/{problem.id}/examples")).json()
            by_text = {e["text"]: e for e in listed["examples"]}
            assert sorted(by_text) == sorted([WORDING, "What colour is the office carpet?"])
            correction = by_text[WORDING]
            assert (correction["kind"], correction["constraint"], correction["proposed"]) == (
                "correct",
                target,
                top,
            )
            assert (correction["status"], correction["session"]) == ("pending", s["id"])
            assert by_text["What colour is the office carpet?"]["kind"] == "dismiss"

            # Bad input and the wrong people get clear refusals, and nothing changes.
            path = f"/api/problems/{problem.id}/examples"
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as anonymous:
                assert (await anonymous.get(path)).status_code == 401
            ivy = {"Authorization": f"Bearer {ivy_token}"}
            assert (await http.get(path, headers=ivy)).status_code == 403
            cid = correction["id"]
            assert (
                await http.patch(f"/api/examples/{cid}", json={"status": "accepted"}, headers=ivy)
            ).status_code == 403
            r = await http.get(path, params={"status": "maybe"})
            assert r.status_code == 422 and r.json()["field"] == "status"
            assert (await http.get("/api/problems/no-such-problem/examples")).status_code == 404
            assert (await http.patch("/api/examples/nope", json={"status": "accepted"})).status_code == 404
            for bad in ({"status": "maybe"}, {"status": "accepted", "constraint": "no-such"}, {"nope": 1}):
                r = await http.patch(f"/api/examples/{cid}", json=bad)
                assert r.status_code == 422, (bad, r.text)
            r = await http.patch(f"/api/examples/{cid}", content=b"{not json")
            assert r.status_code == 422
            assert (await http.get(path, params={"status": "pending"})).json()["examples"] != []
            assert all(e["status"] == "pending" for e in (await http.get(path)).json()["examples"])

            # Review: accept the correction, reject the dismissal; audit-logged.
            r = await http.patch(f"/api/examples/{cid}", json={"status": "accepted"})
            assert r.status_code == 200 and (r.json()["status"], r.json()["reviewed_by"]) == ("accepted", "admin")
            dismissal = by_text["What colour is the office carpet?"]["id"]
            assert (await http.patch(f"/api/examples/{dismissal}", json={"status": "rejected"})).status_code == 200
            audit = (await http.get("/api/audit", params={"action": "example.review"})).json()["entries"]
            assert sorted(e["target"] for e in audit) == sorted([cid, dismissal])

            # Export: JSON lines of the accepted ones.
            r = await http.get(path, params={"status": "accepted"}, headers={"Accept": "application/x-ndjson"})
            assert r.headers["content-type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in r.text.splitlines()]
            assert [(e["id"], e["constraint"]) for e in lines] == [(cid, target)]
        export = tmp_path / "accepted.jsonl"
        export.write_text(r.text)

        # The CLI's export from the running server says the same.
        cli_export = tmp_path / "cli.jsonl"
        done = _cli(
            "problems",
            "examples",
            problem.id,
            "--status",
            "accepted",
            "--export",
            str(cli_export),
            "--url",
            server.base,
        )
        assert done.returncode == 0, done.stderr
        assert [json.loads(line)["id"] for line in cli_export.read_text().splitlines()] == [cid]

        # A restarted server reads the examples back: a later session is matched with them.
        server.stop()
        server = server_factory(redis.url, CLARIFY_PROBLEMS_DIR=str(packs))
        async with httpx.AsyncClient(base_url=server.base, headers=admin, timeout=30) as http:
            s2 = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Bo"})).json()
        async with (
            events_socket(server, s2["id"], s2["tokens"]["interviewer"]) as staff,
            events_socket(server, s2["id"], s2["tokens"]["candidate"]) as cand,
        ):
            await staff.recv()
            await cand.recv()
            later = await _ask_and_wait(cand, staff, WORDING)
            assert later["proposed"] == target
    finally:
        await client.aclose()
        redis.stop()

    # Write-back into a copy of the pack: a dry run first, then --write; never twice.
    copy = tmp_path / "copy"
    shutil.copytree(packs, copy)
    questions = copy / problem.id / "questions.toml"
    original = questions.read_text()
    dry = _cli("problems", "learn", problem.id, "--from", str(export), "--packs", str(copy))
    assert dry.returncode == 0, dry.stderr
    assert f"would add: [{target}] {WORDING}" in dry.stdout and questions.read_text() == original
    done = _cli("problems", "learn", problem.id, "--from", str(export), "--packs", str(copy), "--write")
    assert done.returncode == 0, done.stderr
    text = questions.read_text()
    assert text.startswith(original) and text.count(WORDING) == 1
    learnt = load_pack(copy / problem.id)
    assert (WORDING, target) in [(q.text, q.constraint) for q in learnt.questions]
    assert len(learnt.questions) == len(problem.questions) + 1
    again = _cli("problems", "learn", problem.id, "--from", str(export), "--packs", str(copy), "--write")
    assert again.returncode == 0 and "already in questions.toml" in again.stdout
    assert questions.read_text() == text

    # A damaged export is refused with its line number; nothing is written.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(export.read_text() + "{oops\n")
    refused = _cli("problems", "learn", problem.id, "--from", str(bad), "--packs", str(copy), "--write")
    assert refused.returncode == 1 and "bad.jsonl:2: not JSON" in refused.stderr
    assert questions.read_text() == text
    # An example for a constraint the pack does not have is skipped, never written.
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({**lines[0], "id": "x2", "text": "Is it fast enough?", "constraint": "gone"}) + "\n")
    skipped = _cli("problems", "learn", problem.id, "--from", str(odd), "--packs", str(copy), "--write")
    assert skipped.returncode == 0 and "'gone' is not a constraint" in skipped.stdout
    assert questions.read_text() == text
