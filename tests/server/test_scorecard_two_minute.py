"""The scorecard a panel reads in two minutes (issue 10), from a real session on a real server.

A candidate types a question the interviewer confirms, runs code, and is marked for a constraint
asked out loud; a third constraint is missed; the hidden checks run in a grading kernel; the
interviewer notes and rates. The card keeps every key other tools read and adds the words; the
page shows them; the PDF (drawn by fpdf2) holds the same sections. Auth and hostile names too.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import httpx

from problems import load_pack
from server import events as E
from server.events import Event
from server.scorecard import render_html, session_scorecard
from server.scorecard_pdf import pdf_filename, render_pdf
from tests.problems.packs import PROBLEM_TOML, write_pack
from tests.server.harness import ADMIN, events_socket, recv_until

PROBE = "PROBE-NEXT-ROUND: when was the price list last refreshed?"
MISSED = f"""
[[constraint]]
id = "stale-prices"
title = "Prices are a week stale"
category = "data"
answer = "The price column is refreshed weekly, so it lags the live site."
cues = ["how fresh are the prices?", "when is the data updated?"]
weight = 1.0
probe = "{PROBE}"
"""
QUESTION = "Are all the listings in English, or other languages too?"
SPOKEN = "so how fast does this have to be per listing?"
NOTE = "Asked about languages before writing any code."
OLD_KEYS = {
    "problem", "formula", "discovery", "first_run_t", "checks", "checks_not_exercised", "ratings", "parts",
    "overall", "band", "session", "problem_title", "questions", "notes", "checks_status", "assistant", "process",
}  # fmt: skip
OLD_ROW_KEYS = {
    "constraint", "title", "category", "weight", "discovered", "how", "t", "before_first_run", "credit", "evidence",
}  # fmt: skip
HOSTILE = '<script>alert(1)</script> "Ada" O\'Neil \u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \U0001f600 ' + "x" * 120


# -- reading a PDF without a PDF library: inflate the streams, map glyphs back through ToUnicode


def _literals(stream: bytes) -> list[bytes]:
    """The literal strings ``(...)`` of a content stream, unescaped."""
    out, i, n = [], 0, len(stream)
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < n:
        if stream[i] != ord("("):
            i += 1
            continue
        depth, i, buf = 1, i + 1, bytearray()
        while i < n and depth:
            c = stream[i]
            if c == ord("\\"):
                nxt = stream[i + 1]
                if nxt in escapes:
                    buf += escapes[nxt]
                    i += 2
                elif chr(nxt).isdigit():
                    digits = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4]).group()
                    buf.append(int(digits, 8) & 0xFF)
                    i += 1 + len(digits)
                else:
                    buf.append(nxt)
                    i += 2
                continue
            depth += c == ord("(")
            depth -= c == ord(")")
            if depth:
                buf.append(c)
            i += 1
        out.append(bytes(buf))
    return out


def pdf_texts(data: bytes) -> list[str]:
    """The text drawn in each font (one string per font's ToUnicode map)."""
    streams = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(m.group(1)))
        except zlib.error:
            streams.append(m.group(1))
    cmaps = []
    for s in streams:
        if b"beginbfchar" in s:
            pairs = re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", s.split(b"beginbfchar", 1)[1])
            cmaps.append({int(a, 16): bytes.fromhex(b.decode()).decode("utf-16-be") for a, b in pairs})
    literals = [lit for s in streams if b" Tj" in s or b" TJ" in s for lit in _literals(s)]
    return [
        "".join(
            cmap.get(int.from_bytes(lit[i : i + 2], "big"), "\ufffd") for lit in literals for i in range(0, len(lit), 2)
        )
        for cmap in cmaps
    ]


def pdf_has(data: bytes, text: str) -> bool:
    return any(text in t for t in pdf_texts(data))


# -- the session ---------------------------------------------------------------------------


async def test_the_two_minute_scorecard_as_json_page_and_pdf(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    pack_dir = write_pack(packs, problem_toml=PROBLEM_TOML.format(id="dedup-listings") + MISSED)
    problem = load_pack(pack_dir)
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada Lovelace"})).json()
    sid, tokens = s["id"], s["tokens"]
    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        await recv_until(cand, lambda m: m["type"] == "hello")
        await recv_until(staff, lambda m: m["type"] == "hello")
        await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
        question = (await recv_until(staff, lambda m: m["type"] == "suggestion"))[-1]["question"]
        confirm = {"type": "answer", "question": question, "constraint": "multilingual", "use_pack_answer": True}
        await staff.send(json.dumps(confirm))
        await recv_until(staff, lambda m: m["type"] == "ledger")
        await cand.send(json.dumps({"type": "run", "code": problem.starter}))
        await recv_until(cand, lambda m: m["type"] == "run.done", timeout=120)
        await staff.send(json.dumps({"type": "mark", "constraint": "latency-budget", "how": "aloud", "quote": SPOKEN}))
        await recv_until(staff, lambda m: m["type"] == "ledger")
        await staff.send(json.dumps({"type": "note", "text": NOTE}))
        await recv_until(staff, lambda m: m["type"] == "note")
        await staff.send(json.dumps({"type": "rate", "dimension": "framing", "score": 3}))
        await recv_until(staff, lambda m: m["type"] == "rating")
        await staff.send(json.dumps({"type": "checks"}))
        await recv_until(staff, lambda m: m["type"] == "checks", timeout=180)

    base = f"/api/sessions/{sid}/scorecard"
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        # -- JSON: every old key, and the words ---------------------------------------------
        card = (await http.get(base, params={"token": tokens["reviewer"]})).json()
        assert set(card) >= OLD_KEYS
        rows = {r["constraint"]: r for r in card["discovery"]}
        assert all(set(r) >= OLD_ROW_KEYS for r in rows.values())
        typed, spoken, missed = rows["multilingual"], rows["latency-budget"], rows["stale-prices"]
        assert (typed["how"], typed["quote"], typed["status"]) == ("typed", QUESTION, "found")
        assert typed["how_words"] == "typed the question" and typed["run_words"] == "before the first run"
        assert typed["clock"] == f"{typed['t'] // 60000}:{typed['t'] // 1000 % 60:02d}"
        assert (spoken["how"], spoken["quote"], spoken["how_words"]) == ("aloud", SPOKEN, "asked out loud")
        assert spoken["run_words"] == "after the first run" and spoken["auto"] is False and spoken["overturned"] is None
        assert (missed["discovered"], missed["status"], missed["probe"]) == (False, "missed", PROBE)
        [check] = card["checks"]
        assert check["description"] == "Finds the planted duplicate pair."
        assert check["tests"] == "Listings are in three languages" and check["status"] in ("passed", "failed")
        assert card["ratings"]["framing"]["anchor"] == "Asks about data"
        [person] = card["by_person"]
        assert [n["text"] for n in person["notes"]] == [NOTE] and person["ratings"][0]["score"] == 3
        explained = card["band_explained"]
        assert explained["band"] == card["band"] and explained["meaning"]
        assert f"{card['overall']:g} = " in explained["reached"] and "weighted mean" in explained["formula"]
        assert card["problem_meta"]["level"] == "mid" and len(card["runs"]) == 1
        kinds = {m["kind"] for m in card["timeline"]["marks"]}
        assert {"question", "discovery", "run", "checks", "note"} <= kinds
        assert all(m["link"] == f"/replay/{sid}#t={m['t']}" for m in card["timeline"]["marks"])

        # -- the page --------------------------------------------------------------------
        r = await http.get(base, params={"token": tokens["reviewer"]}, headers={"Accept": "text/html"})
        page = r.text
        assert r.status_code == 200 and "<h1>Ada Lovelace" in page
        assert f'<q class="own-words">{QUESTION}</q>' in page and SPOKEN in page
        assert "Probe: PROBE-NEXT-ROUND" in page and "Finds the planted duplicate pair." in page
        assert explained["meaning"] in page.replace("&#39;", "'") and "How it was reached:" in page
        assert "Asks about data" in page and NOTE in page
        assert re.search(rf'class="tl-mark tl-at-\d+" href="/replay/{sid}\?token={tokens["reviewer"]}#t=\d+"', page)
        assert f'href="/api/sessions/{sid}/scorecard.pdf?token={tokens["reviewer"]}"' in page
        assert "Download PDF" in page

        # -- the PDF, three ways, same auth -----------------------------------------------
        for url, params, headers in (
            (f"{base}.pdf", {"token": tokens["reviewer"]}, {}),
            (base, {"token": tokens["interviewer"], "format": "pdf"}, {}),
            (base, {}, {"Authorization": f"Bearer {tokens['reviewer']}", "Accept": "application/pdf"}),
        ):
            r = await http.get(url, params=params, headers=headers)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/pdf"
            assert r.headers["content-disposition"] == f'attachment; filename="{pdf_filename(card)}"'
            assert r.content.startswith(b"%PDF-") and r.content.rstrip().endswith(b"%%EOF")
        pdf = r.content
        for text in (
            "Ada Lovelace",
            "Clarifying questions: hidden constraints",
            QUESTION,
            SPOKEN,
            "Missed: probes for the next round",
            PROBE,
            "Tests: Finds the planted duplicate pair.",
            "Ratings and notes, by person",
            NOTE,
            "How it was reached:",
            "Timeline",
        ):
            assert pdf_has(pdf, text), text
        assert not pdf_has(pdf, "words nobody drew")  # the reader can say no

        # -- auth and bad input --------------------------------------------------------------
        assert pdf_filename(card).startswith("scorecard-ada-lovelace-")
        assert (await http.get(f"{base}.pdf")).status_code == 401
        assert (await http.get(f"{base}.pdf", params={"token": tokens["candidate"]})).status_code == 403
        assert (await http.get(base, params={"token": tokens["candidate"], "format": "pdf"})).status_code == 403
        r = await http.get(base, params={"token": tokens["reviewer"], "format": "docx"})
        assert r.status_code == 422 and "format: must be json, html or pdf" in r.text
        assert (await http.get(f"/api/sessions/nope{sid}/scorecard.pdf", params={"token": "x"})).status_code == 404


async def test_a_hostile_candidate_name_breaks_neither_page_nor_pdf(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        s = (await http.post("/api/sessions", json={"problem": problem.id, "candidate": HOSTILE})).json()
        base = f"/api/sessions/{s['id']}/scorecard"
        r = await http.get(f"{base}.pdf", timeout=60)
        assert r.status_code == 200 and r.content.startswith(b"%PDF-")
        disposition = r.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="scorecard-[a-z0-9-]+\.pdf"', disposition), disposition
        assert pdf_has(r.content, "<script>alert(1)</script>") and pdf_has(r.content, "\u05e9\u05dc\u05d5\u05dd")
        assert not any("\u202e" in t for t in pdf_texts(r.content))  # no bidi override survives
        page = (await http.get(base, headers={"Accept": "text/html"})).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert (await http.get(base)).json()["session"]["candidate"] == HOSTILE


def test_the_pdf_of_an_empty_or_older_card_still_draws(tmp_path: Path) -> None:
    """In process: a card from a recording with nothing in it, and one that lacks the newer keys."""
    problem = load_pack(write_pack(tmp_path))
    card = session_scorecard(problem, [], {"id": "s1", "candidate": HOSTILE, "status": "live"})
    data = render_pdf(card, compress=False)
    assert data.startswith(b"%PDF-") and pdf_has(data, "Missed: probes for the next round")
    assert pdf_has(data, "What would you cache?")  # the probe of a missed constraint
    older = {k: v for k, v in card.items() if k not in ("band_explained", "by_person", "timeline", "problem_meta")}
    older["discovery"] = [{k: r[k] for k in OLD_ROW_KEYS} for r in card["discovery"]]
    assert render_pdf(older).startswith(b"%PDF-")
    assert pdf_filename({"session": {"id": "../..", "candidate": '"\r\n'}}) == "scorecard.pdf"


def test_auto_credit_overturned_credit_spoken_and_assistant_entries_are_shown(tmp_path: Path) -> None:
    """In process, from recorded events: auto mode's credit, a reviewer overturning it, a question
    spoken in the call transcript, and a prompt to the assistant about a constraint."""
    problem = load_pack(write_pack(tmp_path))
    events = [
        Event(0, E.SESSION_CREATED),
        Event(5_000, E.ASK, "candidate", "c1", {"id": 1, "text": "Which languages?", "suggestions": []}),
        Event(5_100, E.DISCOVERED, "system", "auto", {"constraint": "multilingual", "how": "typed", "at": 5_000,
                                                      "event": 1, "quote": "Which languages?"}),
        Event(9_000, E.OVERTURNED, "reviewer", "rev-1", {"constraint": "multilingual", "reason": "REASON-GENEROUS",
                                                        "by": "rev-1", "by_name": "Rita Reviewer"}),
        Event(20_000, E.ASSISTANT_ASKED, "system", "c1", {"constraint": "latency-budget", "prompt": 1, "event": 3,
                                                          "confidence": 0.9, "quote": "ASSISTANT-QUOTE how fast?"}),
        Event(30_000, E.DISCOVERED, "interviewer", "i1", {"constraint": "latency-budget", "how": "aloud",
                                                         "at": 25_000, "event": -1, "quote": "CALL-QUOTE per item?",
                                                         "source": "transcript", "utterance": "u1"}),
    ]  # fmt: skip
    card = session_scorecard(problem, events, {"id": "s1", "candidate": "Ada", "status": "ended"})
    rows = {r["constraint"]: r for r in card["discovery"]}
    auto, spoken = rows["multilingual"], rows["latency-budget"]
    assert auto["auto"] is True and auto["overturned"]["reason"] == "REASON-GENEROUS"
    assert auto["status"] == "overturned" and auto["credit"] == 0
    assert spoken["source"] == "transcript" and spoken["how_words"] == "spoken, from the call transcript"
    assert spoken["quote"] == "CALL-QUOTE per item?" and spoken["clock"] == "0:25"
    assert [a["quote"] for a in spoken["assistant_asked"]] == ["ASSISTANT-QUOTE how fast?"]
    page = render_html(card)
    assert "credit given by auto mode" in page and "overturned by Rita Reviewer at 0:09: REASON-GENEROUS" in page
    assert "<td>spoken (transcript)</td>" in page and "CALL-QUOTE per item?" in page
    assert "asked the assistant at 0:20" in page and "ASSISTANT-QUOTE how fast?" in page
    assert "token" not in page.split("The assistant and")[0]  # no role link was given
    pdf = render_pdf(card)
    for text in ("Credit given by auto mode", "Overturned by Rita Reviewer", "REASON-GENEROUS", "CALL-QUOTE per item?",
                 "spoken, from the call transcript", "Asked the assistant at 0:20"):  # fmt: skip
        assert pdf_has(pdf, text), text
