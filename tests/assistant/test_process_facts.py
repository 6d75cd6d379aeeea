"""Pure tests (real pycrdt documents, no servers) of two scorecard facts of issue 13: the share
of the final code that came from the assistant, and the candidate's typing pace in bursts."""

from __future__ import annotations

import base64

import pytest
from pycrdt import Doc, Text

from server import events as E
from server.assistant import SessionAssistant, summary
from server.errors import Forbidden, InvalidInput
from server.events import Event
from server.process_signals import BURST_GAP_MS, TYPED_MAX, DocAttribution, ProcessSignals, typing_pace
from server.process_signals import summary as process_summary

SNIPPET = "def keep(rows):\n    return [r for r in rows if r]\n"


class Editor:
    """A candidate's editor: a real Y.Text whose every change becomes a recorded doc update."""

    def __init__(self, role: str = "candidate", actor: str = "cand-1") -> None:
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.role, self.actor = role, actor
        self.events: list[Event] = []

    def _record(self, t: int, change) -> None:
        before = self.doc.get_state()
        change()
        self.events.append(Event.doc_update(t, self.role, self.actor, self.doc.get_update(before)))

    def insert(self, t: int, at: int, text: str) -> None:
        self._record(t, lambda: self.text.insert(at, text))

    def delete(self, t: int, start: int, end: int) -> None:
        self._record(t, lambda: self.text.__delitem__(slice(start, end)))

    def type(self, t: int, at: int, text: str, every_ms: int = 200) -> int:
        """Types `text` one key at a time from `t`; returns the time of the last key."""
        for n, ch in enumerate(text):
            self.insert(t + n * every_ms, at + n, ch)
        return t + (len(text) - 1) * every_ms

    def signal(self, t: int, **payload) -> None:
        self.events.append(Event(t, E.PROCESS_SIGNAL, self.role, self.actor, payload))


def assistant_summary(events: list[Event]) -> dict:
    assistant = SessionAssistant(lambda *a, **k: (-1, Event(0, "")), lambda m, a: None, lambda: 0)
    assistant.replay(events)
    return summary(assistant, [])


def test_no_insert_means_no_share() -> None:
    ed = Editor()
    ed.type(0, 0, "x = 1")
    s = assistant_summary(ed.events)
    assert s["final_code_share"] is None
    assert s["final_code_chars_from_assistant"] == 0 and s["final_code_chars"] == 5


def test_inserted_code_is_followed_through_later_edits() -> None:
    ed = Editor()
    ed.insert(0, 0, "# %%\n")
    ed.insert(1000, 5, SNIPPET)
    ed.signal(1010, kind="insert", source="assistant", size=len(SNIPPET), reply=1, at=5)
    # Typed above and below it; then the candidate deletes "rows" from the signature (4 chars)
    # and types a longer name in its place (typed, so not the assistant's).
    ed.type(2000, 0, "import re\n")
    end = len(str(ed.text))
    ed.type(5000, end, "print(keep([1]))\n")
    at = str(ed.text).index("keep(rows)") + len("keep(")
    ed.delete(9000, at, at + 4)
    ed.type(9500, at, "items")
    final = str(ed.text)
    s = assistant_summary(ed.events)
    assert s["final_code_chars"] == len(final)
    assert s["final_code_chars_from_assistant"] == len(SNIPPET) - 4
    assert s["final_code_share"] == round((len(SNIPPET) - 4) / len(final), 4)
    # The same text retyped by hand is not the assistant's.
    hand = Editor()
    hand.type(0, 0, SNIPPET)
    assert assistant_summary(hand.events)["final_code_share"] is None


def test_the_signal_may_arrive_before_its_update_and_deleting_all_of_it_leaves_zero() -> None:
    ed = Editor()
    ed.insert(0, 0, "a = 1\n")
    ed.signal(900, kind="insert", source="assistant", size=len(SNIPPET), reply=2, at=6)
    ed.insert(1000, 6, SNIPPET)
    attribution = DocAttribution()
    for index, ev in enumerate(ed.events):
        attribution.apply(index, ev)
    assert attribution.assistant_chars() == len(SNIPPET)
    assert list(attribution.assistant.values()) == [2]
    ed.delete(3000, 6, 6 + len(SNIPPET))
    s = assistant_summary(ed.events)
    assert s["final_code_share"] == 0.0 and s["final_code_chars_from_assistant"] == 0


def test_checkpoints_and_damaged_updates_do_not_confuse_attribution() -> None:
    ed = Editor()
    ed.insert(0, 0, SNIPPET)
    ed.signal(5, kind="insert", source="assistant", size=len(SNIPPET), reply=1, at=0)
    events = [
        *ed.events,
        Event(10, E.DOC_CHECKPOINT, "system", "", {"state": base64.b64encode(ed.doc.get_update()).decode()}),
        Event(11, E.DOC_UPDATE, "candidate", "cand-1", {"update": "not base64!"}),
        Event(12, E.DOC_UPDATE, "candidate", "cand-1", {"update": "AAAA"}),
        Event(13, E.PROCESS_SIGNAL, "candidate", "cand-1", {"kind": "insert", "size": "many"}),
    ]
    s = assistant_summary(events)
    assert s["final_code_share"] == 1.0 and s["final_code_chars"] == len(SNIPPET)


def test_typing_pace_in_bursts() -> None:
    ed = Editor()
    # Burst 1: 11 keys 200 ms apart (2 s, 11 chars -> 330 cpm).
    last = ed.type(0, 0, "hello world")
    # Burst 2 after a pause longer than the gap: 21 keys 100 ms apart (2 s, 21 chars -> 630 cpm).
    start = last + BURST_GAP_MS + 1
    last = ed.type(start, 11, "\nprint('hello world')", every_ms=100)
    # A paste (its signal comes first) and an assistant insert: not typing.
    pasted = "x" * 10
    ed.signal(last + 100, kind="paste", size=len(pasted), source="external")
    ed.insert(last + 150, 0, pasted)
    ed.insert(last + 300, 0, SNIPPET)
    ed.signal(last + 310, kind="insert", source="assistant", size=len(SNIPPET), reply=1, at=0)
    # The interviewer typing does not count.
    staff = Editor(role="interviewer", actor="int-1")
    staff.doc = ed.doc
    staff.text = ed.text
    staff.type(last + 400, 0, "# note")
    events = sorted(ed.events + staff.events, key=lambda e: e.t)
    typing = typing_pace(events)
    assert typing["bursts"] == 2
    assert typing["typed_chars"] == 11 + 21
    assert [b["chars"] for b in typing["list"]] == [11, 21]
    assert [b["cpm"] for b in typing["list"]] == [330, 630]
    assert typing["median_cpm"] == 480
    assert typing["longest_burst_s"] == 2.0
    assert typing["list"][1]["t"] == start
    assert process_summary(events)["typing"] == typing


def test_a_large_single_update_is_not_typing_and_no_updates_mean_no_bursts() -> None:
    ed = Editor()
    ed.insert(0, 0, "y" * (TYPED_MAX + 1))
    typing = typing_pace(ed.events)
    assert typing["bursts"] == 0 and typing["median_cpm"] is None and typing["list"] == []
    assert typing_pace([])["bursts"] == 0


def test_bad_insert_signals_are_refused_with_a_clear_message_and_nothing_recorded() -> None:
    recorded: list[Event] = []

    def record(type_: str, role: str, actor: str, **payload) -> tuple[int, Event]:
        recorded.append(Event(0, type_, role, actor, payload))
        return len(recorded) - 1, recorded[-1]

    signals = ProcessSignals(record, lambda m, a: None)
    bad = [
        ({"kind": "insert", "source": "assistant"}, "'size'"),
        ({"kind": "insert", "size": 10, "source": "external"}, "from the assistant"),
        ({"kind": "insert", "size": -1, "source": "assistant"}, "size"),
        ({"kind": "insert", "size": 10, "source": "assistant", "at": "3"}, "at"),
        ({"kind": "insert", "size": 10, "source": "assistant", "reply": 1.5}, "reply"),
        ({"kind": "typed", "size": 10}, "kind"),
    ]
    for msg, says in bad:
        with pytest.raises(InvalidInput, match=says):
            signals.handle(msg, "candidate", "c", 0)
    with pytest.raises(Forbidden):
        signals.handle({"kind": "insert", "size": 10, "source": "assistant"}, "interviewer", "i", 0)
    assert recorded == []
    signals.handle({"kind": "insert", "size": 10, "source": "assistant", "reply": 1, "at": 0}, "candidate", "c", 5)
    assert [e.payload for e in recorded] == [{"kind": "insert", "size": 10, "source": "assistant", "reply": 1, "at": 0}]
