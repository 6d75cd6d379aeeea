"""Hidden checks for finetune-or-prompt.

Every check reads one run of the candidate's ``classify(message)`` over the 300 production-like
messages in ``/data/_grading/eval.jsonl`` (251 plain, 29 "charged, I want my money back", 20 of
the new ``data_request`` intent; 130 from EU customers). The first check to run does the run.
Every model call reaches the grader as a call of a ``SimulatedLLM`` twin (the pack's endpoints
and fine-tuned models each wrap one, told apart by seed), so the grader knows which endpoint got
which prompt; its own run of ``setup.py`` says what the call cost and how long it took.
"""

import json
import math
import os
import threading
import time
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
RUN_BUDGET_S = 75.0
BUDGET_PER_1K = 1.00  # $2,000 a day at 2.1M messages, all in
P95_BUDGET_MS = 300.0
ROUTER_MIN = 0.75  # a path that is cheap, fast or compliant because it is wrong is not a path to recommend
ACCURACY_MIN = 0.85
try:  # the level the session is interviewed at
    with open(os.path.join(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"), "level.json")) as fh:
        LEVEL = json.load(fh)["level"]
except (OSError, ValueError, KeyError, TypeError):
    LEVEL = "staff"
# How close the stated accuracy must be: an honest estimate from ~300 labels is within a few
# points; training accuracy (a fine-tuned model is near 100% there) is ten points off.
REPORT_TOLERANCE = {"junior": 0.10, "mid": 0.08, "senior": 0.07, "staff": 0.06}.get(LEVEL, 0.06)
SHARES = {"plain": 0.89, "mixed": 0.08, "new": 0.03}  # production traffic; the eval set over-samples the rare kinds
NEW_INTENT_MIN = 0.70
RULE_MIN = 0.80
PROMPT_COST_TOLERANCE = 0.25
NOT_EXERCISED = "not_exercised"
_STATE: dict = {}
_LOCAL = threading.local()


def _items() -> list[dict]:
    if "items" not in _STATE:
        lines = (GRADING / "eval.jsonl").read_text(encoding="utf-8").splitlines()
        _STATE["items"] = [json.loads(line) for line in lines if line.strip()]
    return _STATE["items"]


def _patch(ns, calls: list) -> object:
    """Record every model call (endpoint, cost, simulated latency); returns undo."""
    from clarify_kit import llm

    setup = ns.setup
    names = {seed: name for name, seed in setup["_SEEDS"].items()}
    answer, latency, count_in, count = (
        setup["_large_answer"],
        setup["_latency_ms"],
        setup["_input_tokens"],
        setup["_count"],
    )
    price_in, price_out = setup["_PRICE_IN_PER_1K"], setup["_PRICE_OUT_PER_1K"]
    small_cost = setup["_SMALL_COST_PER_1K_REQUESTS"] / 1000
    cls = llm.SimulatedLLM
    chat = cls.__dict__["chat"]

    def recorded_chat(self, messages, *args, **kwargs):
        if getattr(_LOCAL, "depth", 0):
            return chat(self, messages, *args, **kwargs)
        _LOCAL.depth = 1
        # The run measures the design, not the API's pace, its rate limit or random faults.
        self.time_scale = 0
        self.rate_limit_per_minute = None
        self.timeout_rate = self.server_error_rate = self.malformed_json_rate = 0.0
        try:
            name = names.get(getattr(self, "seed", None), "other")
            call = {"model": name, "cost": 0.0, "latency": 0.0}
            try:
                if name == "small":
                    call["cost"], call["latency"] = small_cost, latency("small", 0, messages[-1]["content"])
                else:
                    n_in = count_in(messages)
                    out = count(answer(messages, kwargs.get("response_format")))
                    call["cost"] = n_in / 1000 * price_in + out / 1000 * price_out
                    call["latency"] = latency("large", n_in, json.dumps(messages, sort_keys=True))
            except Exception:  # noqa: BLE001 - a malformed request fails in the real chat below
                pass
            calls.append(call)
            return chat(self, messages, *args, **kwargs)
        finally:
            _LOCAL.depth = 0

    cls.chat = recorded_chat

    def undo():
        cls.chat = chat

    return undo


def _run(ns) -> tuple[list[dict] | None, str]:
    fn = ns.get("classify")
    if not callable(fn):
        return None, "`classify` is not defined (expected a function classify(message: dict) -> str)"
    if _STATE.get("run_for") is fn:
        return _STATE["rows"], ""
    try:
        calls: list = []
        undo = _patch(ns, calls)
    except (ImportError, KeyError) as exc:
        return None, f"could not meter the model calls: {exc}"
    rows = []
    ns.fast_sleep(True)
    started = time.perf_counter()
    try:
        for item in _items():
            row = {"item": item, "out": None, "error": None, "calls": []}
            if time.perf_counter() - started > RUN_BUDGET_S:
                row["error"] = "not run: the time budget for all messages was used up"
                rows.append(row)
                continue
            message = {k: item[k] for k in ("id", "text", "region", "received")}
            first = len(calls)
            try:
                out = fn(message)
                if isinstance(out, str):
                    row["out"] = out.strip().lower()
                else:
                    row["error"] = f"classify() returned {type(out).__name__}, not str"
            except Exception as exc:  # noqa: BLE001 - any failure is the candidate's, report it
                row["error"] = f"{type(exc).__name__}: {exc}"[:200]
            row["calls"] = calls[first:]
            rows.append(row)
    finally:
        undo()
        ns.fast_sleep(False)
    _STATE["run_for"], _STATE["rows"] = fn, rows
    return rows, ""


def _right(row: dict) -> bool:
    return row["out"] == row["item"]["label"]


def _accuracy(rows: list[dict]) -> float:
    return sum(_right(r) for r in rows) / len(rows) if rows else 0.0


def _calls(rows: list[dict], model: str | None = None) -> list[dict]:
    return [c for r in rows for c in r["calls"] if model is None or c["model"] == model]


def _exercised(rows: list[dict]) -> bool:
    return any(c["model"] in ("small", "large_us", "large_eu") for c in _calls(rows))


def _production_accuracy(rows: list[dict]) -> float:
    """Accuracy weighted to production traffic (the eval set over-samples mixed and new messages)."""
    return sum(w * _accuracy([r for r in rows if r["item"]["kind"] == kind]) for kind, w in SHARES.items())


def _cost_per_1k(rows: list[dict]) -> float:
    return sum(c["cost"] for c in _calls(rows)) / len(rows) * 1000 if rows else 0.0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


def _wrong(rows: list[dict], n: int = 3) -> str:
    bad = [r for r in rows if not _right(r)][:n]
    shown = [(r["item"]["id"], r["out"] if r["error"] is None else r["error"], r["item"]["label"]) for r in bad]
    return "; ".join(f"{rid}: got {got!r:.60}, expected {want!r}" for rid, got, want in shown)


def _measured(ns) -> tuple[list[dict] | None, object, str]:
    """The run, or the status and detail to return when it cannot be judged."""
    rows, err = _run(ns)
    if rows is None:
        return None, False, err
    if not _exercised(rows):
        return (
            None,
            NOT_EXERCISED,
            f"classify() never called the small model or the large model on {len(rows)} messages",
        )
    return rows, True, ""


def _recommendation(ns) -> tuple[dict | None, str]:
    fn = ns.get("recommend")
    if not callable(fn):
        return None, "`recommend` is not defined (expected a function recommend() -> dict)"
    if "rec" not in _STATE:
        try:
            _STATE["rec"] = fn()
        except Exception as exc:  # noqa: BLE001 - the candidate's failure, reported
            _STATE["rec"] = f"recommend() raised {type(exc).__name__}: {exc}"[:200]
    rec = _STATE["rec"]
    if isinstance(rec, str):
        return None, rec
    if not isinstance(rec, dict):
        return None, f"recommend() returned {type(rec).__name__}, not a dict"
    return rec, ""


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _prompt_path_cost(ns) -> float:
    """What the production few-shot prompt costs per 1k messages of this traffic (USD)."""
    setup = ns.setup
    prompt = Path("/data/prompt_fewshot.txt").read_text(encoding="utf-8")
    total = 0.0
    for item in _items():
        messages = [{"role": "user", "content": prompt.replace("{message}", item["text"])}]
        n_in = setup["_input_tokens"](messages)
        out = setup["_count"](setup["_large_answer"](messages))
        total += n_in / 1000 * setup["_PRICE_IN_PER_1K"] + out / 1000 * setup["_PRICE_OUT_PER_1K"]
    return total / len(_items()) * 1000


def check_serving_cost(ns) -> tuple[bool, str]:
    """classify() costs at most $1 per 1k messages (the $2,000 a day cap at 2.1M messages)."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    cost, acc = _cost_per_1k(rows), _accuracy(rows)
    large = len(_calls(rows, "large_us")) + len(_calls(rows, "large_eu"))
    detail = (
        f"${cost:.2f} per 1k messages (cap ${BUDGET_PER_1K:.2f}); {large} large-model calls for {len(rows)}"
        f" messages; accuracy {acc:.0%}"
    )
    return cost <= BUDGET_PER_1K and acc >= ROUTER_MIN, detail


def check_cost_model(ns) -> tuple[bool, str]:
    """recommend() chooses a path that fits the cap, with the prompt path's cost per 1k messages
    within 25% of what its token counts give and the chosen path's within reach of what classify() costs."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    rec, err = _recommendation(ns)
    if rec is None:
        return False, err
    costs = rec.get("cost_per_1k_usd")
    if not isinstance(costs, dict):
        return False, "recommend()['cost_per_1k_usd'] is not a dict with 'prompt' and 'finetune'"
    truth, measured, acc = _prompt_path_cost(ns), _cost_per_1k(rows), _accuracy(rows)
    prompt_cost, choice = _number(costs.get("prompt")), rec.get("choice")
    chosen = _number(costs.get(choice)) if isinstance(choice, str) else None
    parts, ok = [f"choice {choice!r}, classify() {acc:.0%} right"], acc >= ROUTER_MIN
    if prompt_cost is None or abs(prompt_cost - truth) > PROMPT_COST_TOLERANCE * truth:
        ok = False
        parts.append(f"prompt path: stated {costs.get('prompt')!r}, its token counts give ${truth:.2f} per 1k")
    else:
        parts.append(f"prompt path ${prompt_cost:.2f} per 1k (token counts give ${truth:.2f})")
    if chosen is None or chosen > BUDGET_PER_1K:
        ok = False
        parts.append(
            f"the chosen path costs {costs.get(choice)!r} per 1k: not a number within the ${BUDGET_PER_1K:.2f} cap"
        )
    elif abs(chosen - measured) > max(0.5 * measured, 0.25):
        ok = False
        parts.append(f"the chosen path is stated at ${chosen:.2f} per 1k but classify() costs ${measured:.2f}")
    else:
        parts.append(f"chosen path ${chosen:.2f} per 1k (classify() measured ${measured:.2f})")
    return ok, "; ".join(parts)


def check_honest_accuracy(ns) -> tuple[bool, str]:
    """classify() is right on at least 85% of production-like messages, and recommend() states
    its accuracy within 6 points at staff (8 at mid; a number measured on training messages is not)."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    acc = _production_accuracy(rows)
    rec, err = _recommendation(ns)
    stated = _number(rec.get("expected_accuracy")) if rec is not None else None
    detail = f"accuracy on production-like traffic {acc:.1%} (need {ACCURACY_MIN:.0%})"
    if rec is None:
        return False, f"{detail}; {err}"
    if stated is None or not 0 <= stated <= 1:
        return False, f"{detail}; expected_accuracy is {rec.get('expected_accuracy')!r}, not a share between 0 and 1"
    detail += f"; recommend() states {stated:.1%}"
    if abs(stated - acc) > REPORT_TOLERANCE:
        detail += f" (off by more than {REPORT_TOLERANCE:.0%} at {LEVEL})"
    elif acc < ACCURACY_MIN:
        detail += ". Wrong, e.g.: " + _wrong(rows)
    return acc >= ACCURACY_MIN and abs(stated - acc) <= REPORT_TOLERANCE, detail


def check_new_intent(ns) -> tuple[bool, str]:
    """Messages of the intent added this quarter (data_request) land in their queue 70% of the time."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    new = [r for r in rows if r["item"]["kind"] == "new"]
    acc = _accuracy(new)
    detail = f"{acc:.0%} of {len(new)} data_request messages right (need {NEW_INTENT_MIN:.0%})"
    if acc < NEW_INTENT_MIN:
        detail += ". Wrong, e.g.: " + _wrong(new)
    return acc >= NEW_INTENT_MIN, detail


def check_eu_residency(ns) -> tuple[bool, str]:
    """No EU customer's message reaches the US endpoint, and the classifier classifies."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    eu = [r for r in rows if r["item"]["region"] == "eu"]
    leaked = [r for r in eu if any(c["model"] == "large_us" for c in r["calls"])]
    acc = _accuracy(rows)
    detail = f"{len(leaked)} of {len(eu)} EU messages were sent to large_us; accuracy {acc:.0%}"
    if leaked:
        detail += " - e.g. " + ", ".join(r["item"]["id"] for r in leaked[:3])
    return not leaked and acc >= ROUTER_MIN, detail


def check_p95_latency(ns) -> tuple[bool, str]:
    """The whole classify step takes at most 300 ms at p95 (the model calls' simulated latency)."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    per_message = [sum(c["latency"] for c in r["calls"]) for r in rows]
    p95, acc = _p95(per_message), _accuracy(rows)
    median = sorted(per_message)[len(per_message) // 2]
    detail = f"p95 {p95:.0f} ms, median {median:.0f} ms (budget {P95_BUDGET_MS:.0f}); accuracy {acc:.0%}"
    return p95 <= P95_BUDGET_MS and acc >= ROUTER_MIN, detail


def check_refund_guideline(ns) -> tuple[bool, str]:
    """'Charged, I want my money back' messages are refund (the guideline), other billing ones stay billing."""
    rows, status, detail = _measured(ns)
    if rows is None:
        return status, detail
    mixed = [r for r in rows if r["item"]["kind"] == "mixed"]
    billing = [r for r in rows if r["item"]["label"] == "billing"]
    acc_m, acc_b = _accuracy(mixed), _accuracy(billing)
    detail = (
        f"{acc_m:.0%} of {len(mixed)} money-back-for-a-charge messages are refund;"
        f" {acc_b:.0%} of {len(billing)} billing messages are billing (need {RULE_MIN:.0%} each)"
    )
    if acc_m < RULE_MIN:
        detail += ". Wrong, e.g.: " + _wrong(mixed, 2)
    return acc_m >= RULE_MIN and acc_b >= 0.8, detail
