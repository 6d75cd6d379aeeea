"""Scorecards and per-problem comparisons, computed from recordings (the only truth).

A scorecard is ready the moment a session ends: it is a pure function of the recording,
so any instance can serve it and a replay shows the ledger as it was at any time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from problems import Problem
from server.assistant import SessionAssistant
from server.assistant import summary as assistant_summary
from server.clarify.scoring import scorecard
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


def replay_url(session_id: Any, t: Any) -> str:
    """The replay page of a session at ``t`` ms: it carries no token (the page asks for one)."""
    at = t if isinstance(t, int) and not isinstance(t, bool) else 0
    return f"/replay/{quote(str(session_id), safe='')}#t={at}"


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


def render_html(card: dict[str, Any]) -> str:
    """A readable, printable scorecard page (every value escaped by the template engine)."""
    return _templates.get_template("scorecard.html").render(card=card, session=card["session"])


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
