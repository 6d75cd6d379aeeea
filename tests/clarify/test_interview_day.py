"""The session clock and dismissed questions, as recorded events replayed through ``apply``.

Pure: a ClarifySession on a shipped pack with an in-memory recording; a second session
replays the same events and must agree (what a restarted server or a late joiner sees).
"""

from __future__ import annotations

from typing import Any

import pytest

from problems import PACKS_DIR, load_pack
from server import events as E
from server.audience import ALL
from server.clarify.session import ClarifySession
from server.errors import Forbidden, InvalidInput
from server.events import Event, validate_event

PROBLEM = "ticket-escalation"


class Recording:
    """An in-memory recording and what was broadcast, with a settable clock."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.sent: list[tuple[dict[str, Any], Any]] = []
        self.t = 0

    def record(self, type_: str, role: str = "system", actor: str = "", **payload: Any) -> tuple[int, Event]:
        ev = Event(self.t, type_, role, actor, payload)
        self.events.append(ev)
        return len(self.events) - 1, ev

    def session(self) -> ClarifySession:
        problem = load_pack(PACKS_DIR / PROBLEM)
        return ClarifySession(problem, self.record, lambda m, a: self.sent.append((m, a)), lambda: self.t)


def test_extending_is_recorded_and_the_limit_is_rebuilt_from_the_recording() -> None:
    rec = Recording()
    live = rec.session()
    minutes = live.problem.meta.minutes
    rec.t = 30 * 60_000
    assert live.clock() == {"now": rec.t, "limit": minutes * 60_000, "minutes": minutes, "extended": 0}

    live.handle("extend", {"type": "extend", "minutes": 10}, "interviewer", "iv")
    live.handle("extend", {"type": "extend", "minutes": 5}, "interviewer", "iv")
    assert live.clock()["limit"] == (minutes + 15) * 60_000
    assert [e.type for e in rec.events] == [E.EXTEND, E.EXTEND]
    assert all(validate_event(e.to_json()) for e in rec.events)  # an export imports back
    # Everyone (the candidate too) is told the new limit.
    clock_msgs = [(m, a) for m, a in rec.sent if m["type"] == "clock"]
    assert clock_msgs[-1] == ({"type": "clock", "clock": live.clock()}, ALL)

    replayed = Recording().session()
    replayed.replay(rec.events)
    assert replayed.extra_minutes == 15

    with pytest.raises(Forbidden):
        live.handle("extend", {"type": "extend", "minutes": 5}, "candidate", "c")
    with pytest.raises(InvalidInput):
        live.handle("extend", {"type": "extend", "minutes": 0}, "interviewer", "iv")
    with pytest.raises(InvalidInput):
        live.handle("extend", {"type": "extend", "minutes": "5"}, "interviewer", "iv")


def test_a_dismissal_says_how_to_everyone_and_survives_replay() -> None:
    rec = Recording()
    live = rec.session()
    live.ask("Is the data labelled by hand?", "candidate", "c")
    live.ask("What latency budget do we have?", "candidate", "c")
    live.handle("dismiss", {"type": "dismiss", "question": 1, "how": "aloud"}, "interviewer", "iv")
    live.handle("dismiss", {"type": "dismiss", "question": 2}, "interviewer", "iv")
    public = [q.public() for q in live.questions]
    assert [(q["status"], q["dismissed"], q["answer"]) for q in public] == [
        ("dismissed", "aloud", None),
        ("dismissed", "unanswered", None),
    ]
    told = [(m, a) for m, a in rec.sent if m["type"] == "question.dismissed"]
    assert told == [
        ({"type": "question.dismissed", "question": 1, "how": "aloud"}, ALL),
        ({"type": "question.dismissed", "question": 2, "how": "unanswered"}, ALL),
    ]
    with pytest.raises(InvalidInput):  # closed once
        live.handle("dismiss", {"type": "dismiss", "question": 1}, "interviewer", "iv")

    replayed = Recording().session()
    replayed.replay(rec.events)
    assert [q.public() for q in replayed.questions] == public
