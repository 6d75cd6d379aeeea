"""The scorecard page shows the assistant summary and the process signals (issue 13) as facts.

In process: the card's ``assistant`` and ``process`` parts, the latter built by
``process_signals.summary`` from recorded events, rendered by the real template; hostile text is
escaped, and a card without those parts (an older recording) still renders.
"""

from __future__ import annotations

from server import events as E
from server.events import Event
from server.process_signals import summary as process_summary
from server.scorecard import render_html

EVIL = "<script>window.__pwned=1</script>"


def base_card() -> dict:
    session = {"id": "s1", "candidate": "Ada", "status": "ended"}
    return {
        "session": session,
        "problem": "p",
        "problem_title": "P",
        "band": "yes",
        "overall": 70.0,
        "parts": {"discovery": 70.0},
        "discovery": [],
        "checks": [],
        "checks_status": "not run",
        "ratings": {},
        "questions": [],
        "notes": [],
    }


def signal(t: int, **payload) -> Event:
    return Event(t, E.PROCESS_SIGNAL, "candidate", "c1", payload)


def test_the_scorecard_page_states_assistant_and_process_facts() -> None:
    card = base_card()
    card["assistant"] = {
        "enabled": True,
        "prompts": 2,
        "replies": 1,
        "errors": 1,
        "tokens": 264,
        "cost": 0.0012,
        "models": ["sim-1", EVIL],
        "constraints_asked": [
            {"constraint": "latency", "title": f"Latency budget {EVIL}", "t": 125_000, "quote": EVIL}
        ],
        "turns": [
            {"id": 1, "t": 61_000, "event": 4, "prompt": f"How do I drop rows? {EVIL}", "status": "done"},
            {"id": 2, "t": 90_000, "event": 9, "prompt": "What does groupby do?", "status": "error"},
        ],
    }
    card["process"] = process_summary(
        [
            Event(1_000, E.MODE, "system", "", {"mode": "live"}),
            signal(30_000, kind="paste", size=1200, source="external"),
            signal(40_000, kind="hidden"),
            signal(100_000, kind="visible", duration_ms=60_000),
            signal(70_000, kind="insert", size=80, source="assistant", reply=1, at=10),
        ]
    )
    page = render_html(card)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "The assistant and the candidate\u2019s process" in page
    assert "not part of the score" in page
    assert 'questions asked of the assistant</td><td class="num">2<' in page
    assert 'tokens used (prompt and reply)</td><td class="num">264<' in page
    assert "0.0012" in page and "sim-1, &lt;script&gt;" in page
    assert "Latency budget &lt;script&gt;" in page and 'href="/replay/s1#t=125000"' in page
    assert "How do I drop rows? &lt;script&gt;" in page and "(error)" in page
    assert 'pastes from elsewhere</td><td class="num">1</td><td class="num">1200 characters' in page
    assert 'code inserted from the assistant</td><td class="num">1</td><td class="num">80 characters' in page
    assert 'tab hidden</td><td class="num">1</td><td class="num">1:00 in all, longest 1:00' in page
    assert "pasted from elsewhere, 1200 characters" in page and 'href="/replay/s1#t=30000"' in page
    # Facts, never verdicts.
    for verdict in ("cheat", "suspicious", "dishonest", "red flag"):
        assert verdict not in page.lower()


def test_a_card_without_assistant_or_process_parts_still_renders() -> None:
    page = render_html(base_card())
    assert "The assistant was off for this session." in page
    assert 'pastes from elsewhere</td><td class="num">0<' in page
    page = render_html({**base_card(), "assistant": {"enabled": False}, "process": {"tab_hidden": {}}})
    assert "The assistant was off for this session." in page
