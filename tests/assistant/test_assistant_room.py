"""The AI assistant in a live room: a real `clarify serve` talking to a real `clarify assistant-sim`.

The candidate asks, the reply streams to everyone, staff see it live and read-only, the
recording holds prompt and reply; the provider answering 429, hanging and cutting its stream,
the budget running out and the assistant not being configured each give a clear
``assistant.error`` while the session keeps running code; a question about a hidden
constraint reaches staff only; no hidden text is ever sent to the provider; and the state
survives a SIGKILL of the server through the recording.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from problems import PACKS_DIR, load_pack
from tests.assistant.conftest import SimProcess, assistant_env
from tests.hostile.conftest import ModuleServerFactory
from tests.hostile.test_isolation import connect_events, create_session, first_hello, http, read_until, run_code
from tests.server.harness import ServerProcess

pytestmark = pytest.mark.docker

PROBLEM = "ticket-escalation"


@pytest.fixture(scope="module")
def server(module_server_factory: ModuleServerFactory, sim: SimProcess) -> ServerProcess:
    return module_server_factory(**assistant_env(sim))


async def send(ws, **msg: Any) -> None:
    await ws.send(json.dumps(msg))


async def configure(interviewer, **config: Any) -> dict[str, Any]:
    await send(interviewer, type="assistant.config", **config)
    seen = await read_until(interviewer, lambda m: m["type"] in ("assistant.config", "error"), 15, "assistant.config")
    assert seen[-1]["type"] == "assistant.config", seen[-1]
    return seen[-1]


async def ask(candidate, text: str, timeout: float = 30) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Ask the assistant; the messages up to its ``assistant.done`` or ``assistant.error``."""
    await send(candidate, type="assistant.ask", text=text)
    seen = await read_until(
        candidate, lambda m: m["type"] in ("assistant.done", "assistant.error", "error"), timeout, "assistant reply"
    )
    return seen, seen[-1]


async def recording(server: ServerProcess, sid: str, types: set[str] | None = None) -> list[dict[str, Any]]:
    async with http(server) as client:
        r = await client.get(f"/api/sessions/{sid}/recording")
    assert r.status_code == 200, r.text
    events = [json.loads(line) for line in r.text.splitlines() if line.strip()]
    return [e for e in events if types is None or e["type"] in types]


async def wait_recorded(server: ServerProcess, sid: str, type_: str, count: int = 1) -> list[dict[str, Any]]:
    async with asyncio.timeout(30):
        while len(found := await recording(server, sid, {type_})) < count:
            await asyncio.sleep(0.2)
    return found


async def test_the_candidate_asks_and_everyone_sees_the_reply_stream(server: ServerProcess) -> None:
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
        connect_events(server, sid, tokens["observer"]) as observer,
    ):
        hello = await first_hello(candidate)
        assert hello["assistant"]["configured"] is True
        assert hello["assistant"]["enabled"] is False
        await first_hello(interviewer)
        await first_hello(observer)

        _, refused = await ask(candidate, "how do I load the csv?")
        assert refused["type"] == "assistant.error" and refused["code"] == "disabled", refused

        await send(candidate, type="assistant.config", enabled=True)
        forbidden = (await read_until(candidate, lambda m: m["type"] == "error", 15))[-1]
        assert forbidden["code"] == "forbidden"

        config = await configure(interviewer, enabled=True, model="sim-1", budget=20000)
        assert config["enabled"] is True and config["model"] == "sim-1" and config["budget"] == 20000
        seen_config = (await read_until(candidate, lambda m: m["type"] == "assistant.config", 15))[-1]
        assert seen_config["enabled"] is True

        seen, done = await ask(candidate, "How do I drop rows with missing text?")
        assert done["type"] == "assistant.done", done
        deltas = [m["text"] for m in seen if m["type"] == "assistant.delta" and m["id"] == done["id"]]
        assert len(deltas) > 5, "the reply streamed token by token"
        assert "".join(deltas) == done["text"]
        assert "```python" in done["text"]
        assert done["model"] == "sim-1"
        assert done["prompt_tokens"] > 0 and done["completion_tokens"] == len(deltas)
        assert done["tokens"] == done["prompt_tokens"] + done["completion_tokens"]
        assert done["estimated"] is False
        assert isinstance(done["latency_ms"], int)
        assert done["used"] == done["tokens"]

        # Staff saw the prompt and the same stream live.
        for staff in (interviewer, observer):
            staff_seen = await read_until(staff, lambda m: m["type"] == "assistant.done", 15, "assistant.done")
            prompt = next(m for m in staff_seen if m["type"] == "assistant.prompt")
            assert prompt["turn"]["prompt"] == "How do I drop rows with missing text?"
            staff_deltas = [m["text"] for m in staff_seen if m["type"] == "assistant.delta"]
            assert "".join(staff_deltas) == done["text"]
            # Read-only: staff cannot ask.
            await send(staff, type="assistant.ask", text="hello")
            error = (await read_until(staff, lambda m: m["type"] == "error", 15))[-1]
            assert error["code"] == "forbidden"

        # A late joiner gets the conversation in its greeting.
        async with connect_events(server, sid, tokens["observer"]) as late:
            hello = await first_hello(late)
            turns = hello["assistant"]["turns"]
            assert [t["status"] for t in turns] == ["done"] and turns[0]["reply"] == done["text"]

    prompts = await recording(server, sid, {"assistant.prompt"})
    replies = await wait_recorded(server, sid, "assistant.reply")
    assert prompts[0]["role"] == "candidate"
    assert prompts[0]["payload"]["text"] == "How do I drop rows with missing text?"
    reply = replies[0]["payload"]
    assert reply["text"] == done["text"] and reply["model"] == "sim-1" and reply["tokens"] == done["tokens"]
    assert reply["latency_ms"] == done["latency_ms"]
    configs = await recording(server, sid, {"assistant.config"})
    assert configs[0]["role"] == "interviewer" and configs[0]["payload"]["enabled"] is True


async def test_provider_failures_and_the_budget_each_give_a_clear_error_and_the_room_goes_on(
    server: ServerProcess,
) -> None:
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        await first_hello(interviewer)
        await first_hello(candidate)

        await configure(interviewer, enabled=True, model="sim-429")
        _, error = await ask(candidate, "What does groupby do?")
        assert error["type"] == "assistant.error" and error["code"] == "rate_limited", error
        assert error["retry_after"] == 7 and "7 s" in error["message"]

        await configure(interviewer, model="sim-timeout")
        _, error = await ask(candidate, "What does merge do?")
        assert error["type"] == "assistant.error" and error["code"] == "timeout", error

        await configure(interviewer, model="sim-fail-midstream")
        seen, error = await ask(candidate, "How would I split the data by month?")
        assert error["type"] == "assistant.error" and error["code"] == "interrupted", error
        assert any(m["type"] == "assistant.delta" for m in seen), "part of the reply arrived before the cut"

        await configure(interviewer, model="sim-error")
        _, error = await ask(candidate, "How do I read the csv?")
        assert error["code"] == "provider_error" and "500" in error["message"], error

        # The room goes on: code still runs, and the assistant answers again once it can.
        outcome = await run_code(candidate, "print(6 * 7)")
        assert outcome.printed().strip() == "42"
        await configure(interviewer, model="sim-1")
        _, done = await ask(candidate, "How do I print a dataframe?")
        assert done["type"] == "assistant.done", done

        # A budget smaller than one question's context: recorded, refused, the room goes on.
        await configure(interviewer, budget=done["used"] + 20)
        _, error = await ask(candidate, "And how do I sort it?")
        assert error["type"] == "assistant.error" and error["code"] == "budget_exhausted", error
        assert "budget" in error["message"]
        outcome = await run_code(candidate, "print('still here')")
        assert outcome.printed().strip() == "still here"

    errors = await wait_recorded(server, sid, "assistant.error", 5)
    assert [e["payload"]["code"] for e in errors] == [
        "rate_limited",
        "timeout",
        "interrupted",
        "provider_error",
        "budget_exhausted",
    ]
    interrupted = errors[2]["payload"]
    assert interrupted["partial"] and interrupted["tokens"] > 0


async def test_a_server_without_an_assistant_says_so_and_the_room_goes_on(
    module_server_factory: ModuleServerFactory,
) -> None:
    plain = module_server_factory()
    s = await create_session(plain, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    async with (
        connect_events(plain, sid, tokens["interviewer"]) as interviewer,
        connect_events(plain, sid, tokens["candidate"]) as candidate,
    ):
        assert (await first_hello(candidate))["assistant"]["configured"] is False
        await first_hello(interviewer)
        _, error = await ask(candidate, "Can you help?")
        assert error["type"] == "assistant.error" and error["code"] == "not_configured", error
        assert "not configured" in error["message"] or "off" in error["message"]
        await send(interviewer, type="assistant.config", enabled=True)
        error = (await read_until(interviewer, lambda m: m["type"] == "assistant.error", 15))[-1]
        assert error["code"] == "not_configured" and "CLARIFY_ASSISTANT__BASE_URL" in error["message"]
        outcome = await run_code(candidate, "print(1 + 1)")
        assert outcome.printed().strip() == "2"


async def test_a_prompt_about_a_hidden_constraint_reaches_staff_only(server: ServerProcess) -> None:
    problem = load_pack(PACKS_DIR / PROBLEM)
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    question = "Are escalations rare? What fraction of the labels are 1, is the dataset balanced?"
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        await first_hello(interviewer)
        await first_hello(candidate)
        await configure(interviewer, enabled=True, model="sim-1")
        candidate_seen, done = await ask(candidate, question)
        assert done["type"] == "assistant.done", done
        staff_seen = await read_until(interviewer, lambda m: m["type"] == "assistant.suggestion", 15, "suggestion")
        suggestion = staff_seen[-1]
        assert suggestion["proposed"] == "class-imbalance", suggestion
        assert suggestion["text"].startswith("asked the assistant about ")
        # Nothing of it reached the candidate, now or after the reply.
        await run_code(candidate, "print('sync')")
        titles = [c.title for c in problem.meta.constraint]
        for message in candidate_seen:
            assert message["type"] != "assistant.suggestion"
            text = json.dumps(message)
            assert not any(title in text for title in titles), message
            assert "class-imbalance" not in text

        async with connect_events(server, sid, tokens["interviewer"]) as again:
            asked = (await first_hello(again))["clarify"]["assistant_asked"]
            assert [a["constraint"] for a in asked] == ["class-imbalance"]
            assert (await first_hello_candidate(server, sid, tokens["candidate"])).get("clarify", {}).get(
                "assistant_asked"
            ) is None

    async with http(server) as client:
        card = (await client.get(f"/api/sessions/{sid}/scorecard")).json()
    assert [a["constraint"] for a in card["assistant"]["constraints_asked"]] == ["class-imbalance"]
    assert card["assistant"]["prompts"] == 1 and card["assistant"]["tokens"] == done["tokens"]
    discovered = {row["constraint"]: row for row in card["discovery"]}
    assert discovered["class-imbalance"]["how"] is None, "asking the assistant earns no discovery credit"


async def first_hello_candidate(server: ServerProcess, sid: str, token: str) -> dict[str, Any]:
    async with connect_events(server, sid, token) as ws:
        return await first_hello(ws)


async def test_no_hidden_text_is_ever_sent_to_the_provider(server: ServerProcess, sim: SimProcess) -> None:
    problem = load_pack(PACKS_DIR / PROBLEM)
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    note = "Private note: candidate hesitated on the split, probe the drift answer"
    sim.clear()
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        await first_hello(interviewer)
        await first_hello(candidate)
        await configure(interviewer, enabled=True, model="sim-1")
        # Clarifying questions, answered from the pack; a note; a rating; the hidden checks.
        await send(candidate, type="ask", text="Which columns are available when a ticket is created?")
        question = (await read_until(interviewer, lambda m: m["type"] == "question", 15))[-1]["question"]
        await send(interviewer, type="answer", question=question["id"], constraint="leakage", use_pack_answer=True)
        await read_until(candidate, lambda m: m["type"] == "answer", 15, "answer")
        await send(interviewer, type="mark", constraint="review-budget")
        await send(interviewer, type="note", text=note)
        await read_until(interviewer, lambda m: m["type"] == "note", 15, "note")
        await send(interviewer, type="checks")
        checks = (await read_until(interviewer, lambda m: m["type"] == "checks", 240, "checks"))[-1]["results"]
        # The candidate works with the assistant: several turns, so the history is sent too.
        for text in (
            "How do I load tickets.csv with pandas?",
            "How should I split the data for validation?",
            "Is there any seasonality or drift I should know about?",
        ):
            _, done = await ask(candidate, text)
            assert done["type"] == "assistant.done", done

    sent = json.dumps(sim.requests())
    assert "How should I split the data for validation?" in sent, "the requests were captured"
    assert problem.brief.strip()[:200] in json.loads(sent)[0]["messages"][0]["content"], "the brief is context"
    hidden: list[str] = [note]
    for c in problem.meta.constraint:
        hidden += [c.title, c.answer, c.probe]
    hidden += [c.description for c in problem.meta.check]
    hidden += [r["detail"] for r in checks if len(r["detail"]) > 12]
    leaked = [h for h in hidden if h and h in sent]
    assert not leaked, f"hidden text reached the provider: {leaked}"
    for request in sim.requests():
        roles = [m["role"] for m in request["messages"]]
        assert roles[0] == "system" and roles[-1] == "user"


async def test_process_signals_are_recorded_as_facts_for_staff(server: ServerProcess) -> None:
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        await first_hello(interviewer)
        await first_hello(candidate)
        await send(candidate, type="signal", kind="paste", size=1200, source="external")
        await send(candidate, type="signal", kind="hidden")
        await send(candidate, type="signal", kind="hidden")  # a second tab: nothing new
        await send(candidate, type="signal", kind="visible")
        await send(candidate, type="signal", kind="blur")
        await send(candidate, type="signal", kind="focus")
        await send(candidate, type="signal", kind="insert", size=80, source="assistant", reply=1, at=10)
        await send(candidate, type="signal", kind="paste", size=40, source="document")
        await send(candidate, type="signal", kind="teleport")
        bad = (await read_until(candidate, lambda m: m["type"] == "error", 15))[-1]
        assert bad["code"] == "invalid" and bad["field"] == "kind"
        await send(candidate, type="signal", kind="paste")
        bad = (await read_until(candidate, lambda m: m["type"] == "error", 15))[-1]
        assert bad["field"] == "size"
        await send(interviewer, type="signal", kind="hidden")
        refused = (await read_until(interviewer, lambda m: m["type"] == "error", 15))[-1]
        assert refused["code"] == "forbidden"
        outcome = await run_code(candidate, "print('after signals')")
        assert not any(m["type"] == "signal" for m in outcome.messages), "the candidate is not sent signals"

    recorded = await wait_recorded(server, sid, "process.signal", 7)
    kinds = [e["payload"]["kind"] for e in recorded]
    assert kinds == ["paste", "hidden", "visible", "blur", "focus", "insert", "paste"]
    assert all(e["role"] == "candidate" for e in recorded)
    assert isinstance(recorded[2]["payload"]["duration_ms"], int)
    async with http(server) as client:
        card = (await client.get(f"/api/sessions/{sid}/scorecard")).json()
    process = card["process"]
    assert process["pastes"] == 2 and process["largest_paste"] == 1200
    assert process["pastes_by_source"] == {"document": 1, "assistant": 0, "external": 1}
    assert process["assistant_inserts"] == 1 and process["assistant_inserted_chars"] == 80
    assert process["tab_hidden"]["times"] == 1 and process["window_blurred"]["times"] == 1
    assert len(process["timeline"]) == 7


async def test_the_assistant_survives_a_server_kill_through_the_recording(
    server: ServerProcess, module_server_factory: ModuleServerFactory
) -> None:
    s = await create_session(server, PROBLEM)
    sid, tokens = s["id"], s["tokens"]
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        await first_hello(interviewer)
        await first_hello(candidate)
        await configure(interviewer, enabled=True, model="sim-1", budget=9000)
        _, done = await ask(candidate, "Is the dataset balanced?")
        assert done["type"] == "assistant.done", done
    await wait_recorded(server, sid, "assistant.reply")
    await wait_recorded(server, sid, "clarify.assistant_asked")
    server.kill()
    server.start()
    async with (
        connect_events(server, sid, tokens["interviewer"]) as interviewer,
        connect_events(server, sid, tokens["candidate"]) as candidate,
    ):
        hello = await first_hello(candidate)
        state = hello["assistant"]
        assert state["enabled"] is True and state["model"] == "sim-1" and state["budget"] == 9000
        assert state["used"] == done["used"]
        assert [(t["prompt"], t["reply"]) for t in state["turns"]] == [("Is the dataset balanced?", done["text"])]
        staff = await first_hello(interviewer)
        assert [a["constraint"] for a in staff["clarify"]["assistant_asked"]] == ["class-imbalance"]
        _, again = await ask(candidate, "And how do I plot it?")
        assert again["type"] == "assistant.done" and again["used"] == done["used"] + again["tokens"]
