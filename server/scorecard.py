"""Scorecards and per-problem comparisons, computed from recordings (the only truth).

A scorecard is ready the moment a session ends: it is a pure function of the recording,
so any instance can serve it and a replay shows the ledger as it was at any time.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from problems import Problem
from server.clarify.scoring import scorecard
from server.clarify.session import ClarifySession
from server.recording import Event


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
    replay = f"/replay/{session['id']}#t="
    for row in card["discovery"]:
        if row["evidence"]:
            row["evidence"]["link"] = replay + str(row["evidence"]["t"])
    for row in card["checks"]:
        row["link"] = replay + str(row.get("t", 0))
    for rating in card["ratings"].values():
        rating["link"] = replay + str(rating.get("t", 0))
    return card


def comparison(problem: Problem, cards: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Constraints x candidates for one problem."""
    return {
        "problem": problem.summary(),
        "constraints": [{"id": c.id, "title": c.title, "weight": c.weight} for c in problem.meta.constraint],
        "candidates": [
            {
                "session": card["session"]["id"],
                "candidate": card["session"]["candidate"],
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


def _ms(t: int | None) -> str:
    if t is None:
        return "—"
    return f"{t // 60000}:{(t // 1000) % 60:02d}"


def _discovery_row(r: dict[str, Any]) -> str:
    e = html.escape
    first = "" if r["before_first_run"] is None else ("before" if r["before_first_run"] else "after")
    link = f'<a href="{e(r["evidence"]["link"])}">replay</a>' if r["evidence"] else ""
    return (
        f"<tr><td>{e(r['title'])}</td><td>{e(r['category'])}</td><td>{r['weight']:g}</td>"
        f"<td>{e(r['how'] or 'not asked')}</td><td>{_ms(r['t'])}</td><td>{first}</td>"
        f"<td>{r['credit']:.2f}</td><td>{link}</td></tr>"
    )


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin:1rem 0}
td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left}
.band{font-size:1.4rem;font-weight:600}
@media print{a{color:inherit;text-decoration:none}}
"""


def render_html(card: dict[str, Any]) -> str:
    """A readable, printable scorecard page (every value escaped)."""
    e = html.escape
    s = card["session"]
    rows = "".join(_discovery_row(r) for r in card["discovery"])
    checks = (
        "".join(
            f"<tr><td>{e(c['id'])}</td><td>{'pass' if c['passed'] else 'fail'}</td><td>{e(c['detail'])}</td></tr>"
            for c in card["checks"]
        )
        or f"<tr><td colspan=3>{e(card['checks_status'])}</td></tr>"
    )
    ratings = (
        "".join(f"<tr><td>{e(dim)}</td><td>{r['score']}</td></tr>" for dim, r in card["ratings"].items())
        or "<tr><td colspan=2>no ratings</td></tr>"
    )
    parts = " · ".join(f"{e(k)} {v:.0f}" for k, v in card["parts"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scorecard: {e(s["candidate"])}</title>
<style>{_STYLE}</style></head><body>
<h1>{e(s["candidate"])}: {e(card.get("problem_title") or card["problem"])}</h1>
<p class="band">{e(card["band"])} · overall {card["overall"]:.0f}</p><p>{parts}</p>
<h2>Clarifying questions: hidden constraints</h2>
<table><tr><th>constraint</th><th>category</th><th>weight</th><th>how</th><th>when</th><th>first run</th>
<th>credit</th><th>evidence</th></tr>{rows}</table>
<h2>Hidden checks</h2><table><tr><th>check</th><th>result</th><th>detail</th></tr>{checks}</table>
<h2>Ratings</h2><table><tr><th>dimension</th><th>score (1 to 4)</th></tr>{ratings}</table>
<details><summary>How the score is computed</summary><pre>{e(card["formula"] or "")}</pre></details>
</body></html>"""


def render_comparison_html(data: dict[str, Any]) -> str:
    """Constraints x candidates for one problem, as a readable page (every value escaped)."""
    e = html.escape
    p = data["problem"]
    head = "".join(f"<th title='{e(c['title'])}'>{e(c['title'])}</th>" for c in data["constraints"])
    rows = []
    for cand in sorted(data["candidates"], key=lambda c: c["overall"], reverse=True):
        cells = []
        for c in data["constraints"]:
            d = cand["discovery"].get(c["id"]) or {}
            how = d.get("how")
            text = f"{how} {_ms(d.get('t'))}" if how else "—"
            link = f"/replay/{e(cand['session'])}#t={d['t']}" if how else ""
            cells.append(
                f"<td class='{e(how or 'none')}'>" + (f"<a href='{link}'>{e(text)}</a>" if link else text) + "</td>"
            )
        rows.append(
            f"<tr><th><a href='/api/sessions/{e(cand['session'])}/scorecard'>{e(cand['candidate'])}</a></th>"
            f"<td>{cand['overall']:.0f}</td><td>{e(cand['band'])}</td>{''.join(cells)}</tr>"
        )
    body = "".join(rows) or f"<tr><td colspan={3 + len(data['constraints'])}>no sessions yet</td></tr>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comparison: {e(p["title"])}</title>
<style>{_STYLE}
td.typed,td.aloud{{background:#e7f6ec}}td.check{{background:#fff6db}}td.volunteered,td.none{{color:#888}}
th{{vertical-align:bottom}}</style></head><body>
<h1>{e(p["title"])}</h1><p>{e(p["specialization"])} · {e(p["level"])} · {p["minutes"]} min ·
{len(data["candidates"])} candidate{"" if len(data["candidates"]) == 1 else "s"}</p>
<table><tr><th>candidate</th><th>overall</th><th>band</th>{head}</tr>{body}</table>
<p>Each cell: how the constraint was surfaced (typed, aloud, check, volunteered) and when (m:ss),
linked to that moment of the replay.</p>
</body></html>"""
