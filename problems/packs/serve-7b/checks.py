"""Hidden checks for serve-7b; they run in the grader process only.

The grader calls the candidate's ``plan(stats)`` once with the statistics of the hidden day (the
same shape as the public day, 6% more traffic, other noise, bigger batch bursts) and simulates the
returned config on windows of that day with its own copy of the pack's simulator (``ns.setup``):
the candidate's copy of the simulator and any figures it reports are never read. Each window
isolates one constraint: the 13:00 peak, the 09:00 ramp, a contract-review bunch of long prompts
at 11:00, batch's 14:00 burst. Quality per slice comes from the offline eval in ``/data``.
"""

import csv
import os
import random
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
DATA = Path("/data")
NOT_EXERCISED = "not_exercised"

SLO_P95_S = 0.5  # p95 time to first token of chat and code
MAX_NOT_ANSWERED = 0.005  # share of chat and code requests rejected or never served
LONG_TOKENS = 8000  # a long prompt, for the windows that leave them out and the long-prompt check
LONG_EXTRA = 40  # legal's contract review: long prompts added to the 11:00 window
LONG_MAX_TTFT_S = 20.0
BATCH_MAX_S = 3600.0  # batch jobs finish within the hour
MAX_SLICE_DROP = 2.0  # quality points lost on any slice against fp16
GPU_HOURS_PER_DAY = 120.0
WINDOWS = {"peak": ("13:00", 10), "ramp": ("08:50", 25), "long": ("11:00", 15), "burst": ("14:00", 10)}
# The budget check also samples five minutes of every hour (clear of the ramp and the bursts):
# a plan must not buy its budget by leaving the quiet hours without capacity.
WINDOWS.update({f"hour-{h:02d}": (f"{h:02d}:40", 5) for h in range(24)})
SEED = 5

_STATE: dict = {}


def _plan(ns):
    """The candidate's config for the hidden day, validated by the grader's simulator (cached)."""
    setup = ns.setup
    plan = ns.get("plan")
    if not callable(plan):
        raise LookupError("`plan` is not defined (expected plan(stats) -> config)")
    key = ("plan", id(plan))
    if key not in _STATE:
        load = setup["read_load"](str(GRADING / "load_by_minute.csv"))
        sample = setup["read_sample"](str(DATA / "requests_sample.csv"))
        stats = setup["trace_stats"](load, sample)
        try:
            config = plan(stats)
            _STATE[key] = ("ok", setup["_validate"](config), load, sample)
        except Exception as exc:  # a broken plan or config fails every check that needs it
            if type(exc).__name__ == "CandidateError":
                raise
            _STATE[key] = ("error", f"{type(exc).__name__}: {exc}"[:300], load, sample)
    status, config, load, sample = _STATE[key]
    if status == "error":
        raise ValueError(f"plan(stats) gave no usable config: {config}")
    return config, load, sample


def _simulate(ns, window: str):
    """The grader's simulation of the candidate's config on one window of the hidden day."""
    config, load, sample = _plan(ns)
    key = ("sim", id(ns.get("plan")), window)
    if key not in _STATE:
        setup = ns.setup
        start, minutes = WINDOWS[window]
        pool = sample if window == "long" else [r for r in sample if r["prompt_tokens"] < LONG_TOKENS]
        trace = setup["make_trace"](load, pool, start, minutes, seed=SEED)
        if window == "long":
            rng = random.Random(SEED)
            longs = [r for r in sample if r["prompt_tokens"] >= LONG_TOKENS]
            t0 = setup["_seconds"](start)
            for _ in range(LONG_EXTRA):
                r = rng.choice(longs)
                trace.append(
                    {
                        "arrival_s": t0 + rng.random() * minutes * 60,
                        "tenant": "chat",
                        "prompt_tokens": r["prompt_tokens"],
                        "completion_tokens": r["completion_tokens"],
                    }
                )
        _STATE[key] = setup["ServingCluster"]().simulate(config, trace)
    return config, _STATE[key]


def _slo(result) -> tuple[bool, str]:
    s = result.summary()
    short = [r for r in result.requests if r["tenant"] in ("chat", "code") and r["prompt_tokens"] < LONG_TOKENS]
    waits = sorted(r["ttft_s"] if r["status"] == "ok" else float("inf") for r in short)
    p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))] if waits else float("inf")
    missed = sum(1 for r in short if r["status"] != "ok")
    ok = p95 <= SLO_P95_S and missed <= MAX_NOT_ANSWERED * max(1, len(short))
    return ok, (
        f"chat+code p95 TTFT {p95:.2f} s (target {SLO_P95_S} s), {missed}/{len(short)} not answered"
        f" (p50 {s['ttft_p50_s']:.2f} s)"
    )


def _guarded(check):
    """Turn a missing plan or an unusable config into a failed check with a readable detail."""

    def run(ns):
        try:
            return check(ns)
        except (LookupError, TypeError, ValueError, NotImplementedError, AttributeError) as exc:
            return False, f"{exc}"

    run.__name__, run.__doc__ = check.__name__, check.__doc__
    return run


def _nodes(config) -> str:
    return f"{config['quantization']}, nodes_by_hour {config['nodes_by_hour']}"


@_guarded
def check_ttft_at_peak(ns):
    """At the 13:00 peak (~21 chat+code requests/s) p95 TTFT <= 500 ms, at most 0.5% not answered."""
    config, result = _simulate(ns, "peak")
    ok, detail = _slo(result)
    return ok, f"13:00-13:10 with {_nodes(config)}: {detail}"


@_guarded
def check_long_prompts(ns):
    """With 12k-16k-token prompts arriving (a contract review at 11:00), chat+code still meet the
    target and every long prompt is answered within 20 s."""
    config, result = _simulate(ns, "long")
    ok, detail = _slo(result)
    longs = [r for r in result.requests if r["prompt_tokens"] >= LONG_TOKENS]
    answered = [r for r in longs if r["status"] == "ok"]
    slowest = max((r["ttft_s"] for r in answered), default=None)
    long_ok = len(answered) == len(longs) and slowest is not None and slowest <= LONG_MAX_TTFT_S
    where = (
        f"long prompts to a {config['long_pool_nodes']}-node pool from {config['long_prompt_tokens']} tokens"
        if config["long_prompt_tokens"] is not None
        else "no long-prompt routing"
    )
    slow = f", slowest first token {slowest:.1f} s" if slowest is not None else ""
    return ok and long_ok, (
        f"11:00-11:15, {config['quantization']}, {where}: {detail}; long prompts {len(answered)}/{len(longs)}"
        f" answered{slow} (at most {LONG_MAX_TTFT_S:.0f} s)"
    )


@_guarded
def check_ramp_ahead(ns):
    """Across the 09:00 ramp (~7 to ~18 requests/s), with nodes taking 4 minutes to serve, p95 TTFT
    stays <= 500 ms: capacity is ordered ahead of the ramp."""
    config, result = _simulate(ns, "ramp")
    ok, detail = _slo(result)
    late = [n for n in result.nodes if n["ready_s"] > n["ordered_s"]]
    return ok, (
        f"08:50-09:15, nodes_by_hour[8:10] = {config['nodes_by_hour'][8:10]}: {detail};"
        f" {len(late)} node(s) ordered during the window"
    )


@_guarded
def check_quantisation_quality(ns):
    """A quantised config loses at most 2 points on every slice of the offline eval (int4 drops code)."""
    config, _, _ = _plan(ns)
    q = config["quantization"]
    if q == "fp16":
        return NOT_EXERCISED, "the plan serves fp16: nothing is quantised, so there is no quality loss to judge"
    scores: dict = {}
    with (DATA / "quant_eval.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            scores.setdefault(row["precision"], {})[row["slice"]] = float(row["score"])
    drops = {s: scores["fp16"][s] - v for s, v in scores[q].items() if s != "overall"}
    worst = max(drops, key=drops.get)
    ok = drops[worst] <= MAX_SLICE_DROP
    return ok, (
        f"{q}: worst slice {worst} loses {drops[worst]:.1f} points against fp16 (at most {MAX_SLICE_DROP});"
        f" overall {scores['fp16']['overall'] - scores[q]['overall']:.1f}"
    )


@_guarded
def check_noisy_tenant(ns):
    """During batch's 14:00 burst (~3,000 requests in a minute) chat+code keep p95 TTFT <= 500 ms and
    batch still finishes within the hour."""
    config, result = _simulate(ns, "burst")
    ok, detail = _slo(result)
    batch = [r for r in result.requests if r["tenant"] == "batch"]
    finished = [r for r in batch if r["status"] == "ok" and r["done_s"] - r["arrival_s"] <= BATCH_MAX_S]
    batch_ok = len(finished) >= 0.99 * len(batch)
    return ok and batch_ok, (
        f"14:00-14:10, scheduling {config['scheduling']!r}, caps {config['tenant_max_inflight'] or 'none'}: {detail};"
        f" batch finished within the hour {len(finished)}/{len(batch)}"
    )


@_guarded
def check_gpu_budget(ns):
    """The day's plan costs at most 120 GPU-hours (long-prompt pool included) and still meets the
    TTFT target at the peak and in five minutes sampled from every hour of the day."""
    config, result = _simulate(ns, "peak")
    hours = ns.setup["ServingCluster"]().gpu_hours(config)
    slo_ok, detail = _slo(result)
    missed = [h for h in range(24) if not _slo(_simulate(ns, f"hour-{h:02d}")[1])[0]]
    ok = hours <= GPU_HOURS_PER_DAY and slo_ok and not missed
    why = ""
    if not slo_ok or missed:
        hours_missed = ", ".join(f"{h:02d}:40" for h in missed) or "none"
        why = (
            f"; the target is missed in the hourly samples at {hours_missed}: a plan that misses it"
            " does not count as within budget"
        )
    return ok, f"{hours:.0f} GPU-hours a day (budget {GPU_HOURS_PER_DAY:.0f}); at the peak {detail}{why}"
