"""The agent-memory pack's generated data: reproducible, small, and showing every hidden constraint.

The shared pack tests grade the reference and the null solutions in the real grading kernel; these
read the committed data the way a candidate (or the grader) would, so a change to the generator
that hides one of the constraints fails here rather than in an interview.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from problems import PACKS_DIR, load_pack
from problems.generators import agent_memory as gen

PACK = PACKS_DIR / "agent-memory"
GENERATED = ("data/memories.jsonl", "data/customers.jsonl", "data/transcripts.jsonl", "hidden/script.json")
ADDRESS = re.compile(r"address is ([^.]+)\.")


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (PACK / "data" / name).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def memories() -> list[dict]:
    return _jsonl("memories.jsonl")


@pytest.fixture(scope="module")
def transcripts() -> list[dict]:
    return _jsonl("transcripts.jsonl")


@pytest.fixture(scope="module")
def script() -> dict:
    return json.loads((PACK / "hidden" / "script.json").read_text())


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    gen.write(tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), name


def test_the_pack_stays_small() -> None:
    size = sum(p.stat().st_size for p in PACK.rglob("*") if p.is_file())
    assert size < 300_000, size


def test_a_fifth_of_the_customers_have_two_addresses_and_their_summary_is_stale(memories) -> None:
    addresses: dict[str, list[str]] = defaultdict(list)
    for r in memories:
        if r["kind"] == "message" and (m := ADDRESS.search(r["text"])):
            addresses[r["customer_id"]].append(m.group(1))
    moved = [cid for cid, seen in addresses.items() if len(set(seen)) > 1]
    assert 6 <= len(moved) <= 12, moved
    summaries = {r["customer_id"]: r["text"] for r in memories if r["kind"] == "summary"}
    assert all(addresses[cid][0] in summaries[cid] and addresses[cid][-1] not in summaries[cid] for cid in moved)


def test_the_pilot_told_a_customer_another_customers_address(transcripts) -> None:
    customers = {c["customer_id"]: c for c in _jsonl("customers.jsonl")}
    turn = next(t for t in transcripts if t["conversation_id"] == "cv-0112" and t["turn"] == 1)
    assert turn["customer_id"] == "c-012"
    assert customers["c-031"]["address"] in turn["agent"]
    assert customers["c-012"]["address"] not in turn["agent"]


def test_erased_customers_are_still_in_the_store_and_the_digests(memories) -> None:
    for cid in ("c-017", "c-029"):
        request = next(r for r in memories if r["customer_id"] == cid and "delete all" in r["text"])
        assert request["created_at"] < "2026-11-01", request  # more than 30 days before the dump
        assert sum(r["customer_id"] == cid for r in memories) > 3
        name = re.search(r"My name is ([^.]+?) and", next(r["text"] for r in memories if r["customer_id"] == cid))
        assert name and any(r["kind"] == "digest" and name.group(1) in r["text"] for r in memories), cid


def test_a_planted_instruction_is_stored_and_was_obeyed(memories, transcripts) -> None:
    planted = [r for r in memories if r["text"].startswith("SYSTEM:")]
    assert [r["customer_id"] for r in planted] == ["c-023"]
    turn = next(t for t in transcripts if t["customer_id"] == "c-023")
    assert turn["agent"] == "Refund approved, no questions asked."
    assert [c["name"] for c in turn["tool_calls"]] == ["refund"]


def test_the_pilot_writes_in_the_turn_it_is_asked(transcripts) -> None:
    writes = [t for t in transcripts if t["tool_calls"]]
    assert len(writes) >= 15
    assert all(t["turn"] == 1 for t in writes)  # nobody was asked to confirm first
    assert any("never said" in t["customer"] for t in transcripts)


def test_prompts_grow_with_every_turn_until_the_context_runs_out(memories, transcripts) -> None:
    assert sum(r["customer_id"] == "c-005" for r in memories) >= 150
    long = [t for t in transcripts if t["conversation_id"] == "cv-0105"]
    tokens = [t["prompt_tokens"] for t in long]
    assert len(long) >= 25 and tokens == sorted(tokens) and tokens[-1] > 4096 > 1000 > tokens[0] / 4
    assert "context_length_exceeded" in long[-1]["agent"]


def test_the_hidden_script_exercises_every_check(script) -> None:
    tags = [t["tag"] for t in script["turns"]]
    for tag in ("confirm", "request", "erase", "planted", "ask-address", "ask-plan", "recall-order"):
        assert tag in tags, tag
    ids = {r["id"] for r in script["seed_records"]}
    assert script["expect"]["planted"]["record"] in ids
    days = {t["tag"]: t["day"] for t in script["turns"] if t["tag"] == "erase"}
    assert script["end_day"] - days["erase"] > 30
    assert sum(t["customer_id"] == script["expect"]["budget"]["customer"] for t in script["turns"]) == 30


async def test_the_store_and_the_desk_in_a_real_kernel_scope_on_request_and_refuse_bad_input(make_kernel) -> None:
    problem = load_pack(PACK)
    kernel = await make_kernel()
    result = await kernel.load_problem(problem.data_dir, problem.setup)
    assert result is None or result.status == "ok", result
    code = (
        "import json\n"
        "out = {}\n"
        "hits = memory.search('my address is', k=10)\n"
        "out['unscoped'] = len({h['customer_id'] for h in hits})\n"
        "mine = memory.search('my address is', k=10, customer_id='c-003')\n"
        "out['scoped'] = sorted({h['customer_id'] for h in mine})\n"
        "theirs, own = tools.list_orders('c-004')[0]['order_id'], tools.list_orders('c-003')[0]['order_id']\n"
        "for name, call in [('empty', lambda: memory.write('c-003', '  ', 'cv-x')),\n"
        "                   ('query', lambda: memory.search('')),\n"
        "                   ('update', lambda: memory.update('m-nope', 'x')),\n"
        "                   ('other', lambda: tools.refund('c-003', theirs)),\n"
        "                   ('amount', lambda: tools.refund('c-003', own, -5))]:\n"
        "    try:\n"
        "        call()\n"
        "        out[name] = 'accepted'\n"
        "    except Exception as exc:\n"
        "        out[name] = f'{type(exc).__name__}: {exc}'\n"
        "rid = memory.write('c-003', 'I prefer email.', 'cv-x')\n"
        "stamped = memory.get(rid)['created_at'] == clock.now()\n"
        "out['written'] = stamped and memory.delete(rid) and memory.get(rid) is None\n"
        "print('RESULT', json.dumps(out))\n"
    )
    events, result = await kernel.run(code)
    assert result.status == "ok", result
    text = "".join(e.text for e in events if e.kind == "stream")
    out = json.loads(text.split("RESULT ", 1)[1])
    assert out["unscoped"] > 1 and out["scoped"] == ["c-003"]
    assert out["empty"].startswith("ValueError") and "non-empty" in out["empty"]
    assert out["query"].startswith("ValueError")
    assert out["update"].startswith("KeyError") and "m-nope" in out["update"]
    assert out["other"].startswith("ToolError") and "for this customer" in out["other"]
    assert out["amount"].startswith("ToolError") and "between 0" in out["amount"]
    assert out["written"] is True
