"""Auto credit marked and overturned, undo within a window, credit for a prompt to the assistant:
pure domain logic on a real pack and the real matcher, no servers. Time is an injected clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from problems import PACKS_DIR, load_pack, load_packs
from server import events as E
from server.audience import ALL, STAFF
from server.clarify.scoring import scorecard
from server.clarify.session import NEUTRAL_REPLY, RETRACTED_NOTE, ClarifySession, UndoWindowPassed
from server.errors import Forbidden, InvalidInput
from server.events import Event, InvalidEvent, validate_event
from server.settings import Settings
from tests.problems.packs import write_pack

CONFIDENT = "What languages are the listings written in?"  # multilingual, above the auto threshold
WINDOW_MS = 30_000
OFF_TOPIC = (
    "How much time is left?",
    "Can I look things up online?",
    "Which libraries are installed?",
    "What format should the function return?",
)


class Room:
    """A session's recording, clock and broadcasts, in memory (what the runtime gives a session)."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.now = 0
        self.events: list[Event] = []
        self.sent: list[tuple[dict[str, Any], Any]] = []
        self.session = ClarifySession(problem, self.record, self.broadcast, lambda: self.now, undo_window_ms=WINDOW_MS)

    def record(self, type_: str, role: str = "system", actor: str = "", **payload: Any) -> tuple[int, Event]:
        event = Event(self.now, type_, role, actor, payload)
        self.events.append(event)
        return len(self.events) - 1, event

    def broadcast(self, message: dict[str, Any], audience: Any) -> None:
        self.sent.append((message, audience))

    def messages(self, type_: str) -> list[tuple[dict[str, Any], Any]]:
        return [(m, a) for m, a in self.sent if m["type"] == type_]

    def replayed(self) -> ClarifySession:
        """A fresh session rebuilt from the recording, as a restart, the replay or the scorecard do."""
        other = ClarifySession(self.problem, self.record, self.broadcast, lambda: self.now)
        other.replay(self.events)
        return other

    def assert_replay_agrees(self) -> None:
        other = self.replayed()
        assert other.ledger.to_json() == self.session.ledger.to_json()
        assert [q.staff() for q in other.questions] == [q.staff() for q in self.session.questions]
        card = scorecard(self.problem, self.session.ledger)
        assert scorecard(self.problem, other.ledger) == card


@pytest.fixture
def problem(tmp_path: Path):
    return load_pack(write_pack(tmp_path))


@pytest.fixture
def room(problem) -> Room:
    return Room(problem)


def test_auto_credit_is_marked_and_a_reviewer_overturns_it_for_nothing(room: Room) -> None:
    s = room.session
    s.handle("mode", {"mode": "auto"}, "interviewer", "int-1")
    room.now = 60_000
    s.handle("ask", {"text": CONFIDENT}, "candidate", "cand-1")
    d = s.ledger.entries["multilingual"]
    assert d.auto is True and d.how == "typed" and d.by == "auto" and d.overturned is None
    row = next(r for r in scorecard(room.problem, s.ledger)["discovery"] if r["constraint"] == "multilingual")
    assert row["auto"] is True and row["overturned"] is None and row["credit"] > 0
    before = scorecard(room.problem, s.ledger)["parts"]["discovery"]
    assert before > 0

    room.now = 120_000
    result = s.overturn("multilingual", "  A guess about data, not about languages.  ", "reviewer", "rev-7")
    assert result["overturned"] == {
        "by": "rev-7",
        "name": "",
        "t": 120_000,
        "reason": "A guess about data, not about languages.",
    }
    ev = room.events[-1]
    assert ev.type == E.OVERTURNED and ev.role == "reviewer" and ev.actor == "rev-7"
    assert ev.payload == {
        "constraint": "multilingual",
        "reason": "A guess about data, not about languages.",
        "by": "rev-7",
    }
    validate_event(ev.to_json())  # what is recorded is what an import accepts
    card = scorecard(room.problem, s.ledger)
    row = next(r for r in card["discovery"] if r["constraint"] == "multilingual")
    assert row["discovered"] is True and row["auto"] is True  # still visible, for the record
    assert row["overturned"]["by"] == "rev-7" and row["credit"] == 0.0
    assert card["parts"]["discovery"] == 0.0
    [(msg, audience)] = room.messages("ledger")[-1:]
    assert audience == STAFF and msg["discovery"]["overturned"]["reason"].startswith("A guess")
    room.assert_replay_agrees()


def test_overturn_is_named_after_the_person_when_signed_in(room: Room) -> None:
    s = room.session
    s.handle("mark", {"constraint": "latency-budget", "how": "aloud"}, "interviewer", "int-1")
    # The runtime signs payloads with the actor's name; a replay reads it back.
    room.events.append(
        Event(
            5_000,
            E.OVERTURNED,
            "interviewer",
            "m-42",
            {"constraint": "latency-budget", "reason": "misheard", "by": "m-42", "by_name": "Grace Hopper"},
        )
    )
    other = room.replayed()
    assert other.ledger.entries["latency-budget"].overturned == {
        "by": "m-42",
        "name": "Grace Hopper",
        "t": 5_000,
        "reason": "misheard",
    }


def test_overturn_refuses_what_it_cannot_take_back(room: Room) -> None:
    s = room.session
    with pytest.raises(Forbidden, match="only staff"):
        s.handle("overturn", {"constraint": "multilingual", "reason": "x"}, "candidate", "cand-1")
    with pytest.raises(InvalidInput, match="not discovered"):
        s.handle("overturn", {"constraint": "multilingual", "reason": "x"}, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="unknown constraint"):
        s.handle("overturn", {"constraint": "nope", "reason": "x"}, "interviewer", "int-1")
    s.handle("mark", {"constraint": "multilingual", "how": "aloud"}, "interviewer", "int-1")
    for bad in (
        {"constraint": "multilingual"},
        {"constraint": "multilingual", "reason": ""},
        {"constraint": 3, "reason": "x"},
    ):
        with pytest.raises(InvalidInput):
            s.handle("overturn", bad, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="must say why"):
        s.handle("overturn", {"constraint": "multilingual", "reason": "   "}, "interviewer", "int-1")
    s.handle("overturn", {"constraint": "multilingual", "reason": "leading question"}, "observer", "obs-1")
    with pytest.raises(InvalidInput, match="already overturned by obs-1"):
        s.handle("overturn", {"constraint": "multilingual", "reason": "again"}, "interviewer", "int-1")
    s.handle("reveal", {"constraint": "latency-budget"}, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="volunteered"):
        s.handle("overturn", {"constraint": "latency-budget", "reason": "x"}, "interviewer", "int-1")
    assert [e.type for e in room.events].count(E.OVERTURNED) == 1  # refusals record nothing


def test_undo_an_answer_reopens_the_question_and_takes_its_credit_back(room: Room) -> None:
    s = room.session
    room.now = 10_000
    q = s.ask(CONFIDENT, "candidate", "cand-1")
    room.now = 20_000
    s.handle(
        "answer", {"question": q.id, "constraint": "multilingual", "use_pack_answer": True}, "interviewer", "int-1"
    )
    answer_index = q.answer_event
    assert answer_index is not None and room.events[answer_index].type == E.ANSWER
    assert "multilingual" in s.ledger.entries and s.ledger.entries["multilingual"].auto is False
    [(notice, audience)] = room.messages("undoable")
    assert audience == STAFF and notice["event"] == answer_index and notice["kind"] == "answer"
    assert notice["window_ms"] == WINDOW_MS and notice["question"] == q.id

    room.now = 20_000 + WINDOW_MS  # the last moment of the window
    s.handle("undo", {"event": answer_index}, "interviewer", "int-1")
    undone = room.events[-1]
    assert undone.type == E.UNDONE and undone.actor == "int-1"
    assert undone.payload == {"event": answer_index, "by": "int-1", "reason": "correction"}
    validate_event(undone.to_json())
    assert q.status == "open" and q.answer is None and q.constraint is None
    assert s.ledger.entries == {}
    [(retracted, audience)] = room.messages("answer.retracted")
    assert audience == ALL and retracted["question"] == q.id and retracted["note"] == RETRACTED_NOTE
    assert retracted["view"]["answer"] is None and retracted["view"]["status"] == "open"
    assert room.messages("ledger")[-1][0]["ledger"]["constraints"]["multilingual"] is None
    room.assert_replay_agrees()

    # Undone once is undone: a second undo is refused; a new answer is credited afresh.
    with pytest.raises(InvalidInput, match="not an answer or a mark"):
        s.handle("undo", {"event": answer_index}, "interviewer", "int-1")
    s.handle("answer", {"question": q.id, "text": "Three languages, yes."}, "interviewer", "int-1")
    assert q.status == "answered" and "multilingual" not in s.ledger.entries
    s.handle("mark", {"constraint": "multilingual", "how": "typed", "question": q.id}, "interviewer", "int-1")
    d = s.ledger.entries["multilingual"]
    assert d.how == "typed" and d.t == 10_000 and d.event == q.event and d.quote == CONFIDENT
    room.assert_replay_agrees()


def test_undo_a_mark_frees_the_constraint_for_a_later_correct_mark(room: Room) -> None:
    s = room.session
    room.now = 5_000
    s.handle("mark", {"constraint": "latency-budget", "how": "volunteered"}, "interviewer", "int-1")
    index = s.ledger.entries["latency-budget"].index
    assert room.events[index].type == E.DISCOVERED and room.events[index].payload["mark"] is True
    room.now = 9_000
    s.handle("undo", {"event": index}, "interviewer", "int-1")
    assert "latency-budget" not in s.ledger.entries
    assert room.messages("undone")[-1][0] == {
        "type": "undone",
        "event": index,
        "kind": "mark",
        "question": None,
        "constraint": "latency-budget",
        "by": "int-1",
    }
    assert room.messages("answer.retracted") == []  # a mark never told the candidate anything
    room.now = 12_000
    s.handle("mark", {"constraint": "latency-budget", "how": "aloud", "quote": "how fast?"}, "interviewer", "int-1")
    d = s.ledger.entries["latency-budget"]
    assert d.how == "aloud" and d.t == 12_000 and d.quote == "how fast?"
    card = scorecard(room.problem, s.ledger)
    assert next(r for r in card["discovery"] if r["constraint"] == "latency-budget")["credit"] > 0
    room.assert_replay_agrees()


def test_undo_after_the_window_or_of_someone_elses_action_is_refused(room: Room) -> None:
    s = room.session
    room.now = 1_000
    s.handle("mark", {"constraint": "latency-budget", "how": "aloud"}, "interviewer", "int-1")
    mark = s.ledger.entries["latency-budget"].index
    room.now = 1_000 + WINDOW_MS + 1
    with pytest.raises(UndoWindowPassed, match=r"undo window has passed.*30 s") as caught:
        s.handle("undo", {"event": mark}, "interviewer", "int-1")
    assert caught.value.code == "undo_window_passed" and caught.value.status == 422
    assert "latency-budget" in s.ledger.entries

    q = s.ask("Is the text all English?", "candidate", "cand-1")
    s.handle("answer", {"question": q.id, "text": "Mostly."}, "interviewer", "int-1")
    with pytest.raises(Forbidden, match="your own"):
        s.handle("undo", {"event": q.answer_event}, "interviewer", "int-2")  # another interviewer connection
    with pytest.raises(Forbidden, match="only the interviewer"):
        s.handle("undo", {"event": q.answer_event}, "observer", "int-1")
    with pytest.raises(InvalidInput, match="not an answer or a mark"):
        s.handle("undo", {"event": q.event}, "interviewer", "int-1")  # the question itself
    with pytest.raises(InvalidInput, match="not an answer or a mark"):
        s.handle("undo", {"event": 10_000}, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="'event'"):
        s.handle("undo", {"event": "3"}, "interviewer", "int-1")
    assert q.status == "answered"

    # Auto mode's answers are not the interviewer's to undo (they are overturned instead).
    s.handle("mode", {"mode": "auto"}, "interviewer", "int-1")
    auto_q = s.ask(CONFIDENT, "candidate", "cand-1")
    with pytest.raises(Forbidden, match="auto mode's"):
        s.handle("undo", {"event": auto_q.answer_event}, "interviewer", "int-1")
    # The credit a reveal carries stays: the candidate has read the answer.
    s.handle("mode", {"mode": "assisted"}, "interviewer", "int-1")
    s.handle("reveal", {"constraint": "multilingual"}, "interviewer", "int-1")
    assert [e.type for e in room.events].count(E.UNDONE) == 0
    room.assert_replay_agrees()


def test_staff_grant_credit_for_a_constraint_asked_of_the_assistant(room: Room) -> None:
    s = room.session
    room.now = 30_000
    s.assistant_prompt(prompt=4, event=17, text="Are all the listings in English, or other languages?", actor="cand-1")
    [asked] = s.assistant_asked
    assert asked["constraint"] == "multilingual" and asked["t"] == 30_000
    [(msg, audience)] = room.messages("clarify.assistant_asked")
    assert audience == STAFF and msg["asked"] == asked
    assert s.ledger.entries == {}  # no credit until staff grant it

    with pytest.raises(InvalidInput, match="no prompt 9"):
        s.handle("mark", {"constraint": "multilingual", "how": "assistant", "prompt": 9}, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="'typed' mark needs"):
        s.handle("mark", {"constraint": "multilingual", "how": "typed"}, "interviewer", "int-1")
    with pytest.raises(InvalidInput, match="'how'"):
        s.handle("mark", {"constraint": "multilingual", "how": "guessed"}, "interviewer", "int-1")
    room.now = 50_000
    s.handle("mark", {"constraint": "multilingual", "how": "assistant", "prompt": 4}, "interviewer", "int-1")
    d = s.ledger.entries["multilingual"]
    assert d.how == "assistant" and d.t == 30_000 and d.event == 17 and d.quote.startswith("Are all the listings")
    validate_event(room.events[-1].to_json())
    # Credited like a typed question at the same moment.
    s.handle(
        "mark",
        {"constraint": "latency-budget", "how": "assistant", "quote": "how fast must it be?"},
        "interviewer",
        "int-1",
    )
    rows = {r["constraint"]: r for r in scorecard(room.problem, s.ledger)["discovery"]}
    typed = Room(room.problem)
    typed.now = 30_000
    typed.session.handle("mark", {"constraint": "multilingual", "how": "aloud"}, "interviewer", "int-1")
    typed_rows = {r["constraint"]: r for r in scorecard(room.problem, typed.session.ledger)["discovery"]}
    assert rows["multilingual"]["how"] == "assistant"
    assert rows["multilingual"]["credit"] == typed_rows["multilingual"]["credit"] > 0
    assert rows["latency-budget"]["credit"] > 0
    room.assert_replay_agrees()


def test_the_new_events_are_validated_on_import() -> None:
    good = [
        {
            "t": 5,
            "type": "clarify.overturned",
            "actor": "m-1",
            "payload": {"constraint": "a", "reason": "r", "by": "m-1"},
        },
        {"t": 5, "type": "clarify.undone", "payload": {"event": 3, "by": "i", "reason": "correction"}},
        {"t": 5, "type": "clarify.discovered", "payload": {"constraint": "a", "how": "assistant", "at": 1, "event": 2}},
    ]
    for obj in good:
        assert validate_event(obj).type == obj["type"]
    bad = [
        ({"t": 5, "type": "clarify.overturned", "payload": {"constraint": "a", "reason": ""}}, "payload.reason"),
        ({"t": 5, "type": "clarify.overturned", "payload": {"reason": "r"}}, "payload.constraint"),
        ({"t": 5, "type": "clarify.undone", "payload": {"event": -1}}, "payload.event"),
        ({"t": 5, "type": "clarify.undone", "payload": {"event": 1, "reason": "regret"}}, "payload.reason"),
        (
            {
                "t": 5,
                "type": "clarify.discovered",
                "payload": {"constraint": "a", "how": "psychic", "at": 1, "event": 2},
            },
            "payload.how",
        ),
    ]
    for obj, field in bad:
        with pytest.raises(InvalidEvent) as caught:
            validate_event(obj)
        assert caught.value.field == field


def test_the_undo_window_is_a_setting(monkeypatch) -> None:
    assert Settings().undo_window_s == 30.0
    monkeypatch.setenv("CLARIFY_UNDO_WINDOW_S", "5")
    assert Settings().undo_window_s == 5.0


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_auto_mode_never_credits_or_answers_questions_about_nothing_hidden(question: str) -> None:
    """Every shipped pack, the real matcher: a neutral reply and no credit."""
    problems, _ = load_packs(PACKS_DIR)  # packs being written elsewhere may not load yet
    assert len(problems) >= 8
    for problem in problems.values():
        room = Room(problem)
        room.session.handle("mode", {"mode": "auto"}, "interviewer", "int-1")
        q = room.session.ask(question, "candidate", "cand-1")
        assert (problem.id, q.answer) == (problem.id, NEUTRAL_REPLY)
        assert (problem.id, q.constraint, room.session.ledger.entries) == (problem.id, None, {})
        hidden = {c.answer for c in problem.meta.constraint}
        assert not any(m["text"] in hidden for m, _ in room.messages("answer"))
