"""Hidden checks for model-upgrade.

Every check reads one run of the candidate's ``classify(text)`` over the 160 labelled tickets in
``/data/_grading/eval.jsonl`` (80 short English ones, 26 of them "the parcel is late, I want my
money back"; 40 German; 40 long threads with quoted history). The first check to run does the
run. Every model call reaches the grader as a call of a ``SimulatedLLM`` twin (the pack's
``VendorModel`` wraps one per model, each with its own seed), so the grader knows which model
was called with which messages, and its own run of ``setup.py`` (``_route_answer``) says what
the model answered - e.g. whether the reply was fenced in markdown.
"""

import json
import os
import threading
import time
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
CATEGORIES = ("billing", "delivery", "refund", "account", "technical")
SHARES = {"en": 0.78, "de": 0.12, "long": 0.10}  # production traffic: short English, German, long threads
RUN_BUDGET_S = 60.0
SLICE_MIN = 0.85  # German and long threads: at least as good as the current model is today
FENCED_MIN = 0.85
DRIFT_MIN = 0.80
ROUTER_MIN = 0.5  # "never calls the current model" only counts for a router that routes
REPORT_TOLERANCE = 0.10
NOT_EXERCISED = "not_exercised"
_STATE: dict = {}
_LOCAL = threading.local()


def _items() -> list[dict]:
    if "items" not in _STATE:
        lines = (GRADING / "eval.jsonl").read_text(encoding="utf-8").splitlines()
        _STATE["items"] = [json.loads(line) for line in lines if line.strip()]
    return _STATE["items"]


def _patch(ns, calls: list) -> object:
    """Record every model call (which model, fenced reply, v3 rule in the prompt); returns undo."""
    from clarify_kit import llm

    setup = ns.setup
    route, parts = setup.get("_route_answer"), setup.get("_prompt_parts")
    names = {seed: name for name, seed in (setup.get("_SEEDS") or {}).items()}
    rule = str(setup.get("_RULE_MARK") or "money back")
    cls = llm.SimulatedLLM
    chat = cls.__dict__["chat"]

    def recorded_chat(self, messages, *args, **kwargs):
        if getattr(_LOCAL, "depth", 0):
            return chat(self, messages, *args, **kwargs)
        _LOCAL.depth = 1
        self.time_scale = 0  # the run measures routing, not the API's pace or its rate limit
        self.rate_limit_per_minute = None
        try:
            name = names.get(getattr(self, "seed", None), "other")
            call = {"model": name, "fenced": False, "rule": False}
            if name in ("current", "new") and callable(route) and callable(parts):
                try:
                    reply = route(name, messages, kwargs.get("response_format"))
                    call["fenced"] = reply.lstrip().startswith("```")
                    call["rule"] = rule in parts(messages)[0].lower()
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
        return None, "`classify` is not defined (expected a function classify(ticket_text: str) -> str)"
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
                row["error"] = "not run: the time budget for all tickets was used up"
                rows.append(row)
                continue
            first = len(calls)
            try:
                out = fn(item["text"])
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


def _slice(rows: list[dict], name: str) -> list[dict]:
    return [r for r in rows if r["item"]["slice"] == name]


def _model_calls(rows: list[dict], model: str | None = None) -> list[dict]:
    return [c for r in rows for c in r["calls"] if model is None or c["model"] == model]


def _wrong(rows: list[dict], n: int = 3) -> str:
    bad = [r for r in rows if not _right(r)][:n]
    shown = [(r["item"]["id"], r["out"] if r["error"] is None else r["error"], r["item"]["label"]) for r in bad]
    return "; ".join(f"{rid}: got {got!r:.60}, expected {want!r}" for rid, got, want in shown)


def check_no_current_model(ns) -> tuple[bool, str]:
    """classify() routes without the current model, which is switched off in 14 days."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    calls = _model_calls(rows)
    if not [c for c in calls if c["model"] in ("current", "new")]:
        return NOT_EXERCISED, f"classify() never called a routing model on {len(rows)} tickets"
    current = _model_calls(rows, "current")
    acc = _accuracy(rows)
    detail = f"{len(current)} of {len(calls)} model calls went to the current model; accuracy {acc:.0%}"
    if current:
        return False, detail + " - after the retirement every one of those fails"
    return acc >= ROUTER_MIN, detail + f" (need {ROUTER_MIN:.0%} for a working router)"


def check_fenced_replies(ns) -> tuple[bool, str]:
    """Tickets whose new-model reply came wrapped in a ```json fence are still routed right."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    if not _model_calls(rows, "new"):
        return NOT_EXERCISED, "classify() never called the new model: no reply could come back fenced"
    fenced = [r for r in rows if any(c["fenced"] for c in r["calls"] if c["model"] == "new")]
    if not fenced:
        return NOT_EXERCISED, "no reply of the new model was fenced during the run"
    acc = _accuracy(fenced)
    detail = f"{acc:.0%} of {len(fenced)} tickets with a fenced reply routed right (need {FENCED_MIN:.0%})"
    if acc < FENCED_MIN:
        detail += ". Wrong, e.g.: " + _wrong(fenced)
    return acc >= FENCED_MIN, detail


def check_slices(ns) -> tuple[bool, str]:
    """German tickets and long threads are routed right at least 85% of the time each, with the new model."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    if not _model_calls(rows, "new"):
        return NOT_EXERCISED, "classify() never called the new model: there is no switch to judge"
    parts, ok = [], True
    for name, what in (("de", "German tickets"), ("long", "long threads"), ("en", "short English tickets")):
        chosen = _slice(rows, name)
        acc = _accuracy(chosen)
        parts.append(f"{what} {acc:.0%} (n={len(chosen)})")
        if name != "en" and acc < SLICE_MIN:
            ok = False
            parts[-1] += " - wrong, e.g.: " + _wrong(chosen, 2)
    return ok, "; ".join(parts) + f" (German and long need {SLICE_MIN:.0%})"


def _truth(rows: list[dict]) -> dict[str, float]:
    acc = {name: _accuracy(_slice(rows, name)) for name in SHARES}
    w = SHARES

    def mix(*names):
        return sum(w[n] * acc[n] for n in names) / sum(w[n] for n in names)

    return {
        "overall": mix("en", "de", "long"),
        "en": mix("en", "long"),
        "de": acc["de"],
        "short": mix("en", "de"),
        "long": acc["long"],
    }


def check_report(ns) -> tuple[bool, str]:
    """`report` states classify()'s accuracy overall and per slice within 10 points of what it
    really is on production-like traffic (an uncalibrated judge's verdicts are not)."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    report = ns.get("report")
    if not isinstance(report, dict):
        return False, f"`report` is {type(report).__name__}, not a dict with overall/en/de/short/long"
    truth = _truth(rows)
    parts, ok = [], True
    for key, real in truth.items():
        value = report.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            parts.append(f"{key}: {value!r} is not a share between 0 and 1")
            ok = False
            continue
        off = abs(float(value) - real)
        parts.append(f"{key}: reported {value:.2f}, measured {real:.2f}")
        if off > REPORT_TOLERANCE:
            ok = False
            parts[-1] += " (off by more than 0.10)"
    return ok, "; ".join(parts)


def check_current_prompt(ns) -> tuple[bool, str]:
    """Routing follows the production prompt (v3): "late parcel, I want my money back" is refund."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    calls = _model_calls(rows, "new")
    if not calls:
        return NOT_EXERCISED, "classify() never called the new model: no prompt to judge"
    # Only tickets that got an answer: a router that crashes fails the other checks, not this one.
    mixed = [r for r in rows if r["item"]["mixed"]]
    answered = [r for r in mixed if r["error"] is None]
    others = [r for r in rows if not r["item"]["mixed"] and r["item"]["slice"] == "en" and r["error"] is None]
    acc_m, acc_o = _accuracy(answered), _accuracy(others)
    ruled = sum(c["rule"] for c in calls) / len(calls)
    detail = (
        f"{len(answered)} of {len(mixed)} money-back tickets about a parcel answered, {acc_m:.0%} of them right;"
        f" other short English tickets {acc_o:.0%} right (need {DRIFT_MIN:.0%} each);"
        f" {ruled:.0%} of new-model calls carried the v3 rule"
    )
    if acc_m < DRIFT_MIN:
        detail += ". Wrong, e.g.: " + _wrong(answered, 2)
    enough = len(answered) >= len(mixed) / 2
    return enough and acc_m >= DRIFT_MIN and acc_o >= DRIFT_MIN, detail
