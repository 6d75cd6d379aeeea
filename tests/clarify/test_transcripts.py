"""Spoken questions (issue 10): call transcripts and live captions.

Pure tests read real exports (Zoom's "Name: text" WebVTT with overlapping cues, Teams' ``<v>``
voice tags with NOTE and STYLE blocks, an SRT) through the real parsers and the pack's real
matcher; damaged files are refused naming the line. The end-to-end test runs ``clarify serve``:
captions pushed while live reach the staff socket and never the candidate's; a transcript
imported with an offset is confirmed into the ledger "aloud" at the transcript's time, and the
scorecard shows it.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest

from problems import load_pack
from server.clarify.matcher import build_matcher
from server.errors import ClarifyError, InvalidInput
from server.events import Event, validate_event
from server.transcripts import (
    MAX_TRANSCRIPT_BYTES,
    SpeakerGuess,
    caption_is_candidate,
    guess_candidate,
    is_question,
    parse_transcript,
    suggest_marks,
    suggest_offset,
    transcript_state,
)
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, events_socket, recv_until

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory):
    return build_matcher(load_pack(write_pack(tmp_path_factory.mktemp("packs"))))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- parsing -----------------------------------------------------------------------------------


def test_a_zoom_transcript_gives_speakers_overlaps_and_the_candidates_questions(matcher) -> None:
    fmt, utterances = parse_transcript(fixture("zoom.vtt"))
    assert fmt == "vtt"
    assert [u.id for u in utterances] == [f"t1.{n}" for n in range(1, 10)]
    assert {u.speaker for u in utterances} == {"Dana Smith", "Ada L."}
    # A cue over two lines is one utterance; overlapping cues (4 and 5) are both kept, by start.
    assert utterances[2].text.endswith("we'd like you to find them. Take a moment to read it.")
    four, five = utterances[3], utterances[4]
    assert five.start < four.end and four.start < five.start
    assert four.text.startswith("Okay. Before I start, are all the listings in English")

    # "Ada L." is the session's candidate "Ada Lovelace"; Dana's questions are not hers.
    guess = guess_candidate(utterances, candidate_name="Ada Lovelace", staff_names=["Dana Smith"])
    assert (guess.candidate, guess.basis) == ("Ada L.", "name")
    marks = suggest_marks(utterances, guess, -30_000, matcher.suggest, matcher.threshold)
    by_id = {m["utterance"]: m for m in marks}
    assert sorted(by_id) == ["t1.4", "t1.6", "t1.8"]
    assert by_id["t1.4"]["proposed"] == "multilingual"
    assert (
        by_id["t1.4"]["quote"]
        == "Before I start, are all the listings in English, or are there other languages in there?"
    )
    assert by_id["t1.4"]["t"] == 35_900 - 30_000 and by_id["t1.4"]["transcript_t"] == 35_900
    assert by_id["t1.6"]["proposed"] == "latency-budget"
    assert by_id["t1.8"]["proposed"] is None  # "Can I use pandas?" is about nothing hidden
    # Before the session started (a negative time) is clamped to its start.
    early = suggest_marks(utterances, guess, -40_000, matcher.suggest, matcher.threshold)
    assert next(m for m in early if m["utterance"] == "t1.4")["t"] == 0

    # The same file with a byte-order mark and CRLF line ends reads the same.
    crlf = b"\xef\xbb\xbf" + fixture("zoom.vtt").replace(b"\n", b"\r\n")
    assert parse_transcript(crlf, "text/vtt") == (fmt, utterances)


def test_a_teams_transcript_uses_voice_tags_and_skips_note_and_style_blocks(matcher) -> None:
    fmt, utterances = parse_transcript(fixture("teams.vtt"), "text/vtt; charset=utf-8")
    assert fmt == "vtt"
    assert [(u.speaker, u.start) for u in utterances] == [
        ("Dana Smith", 3120),
        ("Ada Lovelace", 9400),
        ("Dana Smith", 14500),
        ("Ada Lovelace", 20000),
    ]
    assert not any("Microsoft" in u.text or "color" in u.text for u in utterances)
    guess = guess_candidate(utterances, candidate_name="Ada Lovelace")
    marks = suggest_marks(utterances, guess, 0, matcher.suggest, matcher.threshold)
    assert [(m["utterance"], m["proposed"]) for m in marks] == [("t1.2", "multilingual")]
    assert marks[0]["quote"] == "Quick question first: is all of the listing text in English?"


def test_an_srt_transcript_joins_multi_line_cues(matcher) -> None:
    fmt, utterances = parse_transcript(fixture("meet.srt"), "application/x-subrip")
    assert fmt == "srt"
    assert utterances[2].text == "Is there a latency budget for each new listing?"
    assert (utterances[2].start, utterances[2].end) == (12_250, 17_900)
    # Detected without a Content-Type, too.
    assert parse_transcript(fixture("meet.srt"))[0] == "srt"
    guess = guess_candidate(utterances, candidate_name="Ada Lovelace")
    marks = suggest_marks(utterances, guess, 1000, matcher.suggest, matcher.threshold)
    assert [(m["utterance"], m["proposed"], m["t"]) for m in marks] == [("t1.3", "latency-budget", 13_250)]


ZOOM = fixture("zoom.vtt").decode()


@pytest.mark.parametrize(
    ("body", "ctype", "status", "message"),
    [
        (ZOOM.replace("00:00:35.900 --> 00:00:44.120", "00:00:35.900 -> 00:00:44.120"), "", 422, "line 17:"),
        (ZOOM.replace("00:00:07.010 --> 00:00:09.300", "00:00:07.010 --> 00:0x:09.300"), "", 422, "line 8:"),
        (ZOOM.replace("00:01:10.000 --> 00:01:14.500\n", ""), "", 422, "line 32: expected cue timings"),
        (ZOOM.replace("00:01:15.000 --> 00:01:18.000", "00:01:18.000 --> 00:01:15.000"), "", 422, "ends before"),
        (ZOOM.replace("\n\n2\n", "\n2\n", 1), "", 422, "line 7: cue text must not contain '-->'"),
        ("1\n00:00:01,000 --> 00:00:02,000\nhi\n\nx\n00:00:03,000 --> 00:00:04,000\nyo\n", "", 422, "line 5:"),
        ("1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n00:00:03,000 - 00:00:04,000\nyo\n", "", 422, "line 6:"),
        ("Dana: hello\nAda: hi\n", "", 422, "line 1: neither WebVTT"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "application/json", 415, "text/vtt"),
        ("   \n", "", 422, "empty"),
        ("WEBVTT\n\nNOTE only a note\n", "", 422, "no cues"),
    ],
)
def test_damaged_or_foreign_transcripts_are_refused_naming_the_line(
    body: str, ctype: str, status: int, message: str
) -> None:
    with pytest.raises(ClarifyError) as info:
        parse_transcript(body.encode(), ctype)
    assert info.value.status == status
    assert message in info.value.message


def test_non_utf8_and_oversized_transcripts_are_refused() -> None:
    with pytest.raises(InvalidInput, match="line 4: not UTF-8"):
        parse_transcript(b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe caf\xe9\n")
    big = b"WEBVTT\n\n" + b"00:00:01.000 --> 00:00:02.000\nhello there\n\n" * (MAX_TRANSCRIPT_BYTES // 40)
    with pytest.raises(ClarifyError) as info:
        parse_transcript(big)
    assert info.value.status == 413 and str(MAX_TRANSCRIPT_BYTES) in info.value.message


# -- judgements ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        ("Are all the listings in English?", True),
        ("So, what languages are the listings in", True),
        ("I was wondering how fast it needs to be.", True),
        ("Could you tell me about the latency budget", True),
        ("Just to confirm, the output is a list of pairs.", True),
        ("Right?", False),
        ("Okay, let's start.", False),
        ("I'll write a function for that.", False),
        ("Thanks, that helps a lot.", False),
    ],
)
def test_question_detection(sentence: str, question: bool) -> None:
    assert is_question(sentence) is question


def test_who_is_the_candidate() -> None:
    _, utterances = parse_transcript(fixture("zoom.vtt"))
    # The interviewer names the label; it wins, and an unknown one is refused listing the labels.
    assert guess_candidate(utterances, explicit="dana smith").candidate == "Dana Smith"
    with pytest.raises(InvalidInput, match=r"'Dana Smith', 'Ada L\.'"):
        guess_candidate(utterances, explicit="Grace")
    # No name to go by: the speaker who is not staff; or, knowing nobody, who asks the most.
    assert guess_candidate(utterances, staff_names=["Dana Smith"]).basis == "questions"
    assert guess_candidate(utterances, staff_names=["Dana Smith"]).candidate == "Ada L."
    assert guess_candidate(utterances, candidate_name="Grace Hopper").candidate == "Ada L."
    # A transcript without labels: every line may be the candidate's.
    _, plain = parse_transcript(b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nIs the text all English?\n")
    guess = guess_candidate(plain, candidate_name="Ada")
    assert (guess.candidate, guess.basis) == (None, "unlabelled")
    # Live captions: staff lines are not the candidate's; unlabelled and unknown ones may be.
    assert not caption_is_candidate("Dana Smith", candidate_name="Ada Lovelace", staff_names=["Dana Smith"])
    assert caption_is_candidate("Ada", candidate_name="Ada Lovelace", staff_names=["Dana Smith"])
    assert caption_is_candidate("", staff_names=["Dana Smith"])
    assert not caption_is_candidate("Ada", explicit="Speaker 2")
    assert not caption_is_candidate("Dana Smith", candidate_name="Ada Lovelace")
    assert caption_is_candidate("Speaker 2", candidate_name="Ada Lovelace")
    assert caption_is_candidate("Dana Smith")  # knowing nobody, any line may be the candidate's


def test_the_suggested_alignment_and_re_import() -> None:
    _, utterances = parse_transcript(fixture("zoom.vtt"))
    guess = SpeakerGuess("Ada L.", "name")
    joined = [Event(0, "session.created"), Event(12_000, "join", "interviewer"), Event(20_010, "join", "candidate")]
    alignment = suggest_offset(utterances, guess, joined)
    assert alignment["suggested_ms"] == 20_010 - 7010  # Ada's first words when she joined the room
    assert [a["offset_ms"] for a in alignment["anchors"]] == [13_000, 0]
    assert suggest_offset(utterances, guess, joined[:2])["suggested_ms"] == 0

    # A re-import replaces the earlier transcript's marks; captions stay; confirmations count.
    mark = {"id": "t1.4", "utterance": "t1.4", "t": 5, "quote": "q", "source": "transcript"}
    caption = {"id": "c1", "utterance": "c1", "t": 9, "quote": "c", "source": "captions"}
    events = [
        Event(1, "transcript.imported", payload={"marks": [mark]}),
        Event(2, "transcript.captions", payload={"lines": [{}], "marks": [caption]}),
        Event(3, "clarify.discovered", payload={"constraint": "x", "utterance": "c1"}),
        Event(4, "transcript.imported", payload={"marks": [{**mark, "id": "t2.1", "utterance": "t2.1"}]}),
        Event(5, "transcript.dismissed", payload={"mark": "t2.1"}),
    ]
    state = transcript_state(events)
    assert state.imports == 2
    assert [(m["id"], m["status"], m["event"]) for m in state.mark_views()] == [
        ("t2.1", "dismissed", 3),
        ("c1", "confirmed", 1),
    ]


def test_transcript_events_pass_the_import_schema() -> None:
    _, utterances = parse_transcript(fixture("meet.srt"))
    ok = {
        "t": 5,
        "type": "transcript.imported",
        "payload": {"format": "srt", "offset_ms": -20, "utterances": [u.to_json() for u in utterances], "marks": []},
    }
    assert validate_event(ok).payload["format"] == "srt"
    bad = {**ok, "payload": {**ok["payload"], "marks": [{"id": "t1.1", "utterance": "t1.1", "t": -4}]}}
    with pytest.raises(ValueError, match=r"payload\.marks\.0\.t"):
        validate_event(bad)


# -- end to end: a real server, real sockets -------------------------------------------------


async def drain(ws, seconds: float = 0.5) -> list[str]:
    frames = []
    try:
        while True:
            frames.append(await asyncio.wait_for(ws.recv(), seconds))
    except TimeoutError:
        return frames


async def test_captions_live_then_a_transcript_confirmed_into_the_ledger_and_scorecard(
    server_factory, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    admin = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        s = (
            await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada Lovelace"}, headers=admin)
        ).json()
        sid, tokens = s["id"], s["tokens"]
        as_interviewer = {"Authorization": f"Bearer {tokens['interviewer']}"}
        async with (
            events_socket(server, sid, tokens["candidate"]) as cand,
            events_socket(server, sid, tokens["interviewer"]) as staff,
        ):
            await cand.recv()
            await staff.recv()

            # -- live captions: staff see the suggestion at once, the candidate nothing ----------
            lines = {
                "lines": [
                    {"speaker": "Dana Smith", "text": "Can you see the brief?"},
                    {"speaker": "Ada Lovelace", "text": "Yes. Sorry, is there a latency budget for each listing?"},
                ]
            }
            r = await http.post(f"/api/sessions/{sid}/captions", json=lines, headers=as_interviewer)
            assert r.status_code == 200, r.text
            assert r.json()["accepted"] == 2
            pushed = (await recv_until(staff, lambda m: m["type"] == "transcript.suggestion"))[-1]["mark"]
            assert pushed["proposed"] == "latency-budget" and pushed["source"] == "captions", pushed
            assert pushed["quote"] == "Sorry, is there a latency budget for each listing?"
            assert pushed["speaker"] == "Ada Lovelace"
            candidate_frames = await drain(cand)
            assert not any(json.loads(f)["type"].startswith("transcript") for f in candidate_frames)
            assert not any("latency" in f for f in candidate_frames)

            # Who may push: not a bad token (401), not the candidate (403); bad lines get a 422.
            bad = await http.post(f"/api/sessions/{sid}/captions", json=lines, headers={"Authorization": "Bearer nope"})
            assert bad.status_code == 401
            cand_push = await http.post(
                f"/api/sessions/{sid}/captions", json=lines, headers={"Authorization": f"Bearer {tokens['candidate']}"}
            )
            assert cand_push.status_code == 403
            empty = await http.post(f"/api/sessions/{sid}/captions", json={"lines": []}, headers=as_interviewer)
            assert empty.status_code == 422 and empty.json()["field"] == "lines"
            notjson = await http.post(f"/api/sessions/{sid}/captions", content=b"{", headers=as_interviewer)
            assert notjson.status_code == 422 and "JSON" in notjson.json()["message"]

            # -- the Zoom transcript, 30 s ahead of the session's clock -------------------------
            r = await http.post(
                f"/api/sessions/{sid}/transcript",
                params={"offset_ms": -30_000},
                content=fixture("zoom.vtt"),
                headers={**as_interviewer, "Content-Type": "text/vtt"},
            )
            assert r.status_code == 201, r.text
            imported = r.json()
            assert imported["format"] == "vtt" and imported["utterances"] == 9
            assert imported["candidate_speaker"] == "Ada L." and imported["speaker_basis"] == "name"
            assert imported["offset_ms"] == -30_000
            assert {a["offset_ms"] for a in imported["alignment"]["anchors"]} >= {0}
            marks = {m["id"]: m for m in imported["marks"]}
            assert {"t1.4", "t1.6", "t1.8", "c2"} <= set(marks)
            assert marks["t1.4"]["t"] == 5_900 and marks["t1.4"]["proposed"] == "multilingual"
            await recv_until(staff, lambda m: m["type"] == "transcript.imported")

            # A damaged re-import is refused naming the line; the earlier import stays.
            damaged = ZOOM.replace("00:00:35.900 --> 00:00:44.120", "00:00:35.900 -> 00:00:44.120").encode()
            r = await http.post(f"/api/sessions/{sid}/transcript", content=damaged, headers=as_interviewer)
            assert r.status_code == 422 and r.json()["message"].startswith("line 17:")
            kept = (await http.get(f"/api/sessions/{sid}/transcript", headers=as_interviewer)).json()
            assert kept["imports"] == 1 and "t1.4" in {m["id"] for m in kept["marks"]}
            peek = await http.get(
                f"/api/sessions/{sid}/transcript", headers={"Authorization": f"Bearer {tokens['candidate']}"}
            )
            assert peek.status_code == 403  # the candidate never reads the suggestions
            r = await http.post(
                f"/api/sessions/{sid}/transcript",
                content=damaged,
                headers={"Authorization": f"Bearer {tokens['candidate']}"},
            )
            assert r.status_code == 403

            # -- confirm: the ledger has it "aloud" at the transcript's time, with the words ---
            r = await http.post(
                f"/api/sessions/{sid}/transcript/marks",
                json={"utterance": "t1.4", "constraint": "multilingual"},
                headers=as_interviewer,
            )
            assert r.status_code == 200, r.text
            ledger = (await recv_until(staff, lambda m: m["type"] == "ledger"))[-1]["discovery"]
            assert (ledger["constraint"], ledger["how"], ledger["t"]) == ("multilingual", "aloud", 5_900)
            assert ledger["quote"].startswith("Before I start, are all the listings in English")
            again = await http.post(
                f"/api/sessions/{sid}/transcript/marks",
                json={"utterance": "t1.6", "constraint": "multilingual"},
                headers=as_interviewer,
            )
            assert again.status_code == 409 and "already in the ledger" in again.json()["message"]
            unknown = await http.post(
                f"/api/sessions/{sid}/transcript/marks",
                json={"utterance": "t9.9", "constraint": "multilingual"},
                headers=as_interviewer,
            )
            assert unknown.status_code == 404
            r = await http.post(
                f"/api/sessions/{sid}/transcript/marks",
                json={"utterance": "t1.8", "dismiss": True},
                headers=as_interviewer,
            )
            assert r.status_code == 200
            candidate_frames = await drain(cand)
            assert not any("English" in f or "transcript" in f for f in candidate_frames)

        # -- the session ends: captions are refused; a transcript can still be confirmed ------
        assert (await http.post(f"/api/sessions/{sid}/end", headers=as_interviewer)).status_code == 200
        r = await http.post(f"/api/sessions/{sid}/captions", json=lines, headers=as_interviewer)
        assert r.status_code == 409
        r = await http.post(
            f"/api/sessions/{sid}/transcript",
            params={"offset_ms": 0},
            content=fixture("meet.srt"),
            headers={**admin, "Content-Type": "application/x-subrip"},
        )
        assert r.status_code == 201, r.text
        assert [m["id"] for m in r.json()["marks"] if m["source"] == "transcript"] == ["t2.3"]
        r = await http.post(
            f"/api/sessions/{sid}/transcript/marks",
            json={"utterance": "t2.3", "constraint": "latency-budget"},
            headers=admin,
        )
        assert r.status_code == 200, r.text

        marks = {m["id"]: m for m in (await http.get(f"/api/sessions/{sid}/transcript", headers=admin)).json()["marks"]}
        assert marks["t2.3"]["status"] == "confirmed" and "t1.4" not in marks  # replaced by the re-import
        card = (await http.get(f"/api/sessions/{sid}/scorecard", headers=admin)).json()
        rows = {row["constraint"]: row for row in card["discovery"]}
        assert (rows["multilingual"]["how"], rows["multilingual"]["t"]) == ("aloud", 5_900)
        assert rows["multilingual"]["quote"].startswith("Before I start, are all the listings")
        assert (rows["latency-budget"]["how"], rows["latency-budget"]["t"]) == ("aloud", 12_250)
        assert rows["latency-budget"]["quote"] == "Is there a latency budget for each new listing?"
        # What was done after the end is recorded at the end: the replay's timeline keeps its length.
        recorded = [
            json.loads(line)
            for line in (await http.get(f"/api/sessions/{sid}/recording", headers=admin)).text.splitlines()
        ]
        late = [i for i, e in enumerate(recorded) if e["type"] == "transcript.imported"][-1]
        assert recorded[late]["t"] == max(e["t"] for e in recorded[:late])
        spoken = [e for e in recorded if e["type"] == "clarify.discovered"]
        assert [(e["payload"]["at"], e["payload"]["source"], e["payload"]["utterance"]) for e in spoken] == [
            (5_900, "transcript", "t1.4"),
            (12_250, "transcript", "t2.3"),
        ]


# -- the staff panel in a real browser -------------------------------------------------------


async def test_the_staff_panel_imports_a_transcript_and_marks_a_spoken_question(server_factory, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    from tests.browser.shots import screenshot
    from tests.browser.test_room import CHROMIUM, CHROMIUM_ARGS, DIST, watch_errors

    assert (DIST / "room.html").is_file(), "frontend/dist is missing: bash scripts/build-frontend.sh"
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        r = await http.post(
            "/api/sessions",
            json={"problem": problem.id, "candidate": "Ada Lovelace"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert r.status_code == 201, r.text
        session = r.json()
        errors: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
                watch_errors(page, errors)
                await page.goto(session["links"]["interviewer"])
                await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
                await page.get_by_role("tab", name="Constraints").click()
                panel = page.locator("#transcript")
                await expect(panel).to_be_visible()

                # Import the Zoom export, 35 s ahead of the session's clock.
                await page.locator("#transcript-file").set_input_files(str(FIXTURES / "zoom.vtt"))
                await page.locator("#transcript-offset").fill("-35")
                await page.locator("#transcript-import").click()
                marks = panel.locator("li.spoken-mark")
                await expect(marks).to_have_count(3)
                await expect(panel.locator(".transcript-status")).to_contain_text("candidate: Ada L. (name)")
                english = marks.filter(has_text="are all the listings in English")
                await expect(english.locator(".q-meta")).to_contain_text("0:00 · Ada L. · transcript")
                await expect(english.get_by_label("The constraint this question is about")).to_have_value(
                    "multilingual"
                )
                pandas = marks.filter(has_text="Can I use pandas")
                await expect(pandas.get_by_label("The constraint this question is about")).to_have_value("")
                await expect(pandas.get_by_role("button", name="Mark as asked out loud")).to_be_disabled()

                # Confirm one, dismiss another: the ledger has it, asked out loud.
                await english.get_by_role("button", name="Mark as asked out loud").click()
                await expect(english.locator(".q-tag")).to_have_text("marked: Listings are in three languages")
                await pandas.get_by_role("button", name="Dismiss").click()
                await expect(pandas.locator(".q-tag")).to_have_text("dismissed")
                ledger = (
                    await http.get(
                        f"/api/sessions/{session['id']}/scorecard", headers={"Authorization": f"Bearer {ADMIN}"}
                    )
                ).json()
                row = next(r for r in ledger["discovery"] if r["constraint"] == "multilingual")
                assert (row["how"], row["t"]) == ("aloud", 900)

                # The replay's timeline has the discovery at the spoken time, not the click's.
                replay = await (await browser.new_context()).new_page()
                watch_errors(replay, errors)
                await replay.goto(f"{server.base}/replay/{session['id']}?token={session['tokens']['reviewer']}")
                await expect(replay.locator("body")).to_have_attribute("data-loaded", "true", timeout=15_000)
                spoken = replay.locator('#markers .marker[data-kind="discovery"]')
                await expect(spoken).to_have_count(1)
                await expect(spoken).to_have_attribute("data-t", "900")
                await expect(spoken).to_have_attribute(
                    "title", re.compile(r"Listings are in three languages \(aloud\)")
                )

                # A caption line pushed by a meeting bot shows up at once, its match pre-selected.
                r = await http.post(
                    f"/api/sessions/{session['id']}/captions",
                    json={
                        "lines": [
                            {"speaker": "Ada Lovelace", "text": "Sorry, is there a latency budget for each listing?"}
                        ]
                    },
                    headers={"Authorization": f"Bearer {session['tokens']['interviewer']}"},
                )
                assert r.status_code == 200, r.text
                live = marks.filter(has_text="latency budget for each listing")
                await expect(live.get_by_label("The constraint this question is about")).to_have_value("latency-budget")
                await expect(live.locator(".q-meta")).to_contain_text("captions")
                await screenshot(page, "spoken-questions.png")
            finally:
                await browser.close()
    assert errors == []
