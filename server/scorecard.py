"""Scorecards and per-problem comparisons, computed from recordings (the only truth).

A scorecard is ready the moment a session ends: it is a pure function of the recording,
so any instance can serve it and a replay shows the ledger as it was at any time.

Besides the figures (:mod:`server.clarify.scoring`), the card carries the words a panel reads in
two minutes (issue 10): what the band means and how it was reached, each constraint in the
candidate's own words with how and when, probes for the missed ones, what each check tests, the
rubric anchor of each rating, ratings and notes by person, and a timeline linked to the replay.
Keys are only ever added: other tools (webhooks, exports, the comparison) read the older ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from problems import Problem
from server import events as E
from server.assistant import SessionAssistant
from server.assistant import summary as assistant_summary
from server.clarify.levels import bar_line, for_session
from server.clarify.scoring import ScoringConfig, level_config, scorecard
from server.clarify.session import ClarifySession
from server.events import Event
from server.process_signals import summary as process_summary
from server.web import DOCUMENT_CSS


def clarify_state(problem: Problem, events: Sequence[Event], upto_t: int | None = None) -> ClarifySession:
    """The clarify state replayed from a recording, up to ``upto_t`` when given."""
    state = ClarifySession(problem, record=lambda *a, **k: -1, broadcast=lambda m, a: None, now=lambda: 0)
    state.replay([e for e in events if upto_t is None or e.t <= upto_t])
    return state


def session_scorecard(problem: Problem, events: Sequence[Event], session: dict[str, Any]) -> dict[str, Any]:
    """The scorecard of one session, with its session summary and a replay link per figure."""
    problem = for_session(problem, session.get("level")) or problem  # the bar of its level (issue 14)
    state = clarify_state(problem, events)
    card = scorecard(problem, state.ledger, state.checks, state.ratings)
    card["session"] = session
    card["problem_title"] = problem.meta.title
    card["questions"] = [q.staff() for q in state.questions]
    card["notes"] = state.notes
    card["checks_status"] = "done" if state.checks else ("pending" if session.get("status") == "ended" else "not run")
    card["assistant"] = _assistant_summary(problem, events, state, session)
    card["process"] = process_summary(events)
    replay = f"/replay/{session['id']}#t="
    for row in card["discovery"]:
        if row["evidence"]:
            row["evidence"]["link"] = replay + str(row["evidence"]["t"])
    for row in card["checks"]:
        row["link"] = replay + str(row.get("t", 0))
    for rating in card["ratings"].values():
        rating["link"] = replay + str(rating.get("t", 0))
    _explain(card, problem, events, state)
    return card


def _assistant_summary(
    problem: Problem, events: Sequence[Event], state: ClarifySession, session: dict[str, Any]
) -> dict[str, Any]:
    """Facts about the candidate's use of the AI assistant (issue 13), replayed from the recording."""
    assistant = SessionAssistant(lambda *a, **k: (-1, Event(0, "")), lambda m, a: None, lambda: 0)
    assistant.replay(events)
    titles = {c.id: c.title for c in problem.meta.constraint}
    replay = f"/replay/{session['id']}#t="
    asked = [
        {**a, "title": titles.get(a["constraint"], ""), "link": replay + str(a["t"])} for a in state.assistant_asked
    ]
    return assistant_summary(assistant, asked)


# -- the two-minute read (issue 10): each figure in words, with its evidence ---------------

BAND_MEANINGS = {
    "strong yes": "a clear signal to hire: most of what mattered was surfaced early, and the rest agrees",
    "yes": "a signal to hire, with gaps worth reading in the replay",
    "lean no": "a weak signal: what was missed or failed outweighs what was found; settle it in a next round",
    "no": "this session's evidence does not support a hire for this problem",
}
PARTS = {
    "discovery": (
        "Discovery",
        "hidden constraints the candidate surfaced, by weight; asking, or finding one in a failing run, counts "
        "in full; "
        "earlier counts more and after the first run 70%",
    ),
    "checks": (
        "Hidden checks",
        "the share of hidden checks the final code passed, in a kernel the candidate cannot reach",
    ),
    "ratings": ("Interviewer ratings", "the mean rubric rating, 1 counting as 0 and 4 as 100"),
}
HOW_WORDS = {
    "typed": "typed the question",
    "aloud": "asked out loud",
    "transcript": "spoken, from the call transcript",
    "captions": "spoken, from the live captions",
    "check": "found through a failing run (a hidden check failed)",
    "assistant": "asked the assistant (credit granted by staff)",
    "volunteered": "volunteered by the interviewer: earns nothing",
}
CHECK_WORDS = {"passed": "passed", "failed": "failed", "not_exercised": "not exercised (counts as not passed)"}
LANES = {
    "question": "questions",
    "discovery": "discoveries",
    "run": "runs",
    "checks": "checks",
    "note": "notes and ratings",
    "assistant": "assistant",
    "process": "pastes and tab",
}
SIGNAL_WORDS = {
    "paste": "pasted",
    "insert": "inserted assistant code",
    "copy": "copied assistant code",
    "hidden": "tab hidden",
    "visible": "tab shown again",
    "blur": "window left",
    "focus": "window back",
}
PASTE_SOURCES = {"document": "from this document", "assistant": "from the assistant", "external": "from elsewhere"}


def _short(text: Any, limit: int = 90) -> str:
    """One line of at most ``limit`` characters (timeline labels)."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def _pct(value: Any) -> str:
    return f"{value:g}%" if isinstance(value, int | float) and not isinstance(value, bool) else "0%"


def band_explained(card: dict[str, Any], cfg: ScoringConfig | None = None) -> dict[str, Any]:
    """What the band means in words, and how the overall figure that chose it was reached."""
    cfg = cfg or ScoringConfig()
    bands, upper = [], None
    for threshold, name in cfg.bands:
        span = f"from {threshold:g}" if upper is None else f"{threshold:g} to below {upper:g}"
        bands.append({"name": name, "from": threshold, "range": span, "meaning": BAND_MEANINGS.get(name, "")})
        upper = threshold
    parts = card.get("parts") or {}
    used = {k: cfg.weights.get(k, 0.0) for k in parts}
    total = sum(used.values()) or 1.0
    rows = []
    for key, weight in cfg.weights.items():
        label, what = PARTS.get(key, (key, ""))
        rows.append(
            {
                "part": key,
                "label": label,
                "value": parts.get(key),
                "weight": weight,
                # Its share of this overall: a part with nothing in it leaves its weight to the others.
                "share": round(used[key] / total, 3) if key in used else 0.0,
                "what": what,
            }
        )
    terms = " + ".join(f"{r['share']:.0%} \u00d7 {r['label'].lower()} {r['value']:g}" for r in rows if r["share"])
    missing = [r["label"].lower() for r in rows if r["part"] not in parts]
    band = next((b for b in bands if b["name"] == card.get("band")), None)
    reached = f"{card.get('overall', 0):g} = {terms or '0'}"
    if missing:
        reached += f" ({' and '.join(missing)}: nothing yet, so left out and the others share its weight)"
    if band:
        reached += f"; {card.get('overall', 0):g} is in the {band['name']} band ({band['range']})."
    weights = ", ".join(f"{PARTS.get(k, (k,))[0].lower()} {w:.0%}" for k, w in cfg.weights.items())
    return {
        "band": card.get("band"),
        "meaning": band["meaning"] if band else "",
        "range": band["range"] if band else "",
        "reached": reached,
        "formula": (
            f"The overall score (0 to 100) is the weighted mean of the parts that have something in them ({weights}); "
            "the band follows from it."
        ),
        "parts": rows,
        "bands": bands,
    }


def _spoken_source(events: Sequence[Event], index: int, evidence: int) -> str | None:
    """``transcript`` or ``captions`` when a discovery came from a call transcript or live
    captions (its event says so, or its evidence is a transcript event); otherwise None."""
    for i in (index, evidence):
        if 0 <= i < len(events):
            ev = events[i]
            source = ev.payload.get("source")
            if source in ("transcript", "captions"):
                return str(source)
            if ev.type == E.TRANSCRIPT_CAPTIONS:
                return "captions"
            if ev.type.startswith("transcript."):
                return "transcript"
    return None


def _explain(card: dict[str, Any], problem: Problem, events: Sequence[Event], state: ClarifySession) -> None:
    """Add the words a panel reads (extends the card; never renames what other tools read)."""
    sid = card["session"]["id"]
    meta = problem.meta
    constraints = {c.id: c for c in meta.constraint}
    card["problem_meta"] = {
        "title": meta.title,
        "level": meta.level,
        "specialization": meta.specialization,
        "minutes": meta.minutes,
    }
    card["band_explained"] = band_explained(card, level_config(card["level"]) if card.get("level") else None)
    card["bar"]["line"] = bar_line(card["bar"])
    questions_by_event = {q.event: q for q in state.questions}
    asked_assistant = (card.get("assistant") or {}).get("constraints_asked") or []
    for row in card["discovery"]:
        c = constraints.get(row["constraint"])
        d = state.ledger.entries.get(row["constraint"])
        row["probe"] = c.probe if c else ""
        row["clock"] = _clock(row.get("t"))
        row["assistant_asked"] = [
            {**a, "clock": _clock(a.get("t"))} for a in asked_assistant if a.get("constraint") == row["constraint"]
        ]
        if d is None:
            row.update(status="missed", quote="", how_words="not surfaced", run_words="")
            continue
        quote = d.quote
        if not quote and d.event in questions_by_event:
            quote = questions_by_event[d.event].text
        how = (_spoken_source(events, d.index, d.event) if d.how == "aloud" else None) or d.how
        row["quote"] = quote
        row["source"] = how
        row["how_words"] = HOW_WORDS.get(how, how)
        row["run_words"] = "before the first run" if d.before_first_run else "after the first run"
        row["credited_by"] = d.by
        if row.get("overturned"):
            row["status"] = "overturned"
        else:
            row["status"] = "volunteered" if d.how == "volunteered" else "found"
    checks = {c.id: c for c in meta.check}
    for row in card["checks"]:
        check = checks.get(str(row.get("id")))
        row["description"] = check.description if check else ""
        row["tests"] = constraints[check.constraint].title if check and check.constraint in constraints else ""
        row["status_words"] = CHECK_WORDS.get(row.get("status", ""), str(row.get("status", "")))
    dimensions = {d.id: d for d in meta.rubric}
    for key, rating in card["ratings"].items():
        dim = dimensions.get(key)
        rating["title"] = dim.title if dim else key
        rating["anchor"] = dim.anchors.get(str(rating.get("score")), "") if dim else ""
    card["by_person"] = _by_person(card)
    card["runs"] = _runs(events)
    card["timeline"] = _timeline(card, events, sid)


def _by_person(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Ratings and notes grouped by who gave them, in the order people first spoke up."""
    people: dict[str, dict[str, Any]] = {}

    def person(entry: dict[str, Any]) -> dict[str, Any]:
        key = str(entry.get("by") or entry.get("name") or "unknown")
        return people.setdefault(
            key, {"by": key, "name": entry.get("name") or entry.get("by") or "unknown", "ratings": [], "notes": []}
        )

    for n in sorted(card.get("notes") or [], key=lambda n: n.get("t", 0)):
        person(n)["notes"].append({"t": n.get("t"), "clock": _clock(n.get("t")), "text": n.get("text", "")})
    for key, r in card["ratings"].items():
        person(r)["ratings"].append(
            {
                "dimension": key,
                "title": r.get("title", key),
                "score": r.get("score"),
                "anchor": r.get("anchor", ""),
                "t": r.get("t"),
                "clock": _clock(r.get("t")),
            }
        )
    return list(people.values())


def _runs(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each run the session made: when it started and how it ended."""
    runs: dict[int, dict[str, Any]] = {}
    for ev in events:
        run = ev.payload.get("run")
        if not isinstance(run, int) or isinstance(run, bool):
            continue
        if ev.type == E.RUN_STARTED and run not in runs:
            runs[run] = {"run": run, "t": ev.t, "status": None}
        elif ev.type == E.RUN_DONE and run in runs:
            result = ev.payload.get("result")
            runs[run]["status"] = result.get("status") if isinstance(result, dict) else None
    return list(runs.values())


def _timeline(card: dict[str, Any], events: Sequence[Event], sid: Any) -> dict[str, Any]:
    """Marks on one strip, each a link to that moment of the replay."""
    marks: list[dict[str, Any]] = []

    def mark(kind: str, t: Any, label: str) -> None:
        if isinstance(t, int) and not isinstance(t, bool) and t >= 0:
            marks.append({"kind": kind, "t": t, "label": label, "link": replay_url(sid, t)})

    for q in card.get("questions") or []:
        mark("question", q.get("t"), "question: " + _short(q.get("text")))
    for row in card["discovery"]:
        if row.get("discovered"):
            label = f"{row.get('status', 'found')}: {_short(row['title'], 60)} ({row.get('how')})"
            mark("discovery", row.get("t"), label)
    for run in card["runs"]:
        status = f" ({run['status']})" if run.get("status") not in (None, "ok") else ""
        mark("run", run["t"], f"run {run['run']}{status}")
    if card["checks"]:
        passed = sum(1 for r in card["checks"] if r.get("status") == "passed")
        mark("checks", card["checks"][0].get("t"), f"hidden checks: {passed} of {len(card['checks'])} passed")
    for n in card.get("notes") or []:
        mark("note", n.get("t"), f"note by {_short(n.get('name') or n.get('by'), 40)}")
    for key, r in card["ratings"].items():
        mark("note", r.get("t"), f"rated {_short(r.get('title', key), 40)}: {r.get('score')}")
    for turn in (card.get("assistant") or {}).get("turns") or []:
        mark("assistant", turn.get("t"), "asked the assistant: " + _short(turn.get("prompt")))
    for s in (card.get("process") or {}).get("timeline") or []:
        label = SIGNAL_WORDS.get(str(s.get("kind")), str(s.get("kind")))
        if s.get("kind") == "paste":
            label += " " + PASTE_SOURCES.get(str(s.get("source")), "")
        if s.get("size"):
            label += f", {s['size']} characters"
        mark("process", s.get("t"), label)
    marks.sort(key=lambda m: m["t"])
    duration = max([ev.t for ev in events] + [m["t"] for m in marks] + [1])
    for m in marks:
        m["clock"] = _clock(m["t"])
        m["pos"] = min(100, 2 * round(50 * m["t"] / duration))  # a CSS class per 2%: no inline style
    ticks = [{"pos": p, "clock": _clock(duration * p // 100)} for p in (0, 20, 40, 60, 80, 100)]
    return {"duration_ms": duration, "lanes": LANES, "marks": marks, "ticks": ticks}


def comparison(problem: Problem, cards: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Constraints x candidates for one problem."""
    return {
        "problem": problem.summary(),
        "constraints": [{"id": c.id, "title": c.title, "weight": c.weight} for c in problem.meta.constraint],
        "candidates": [
            {
                "session": card["session"]["id"],
                "candidate": card["session"]["candidate"],
                "interviewer": {"id": card["session"].get("host"), "name": card["session"].get("host_name")},
                "overall": card["overall"],
                "band": card["band"],
                "level": card.get("level"),  # bands differ by level: compare within one
                "parts": card["parts"],
                "discovery": {
                    r["constraint"]: {"how": r["how"], "t": r["t"], "credit": r["credit"]} for r in card["discovery"]
                },
            }
            for card in cards
        ],
    }


def _clock(t: Any) -> str:
    """m:ss of a time in ms, or a dash."""
    if not isinstance(t, int) or isinstance(t, bool):
        return "—"
    return f"{t // 60000}:{(t // 1000) % 60:02d}"


def _number(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format(value, spec)


def replay_url(session_id: Any, t: Any, token: str | None = None) -> str:
    """The replay page of a session at ``t`` ms. It carries no token (the page asks for one)
    unless given the role token the scorecard page itself was opened with."""
    at = t if isinstance(t, int) and not isinstance(t, bool) else 0
    query = f"?{urlencode({'token': token})}" if token else ""
    return f"/replay/{quote(str(session_id), safe='')}{query}#t={at}"


def scorecard_url(session_id: Any) -> str:
    """A session's scorecard (staff/reviewer): it carries no token."""
    return f"/api/sessions/{quote(str(session_id), safe='')}/scorecard"


_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(clock=_clock, number=_number)
_templates.globals.update(replay_url=replay_url, scorecard_url=scorecard_url, css_url=DOCUMENT_CSS)


def scorecard_pdf_url(session_id: Any, token: str | None = None) -> str:
    """The scorecard as a PDF file. ``token`` only when the page itself was opened with one in
    its query (a role link): the download then works the same way the page did."""
    url = scorecard_url(session_id) + ".pdf"
    return f"{url}?{urlencode({'token': token})}" if token else url


def glance(card: dict[str, Any]) -> dict[str, Any]:
    """The counts the top of the page states (tolerant of older and partial cards)."""
    rows = [r for r in card.get("discovery") or [] if isinstance(r, dict)]
    found = [r for r in rows if r.get("how") and r.get("how") != "volunteered" and not r.get("overturned")]
    checks = [c for c in card.get("checks") or [] if isinstance(c, dict)]
    return {
        "constraints": len(rows),
        "found": len(found),
        "found_before_run": sum(1 for r in found if r.get("before_first_run")),
        "missed": [r for r in rows if not r.get("how")],
        "checks": len(checks),
        "checks_passed": sum(1 for c in checks if c.get("passed")),
        "ratings": len(card.get("ratings") or {}),
        "notes": len(card.get("notes") or []),
    }


def render_html(card: dict[str, Any], *, link_token: str | None = None) -> str:
    """A readable, printable scorecard page (every value escaped by the template engine).

    ``link_token``: the role token the page was opened with (``?token=``); its replay links and
    its PDF link then carry it, as the replay page's link back to the scorecard does."""
    session = card["session"]
    return _templates.get_template("scorecard.html").render(
        card=card,
        session=session,
        glance=glance(card),
        pdf_url=scorecard_pdf_url(session.get("id", ""), link_token),
        replay_url=lambda sid, t: replay_url(sid, t, link_token),
    )


def render_comparison_html(data: dict[str, Any]) -> str:
    """Constraints x candidates for one problem, as a readable page (every value escaped)."""
    candidates = sorted(data["candidates"], key=lambda c: c["overall"], reverse=True)
    return _templates.get_template("comparison.html").render(
        problem=data["problem"],
        constraints=data["constraints"],
        candidates=candidates,
        interviewers=data.get("interviewers", []),
        selected=data.get("interviewer"),
    )
