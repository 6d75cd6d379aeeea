"""Pure parts of the assistant and the process signals: no servers, no I/O."""

from __future__ import annotations

import pytest

from server import events as E
from server.assistant import SessionAssistant
from server.assistant_config import AssistantSettings
from server.assistant_provider import build_messages, retry_after
from server.events import Event, InvalidEvent, validate_event
from server.process_signals import summary


def test_the_context_is_the_brief_the_code_and_the_conversation_only() -> None:
    settings = AssistantSettings(base_url="http://x/v1", models=["m"], history_turns=1, max_code_chars=10)
    messages = build_messages(settings, "THE BRIEF", "0123456789abcdef", [("q1", "r1"), ("q2", "r2")], "why?")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "THE BRIEF" in messages[0]["content"]
    assert messages[1]["content"] == "q2" and messages[2]["content"] == "r2"  # the oldest turn was dropped
    assert "0123456789" in messages[-1]["content"] and "abcdef" not in messages[-1]["content"]
    assert messages[-1]["content"].endswith("why?")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None), ({"retry-after": "soon"}, None)],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_settings_read_a_comma_list_and_price_replies() -> None:
    s = AssistantSettings.model_validate({"base_url": "http://x/v1", "models": "a, b", "default_model": "c"})
    assert s.model_choices == ["c", "a", "b"] and s.fallback_model == "c" and s.configured
    assert AssistantSettings().configured is False
    assert s.cost(10, 10) is None
    assert AssistantSettings(price_input_per_mtok=1, price_output_per_mtok=2).cost(1_000_000, 500_000) == 2.0


def test_a_reply_in_flight_when_the_server_stopped_replays_as_interrupted() -> None:
    events = [
        Event(1, E.ASSISTANT_CONFIG, "interviewer", "i", {"enabled": True, "model": "m", "budget": 100}),
        Event(2, E.ASSISTANT_PROMPT, "candidate", "c", {"id": 1, "text": "q", "model": "m"}),
        Event(3, E.ASSISTANT_REPLY, "system", "assistant", {"id": 1, "text": "r", "model": "m", "tokens": 30}),
        Event(4, E.ASSISTANT_PROMPT, "candidate", "c", {"id": 2, "text": "q2", "model": "m"}),
    ]
    assistant = SessionAssistant(lambda *a, **k: (-1, events[0]), lambda m, a: None, lambda: 0)
    assistant.replay(events)
    assert assistant.enabled and assistant.budget == 100 and assistant.used == 30
    assert [t.status for t in assistant.turns] == ["done", "interrupted"]


def test_imported_recordings_check_the_new_event_types() -> None:
    ok = {"t": 1, "type": "process.signal", "role": "candidate", "payload": {"kind": "paste", "size": 3}}
    assert validate_event(ok).type == E.PROCESS_SIGNAL
    with pytest.raises(InvalidEvent) as info:
        validate_event({**ok, "payload": {"kind": "teleport"}})
    assert info.value.field == "payload.kind"
    with pytest.raises(InvalidEvent):
        validate_event({"t": 1, "type": "assistant.reply", "payload": {"id": 1, "text": 3, "model": "m"}})


def test_process_summary_states_facts() -> None:
    events = [
        Event(10, E.PROCESS_SIGNAL, "candidate", "c", {"kind": "paste", "size": 500, "source": "external"}),
        Event(20, E.PROCESS_SIGNAL, "candidate", "c", {"kind": "hidden"}),
        Event(90, E.PROCESS_SIGNAL, "candidate", "c", {"kind": "visible", "duration_ms": 70}),
        Event(95, E.PROCESS_SIGNAL, "candidate", "c", {"kind": "insert", "size": 40, "source": "assistant"}),
    ]
    facts = summary(events)
    assert facts["pastes_by_source"]["external"] == 1 and facts["largest_paste"] == 500
    assert facts["tab_hidden"] == {"times": 1, "total_ms": 70, "longest_ms": 70}
    assert facts["assistant_inserts"] == 1 and len(facts["timeline"]) == 4
