"""The llm-bill-blowup pack's generated data: reproducible, small, and showing every hidden constraint.

The shared pack tests grade the reference and the null solutions in the real grading kernel; these
read the committed data the way a candidate would, so a change to the generator that hides one of
the incident's causes fails here rather than in an interview.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from problems import PACKS_DIR
from problems.generators import llm_bill_blowup as gen

PACK = PACKS_DIR / "llm-bill-blowup"
GENERATED = ("data/usage_weekend.jsonl", "data/usage_daily.csv", "data/system_prompt.txt", "hidden/truth.json")


@pytest.fixture(scope="module")
def weekend() -> list[dict]:
    return [json.loads(line) for line in (PACK / "data" / "usage_weekend.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def daily() -> list[dict]:
    with (PACK / "data" / "usage_daily.csv").open() as f:
        return list(csv.DictReader(f))


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    gen.write(tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), name


def test_the_data_is_small_and_every_log_line_has_the_documented_fields(weekend: list[dict]) -> None:
    size = sum(p.stat().st_size for d in ("data", "hidden") for p in (PACK / d).iterdir())
    assert size < 300_000
    fields = {"ts", "team", "agent", "request_id", "task_id", "prompt_tokens", "completion_tokens", "status"}
    fields |= {"retry_of", "cost_usd", "vendor", "prompt_hash"}
    assert all(set(row) == fields for row in weekend)
    ids = {row["request_id"] for row in weekend}
    assert all(row["retry_of"] in ids for row in weekend if row["retry_of"])


def test_one_runaway_task_dominates_the_weekend(weekend: list[dict]) -> None:
    by_task = Counter()
    for row in weekend:
        by_task[row["task_id"]] += row["cost_usd"]
    (top, cost), (_, second) = by_task.most_common(2)
    assert top == gen.RUNAWAY_TASK and cost > 0.35 * sum(by_task.values()) and cost > 20 * second
    firsts = Counter(row["task_id"] for row in weekend if row["retry_of"] is None and row["team"] == "platform")
    normal = [n for task, n in firsts.items() if task != gen.RUNAWAY_TASK]
    assert firsts[gen.RUNAWAY_TASK] > 200 and max(normal) <= 20


def test_retries_stack_into_chains_of_27_primary_attempts(weekend: list[dict]) -> None:
    root: dict[str, str] = {}
    for row in weekend:
        root[row["request_id"]] = root.get(row["retry_of"], row["retry_of"]) if row["retry_of"] else row["request_id"]
    chains: dict[str, list[dict]] = defaultdict(list)
    for row in weekend:
        chains[root[row["request_id"]]].append(row)
    primary = [sum(r["vendor"] == "primary" for r in chain) for chain in chains.values()]
    assert max(primary) == 27
    assert sum(n >= 9 for n in primary) >= 20
    assert any(r["status"] == "rate_limited" for chain in chains.values() for r in chain)


def test_growths_backfill_takes_the_rate_limited_window(weekend: list[dict]) -> None:
    storm = [r for r in weekend if "2026-11-28T09:00" <= r["ts"] < "2026-11-28T09:20"]
    teams = Counter(r["team"] for r in storm)
    assert teams["growth"] > 0.8 * len(storm)
    others = [r for r in storm if r["team"] in ("support", "search")]
    assert any(r["status"] == "rate_limited" for r in others)


def test_about_40_percent_of_requests_repeat_a_prompt(weekend: list[dict]) -> None:
    seen, repeats, firsts = set(), 0, 0
    for row in weekend:
        if row["retry_of"] is None:
            firsts += 1
            repeats += row["prompt_hash"] in seen
            seen.add(row["prompt_hash"])
    assert 0.35 <= repeats / firsts <= 0.5


def test_the_outage_sends_traffic_to_a_backup_ten_times_the_price(weekend: list[dict]) -> None:
    ok = [r for r in weekend if r["status"] == "ok"]
    price = {
        vendor: sum(r["cost_usd"] for r in ok if r["vendor"] == vendor)
        / sum(r["prompt_tokens"] * 1 + r["completion_tokens"] * 3 for r in ok if r["vendor"] == vendor)
        for vendor in ("primary", "backup")
    }
    assert price["backup"] == pytest.approx(10 * price["primary"], rel=0.01)
    outage = [r for r in weekend if "2026-11-29T01:00" <= r["ts"] < "2026-11-29T03:00"]
    assert outage and all(r["status"] == "server_error" for r in outage if r["vendor"] == "primary")


def test_prompt_tokens_per_request_drifted_up_since_june(daily: list[dict]) -> None:
    def mean_tokens(month: str) -> float:
        rows = [int(r["prompt_tokens_mean"]) for r in daily if r["date"].startswith(month)]
        return sum(rows) / len(rows)

    assert mean_tokens("2026-11") > 2.5 * mean_tokens("2026-06")
    truth = json.loads((PACK / "hidden" / "truth.json").read_text())
    for team, now in truth["current_daily_cost_usd"].items():
        assert truth["six_month_daily_cost_usd"][team] < 0.75 * now  # the long-run average misleads
