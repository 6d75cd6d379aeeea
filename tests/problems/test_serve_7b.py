"""The serve-7b pack: reproducible data that shows every constraint, and checks that each catch
the plan that ignores their constraint.

The shared pack tests grade the reference and the null solutions in the real grading kernel.
Here the pack's own simulator (its ``setup.py``, run in this interpreter on the committed data)
shows each constraint the way a candidate's runs would, and plans that each ignore one
constraint are graded in the real grading kernel: each must fail exactly the check of that
constraint, so a change that makes a check pass without its fix fails here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
import pytest

from problems import PACKS_DIR, load_pack
from problems.generators import serve_7b as gen
from server.grading import CheckResult, run_checks

PACK = PACKS_DIR / "serve-7b"
GENERATED = (
    "data/load_by_minute.csv",
    "data/requests_sample.csv",
    "data/quant_eval.csv",
    "hidden/load_by_minute.csv",
)


@pytest.fixture(scope="module")
def sim() -> dict:
    """The pack's setup.py namespace (simulator and data helpers), reading the committed data."""
    ns: dict = {}
    exec(compile((PACK / "setup.py").read_text(), "setup.py", "exec"), ns)  # our own pack's code
    ns["LOAD"] = ns["read_load"](str(PACK / "data" / "load_by_minute.csv"))
    ns["SAMPLE"] = ns["read_sample"](str(PACK / "data" / "requests_sample.csv"))
    ns["SHORT"] = [r for r in ns["SAMPLE"] if r["prompt_tokens"] < 8000]
    return ns


def _int8(nodes: list[int], **extra: object) -> dict:
    return {"quantization": "int8", "nodes_by_hour": nodes, **extra}


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    gen.generate(tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), name


def test_the_data_is_small() -> None:
    size = sum(p.stat().st_size for d in ("data", "hidden") for p in (PACK / d).iterdir())
    assert size < 300_000


def test_the_load_ramps_at_nine_peaks_at_one_and_batch_bursts(sim: dict) -> None:
    stats = sim["trace_stats"](sim["LOAD"], sim["SAMPLE"])
    rps = [stats["rps_by_hour"]["chat"][h] + stats["rps_by_hour"]["code"][h] for h in range(24)]
    assert rps[8] < 9 and rps[9] > 15 and 18 < rps[13] < 23
    batch = sim["LOAD"]["batch"]
    bursts = sorted(range(1440), key=batch.__getitem__)[-3:]
    assert sorted(bursts) == [600, 840, 990] and min(batch[m] for m in bursts) >= 1500


def test_the_sample_has_a_few_long_prompts_and_int4_drops_only_code(sim: dict) -> None:
    longs = [r for r in sim["SAMPLE"] if r["prompt_tokens"] >= 12000]
    assert 3 <= len(longs) <= 20 and all(r["tenant"] == "chat" for r in longs)
    with (PACK / "data" / "quant_eval.csv").open() as f:
        score = {(r["precision"], r["slice"]): float(r["score"]) for r in csv.DictReader(f)}
    assert score["fp16", "overall"] - score["int4", "overall"] < 2
    assert score["fp16", "code"] - score["int4", "code"] > 10
    assert all(score["fp16", s] - score["int8", s] < 1 for s in ("chat-en", "chat-de", "code", "summaries"))


def test_a_run_shows_fp16_rejecting_long_prompts_and_nodes_starting_late(sim: dict) -> None:
    cluster = sim["ServingCluster"]()
    trace = sim["make_trace"](sim["LOAD"], sim["SAMPLE"], "08:55", 10, seed=2)
    result = cluster.simulate({"quantization": "fp16", "nodes_by_hour": [20] * 9 + [30] * 15}, trace)
    s = result.summary()
    assert s["long_prompts"] >= 1 and s["long_answered"] == 0
    started = [n for n in result.nodes if n["ready_s"] > n["ordered_s"]]
    assert len(started) == 10 and all(n["ready_s"] - n["ordered_s"] == 240 for n in started)


def test_reactive_scaling_misses_the_ramp_and_a_fifo_queue_starves_chat(sim: dict) -> None:
    cluster = sim["ServingCluster"]()
    ramp = sim["make_trace"](sim["LOAD"], sim["SHORT"], "08:50", 25, seed=2)
    reactive = cluster.simulate(_int8([3] * 9 + [8] * 15), ramp).summary()
    ahead = cluster.simulate(_int8([8] * 24), ramp).summary()
    assert reactive["ttft_p95_s"] > 5 and ahead["ttft_p95_s"] < 0.5
    burst = sim["make_trace"](sim["LOAD"], sim["SHORT"], "14:00", 10, seed=2)
    fifo = cluster.simulate(_int8([8] * 24), burst).summary()
    capped = cluster.simulate(_int8([8] * 24, scheduling="fair", tenant_max_inflight={"batch": 8}), burst).summary()
    assert fifo["ttft_p95_s"] > 30 and capped["ttft_p95_s"] < 0.5


def test_bad_configs_get_a_clear_error(sim: dict) -> None:
    cluster = sim["ServingCluster"]()
    trace = sim["make_trace"](sim["LOAD"], sim["SHORT"], "03:00", 1)
    bad = [
        (None, "must be a dict"),
        ({}, "nodes_by_hour"),
        ({"nodes_by_hour": [1] * 23}, "24 node counts"),
        ({"nodes_by_hour": [1] * 24, "quantization": "int3"}, "quantization"),
        ({"nodes_by_hour": [1] * 24, "scheduling": "lifo"}, "scheduling"),
        ({"nodes_by_hour": [1] * 24, "tenant_max_inflight": {"ops": 2}}, "tenant_max_inflight"),
        ({"nodes_by_hour": [1] * 24, "gpus": 3}, "unknown config keys"),
        ({"nodes_by_hour": ["x"] * 24}, "24 integers"),
        ({"nodes_by_hour": [1] * 24, "long_prompt_tokens": 8000}, "long_pool_nodes"),
    ]
    for config, message in bad:
        with pytest.raises(ValueError, match=message):
            cluster.simulate(config, trace)
    assert cluster.simulate(_int8([1] * 24), []).requests == []


# Plans that each ignore one constraint; the reference with one change each.
def _variant(old: str, new: str) -> str:
    reference = (PACK / "reference.py").read_text()
    assert old in reference, old
    return reference.replace(old, new)


VARIANTS = {
    "reactive scaling": (("NODE_START_HOURS_AHEAD = 1", "NODE_START_HOURS_AHEAD = 0"), "ramp-ahead"),
    "no long-prompt pool": (
        ('"long_prompt_tokens": 8000,\n    "long_pool_nodes": 1,', '"long_prompt_tokens": None,'),
        "long-prompts",
    ),
    "fair queueing, batch uncapped": (('{"batch": BATCH_INFLIGHT}', "{}"), "noisy-tenant"),
    "int4": (('QUANT = "int8"', 'QUANT = "int4"'), "quantisation-quality"),
    "fp16 sized for the target": (('QUANT = "int8"', 'QUANT = "fp16"'), "gpu-budget"),
}


@pytest.mark.timeout(600)
async def test_each_check_fails_the_plan_that_ignores_its_constraint(make_kernel) -> None:
    problem = load_pack(PACK)
    results: dict[str, list[CheckResult]] = {}
    limiter = anyio.CapacityLimiter(3)

    async def grade(name: str) -> None:
        (old, new), _ = VARIANTS[name]
        async with limiter:
            results[name] = await run_checks(await make_kernel(), problem, _variant(old, new))

    async with anyio.create_task_group() as tg:
        for name in VARIANTS:
            tg.start_soon(grade, name)

    for name, (_, failing) in VARIANTS.items():
        failed = {r.id for r in results[name] if not r.passed}
        if name == "fp16 sized for the target":
            # fp16 cannot hold a 16k prompt at all, and nothing is quantised to judge
            assert failed == {"gpu-budget", "long-prompts", "quantisation-quality"}, (name, results[name])
            status = {r.id: r.status for r in results[name]}
            assert status["quantisation-quality"] == "not_exercised"
        else:
            assert failed == {failing}, (name, results[name])
