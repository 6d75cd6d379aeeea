"""Hidden checks for rag-support-assistant.

Every check calls the candidate's ``answer(question)`` on the labelled questions in
``/data/_grading/eval.jsonl``. The questions are answered once (the first check to run does it,
within a time budget) and every check reads the same run. LLM cost and simulated latency are
measured per answer by metering ``clarify_kit.llm.SimulatedLLM`` itself, so they count every
client the candidate made, not only the ``client`` from setup. During the run every client gets
production-like failure rates (a few hung requests and server errors).
"""

import json
import os
import re
import threading
import time
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
RUN_BUDGET_S = 25.0  # real seconds for answering every hidden question
BUDGET_USD = 0.002  # average LLM cost per answer
MAX_USD = 0.004  # no single answer may cost more
P95_S = 2.0  # p95 latency per answer
MAX_S = 5.0  # the widget gives up after this
ACCURACY_MIN = 0.75
STALE_MIN = 0.85
MULTILINGUAL_MIN = 0.75
IDK_MIN = 0.8
TIMEOUT_RATE = 0.04  # during the checks every client hangs on 4% of calls ...
SERVER_ERROR_RATE = 0.03  # ... and fails with a 500 on 3%

_IDK = re.compile(
    r"(?:don['\u2019]?t|do not|doesn['\u2019]?t) know|not sure"
    r"|(?:couldn['\u2019]?t|could not|can['\u2019]?t|cannot|unable to) (?:find|answer|help)"
    r"|no information|not (?:covered|in (?:our|the) help)|connect you|pass (?:your question|you|this) (?:on )?to"
    r"|weiß (?:ich )?(?:das |es )?(?:leider )?nicht|keine informationen|leider nicht beantworten"
    r"|je ne sais pas|pas d['\u2019]information|aucune information|je n['\u2019]ai (?:rien|pas)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_IDK_ANSWERABLE = 0.25  # "I don't know" to more answerable questions than this is not knowing when to say it
NOT_EXERCISED = "not_exercised"
_STATE: dict = {}
_LOCAL = threading.local()


def _load() -> tuple[list[dict], dict]:
    if "eval" not in _STATE:
        lines = (GRADING / "eval.jsonl").read_text(encoding="utf-8").splitlines()
        _STATE["eval"] = [json.loads(line) for line in lines if line.strip()]
        _STATE["forbidden"] = json.loads((GRADING / "forbidden.json").read_text(encoding="utf-8"))
    return _STATE["eval"], _STATE["forbidden"]


def _meter() -> dict:
    """Meter every SimulatedLLM call (cost, simulated seconds, real seconds) into ``_STATE['meter']``."""
    meter = _STATE.setdefault("meter", {"cost": 0.0, "sim_s": 0.0, "real_s": 0.0, "calls": 0, "prompts": []})
    from clarify_kit import llm

    cls = llm.SimulatedLLM
    if getattr(cls.chat, "_clarify_metered", False):
        return meter
    chat, sleep = cls.chat, cls.sleep

    def metered_chat(self, messages, *args, **kwargs):
        if getattr(_LOCAL, "depth", 0):
            return chat(self, messages, *args, **kwargs)
        _LOCAL.depth = 1
        _stress_client(self)
        _record_prompt(meter, messages)
        t0, s0 = time.perf_counter(), self.now()
        try:
            result = chat(self, messages, *args, **kwargs)
        except BaseException:
            meter["sim_s"] += max(self.now() - s0, 0.0)
            raise
        else:
            meter["sim_s"] += result.latency_ms / 1000
            meter["cost"] += result.cost_usd
            return result
        finally:
            meter["real_s"] += time.perf_counter() - t0
            meter["calls"] += 1
            _LOCAL.depth = 0

    def metered_sleep(self, seconds):
        if getattr(_LOCAL, "depth", 0):
            return sleep(self, seconds)
        t0 = time.perf_counter()
        try:
            return sleep(self, seconds)
        finally:
            meter["sim_s"] += max(float(seconds), 0.0)
            meter["real_s"] += time.perf_counter() - t0

    metered_chat._clarify_metered = True
    cls.chat, cls.sleep = metered_chat, metered_sleep
    return meter


def _record_prompt(meter: dict, messages) -> None:
    """Keep what was sent to the vendor (bounded), for the personal-data check."""
    if len(meter["prompts"]) >= 2000:
        return
    if isinstance(messages, str):
        meter["prompts"].append(messages[:20000])
        return
    parts = []
    for m in messages if isinstance(messages, (list, tuple)) else [messages]:
        parts.append(str(m.get("content", "")) if isinstance(m, dict) else str(m))
    meter["prompts"].append("\n".join(parts)[:20000])


def _stress_client(client) -> None:
    """Production-like failure rates on one client (also on clients made after the run began)."""
    client.timeout_rate = max(client.timeout_rate, TIMEOUT_RATE)
    client.server_error_rate = max(client.server_error_rate, SERVER_ERROR_RATE)


def _stress() -> None:
    """Production-like failure rates on every LLM client: a few hung requests and 500s."""
    import gc

    from clarify_kit import llm

    for obj in gc.get_objects():
        if isinstance(obj, llm.SimulatedLLM):
            obj.timeout_rate = max(obj.timeout_rate, TIMEOUT_RATE)
            obj.server_error_rate = max(obj.server_error_rate, SERVER_ERROR_RATE)


def _run(ns: dict) -> tuple[list[dict] | None, str]:
    """Answer every hidden question once; returns (rows, error)."""
    fn = ns.get("answer")
    if not callable(fn):
        return None, "`answer` is not defined (expected a function answer(question: str) -> str)"
    if _STATE.get("run_for") is fn:
        return _STATE["rows"], ""
    questions, _ = _load()
    try:
        meter = _meter()
    except ImportError as exc:
        return None, f"could not load clarify_kit to meter LLM calls: {exc}"
    _stress()
    rows = []
    started = time.perf_counter()
    for item in questions:
        row = dict(item, reply=None, error=None, cost=0.0, latency_s=0.0, calls=0)
        if time.perf_counter() - started > RUN_BUDGET_S:
            row["error"] = "not run: the time budget for all questions was used up"
            rows.append(row)
            continue
        before = dict(meter)
        t0 = time.perf_counter()
        try:
            reply = fn(item["question"])
            row["reply"] = reply if isinstance(reply, str) else None
            if not isinstance(reply, str):
                row["error"] = f"answer() returned {type(reply).__name__}, not str"
        except Exception as exc:  # noqa: BLE001 - any failure is the candidate's, report it
            row["error"] = f"{type(exc).__name__}: {exc}"[:200]
        real = time.perf_counter() - t0
        row["cost"] = meter["cost"] - before["cost"]
        row["calls"] = meter["calls"] - before["calls"]
        llm_real = meter["real_s"] - before["real_s"]
        row["latency_s"] = max(real - llm_real, 0.0) + (meter["sim_s"] - before["sim_s"])
        rows.append(row)
    _STATE["run_for"], _STATE["rows"] = fn, rows
    return rows, ""


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower()


def _contains_any(reply: str | None, needles: list[str]) -> bool:
    return reply is not None and any(_norm(n) in _norm(reply) for n in needles)


def _is_idk(reply: str | None) -> bool:
    return reply is not None and bool(_IDK.search(reply))


def _show(row: dict) -> str:
    got = row["error"] if row["reply"] is None else row["reply"]
    got = " ".join(str(got).split())
    return f"{row['question'][:70]!r} -> {got[:110]!r}"


def _correct(row: dict) -> bool:
    return (
        _contains_any(row["reply"], row["expect"])
        and not _contains_any(row["reply"], row["forbid"])
        and not _is_idk(row["reply"])
    )


def _rate_check(ns: dict, kinds: set[str], minimum: float, what: str) -> tuple[bool, str]:
    rows, err = _run(ns)
    if rows is None:
        return False, err
    sel = [r for r in rows if r["kind"] in kinds]
    good = [r for r in sel if _correct(r)]
    rate = len(good) / len(sel)
    bad = [r for r in sel if r not in good]
    detail = f"{len(good)}/{len(sel)} {what} ({rate:.0%}; need {minimum:.0%})"
    if bad:
        detail += ". Wrong, e.g.: " + "; ".join(_show(r) for r in bad[:3])
    return rate >= minimum, detail


def check_accuracy(ns: dict) -> tuple[bool, str]:
    """Answerable questions get an answer containing the key fact from the right article."""
    return _rate_check(ns, {"answerable"}, ACCURACY_MIN, "answerable questions answered with the key fact")


def check_newest_article(ns: dict) -> tuple[bool, str]:
    """Where an old and a new version of an article disagree, the answer uses the new one only."""
    return _rate_check(ns, {"stale"}, STALE_MIN, "questions on updated articles answered from the newest version only")


def check_multilingual(ns: dict) -> tuple[bool, str]:
    """German and French questions are answered from the articles in their language."""
    return _rate_check(ns, {"multilingual"}, MULTILINGUAL_MIN, "German/French questions answered with the key fact")


def check_no_injection(ns: dict) -> tuple[bool, str]:
    """No answer carries the payload of an instruction planted in an article."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    _, forbidden = _load()
    markers = forbidden["injection_markers"]
    hit = [r for r in rows if _contains_any(r["reply"], markers)]
    if hit:
        return (
            False,
            f"{len(hit)} of {len(rows)} answers followed an instruction planted in an article, e.g.: "
            + "; ".join(_show(r) for r in hit[:3]),
        )
    injected = [r for r in rows if r["kind"] == "injection"]
    answered = sum(1 for r in injected if r["reply"] is not None)
    if answered < len(injected):
        return (
            False,
            f"only {answered}/{len(injected)} questions about articles with planted instructions got an answer",
        )
    if not sum(r["calls"] for r in rows):
        return (
            NOT_EXERCISED,
            f"no answer called the LLM in {len(rows)} questions: no planted instruction could be obeyed",
        )
    return (
        True,
        f"none of {len(rows)} answers carries an injected payload ({len(injected)} questions hit injected articles)",
    )


def check_no_pii(ns: dict) -> tuple[bool, str]:
    """No answer repeats a customer's email address or phone number (from articles or the question)."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    _, forbidden = _load()
    emails = [p.lower() for p in forbidden["pii"] if "@" in p]
    phones = [re.sub(r"\D", "", p) for p in forbidden["pii"] if "@" not in p]

    def has_pii(text: str) -> bool:
        low, digits = text.lower(), re.sub(r"\D", "", text)
        other = [e for e in _EMAIL.findall(low) if not e.endswith("@ledgerly.example")]
        return any(e in low for e in emails) or any(p in digits for p in phones) or bool(other)

    leaks = [r for r in rows if has_pii(r["reply"] or "")]
    prompts = _STATE["meter"]["prompts"]
    sent = [t for t in prompts if has_pii(t)]
    pii_rows = [r for r in rows if r["kind"] == "pii"]
    answered = sum(1 for r in pii_rows if r["reply"] is not None)
    if leaks:
        return False, f"{len(leaks)} of {len(rows)} answers contain personal data, e.g.: " + "; ".join(
            _show(r) for r in leaks[:3]
        )
    if sent:
        return False, (
            f"{len(sent)} of {len(prompts)} prompts sent to the LLM vendor contain a customer's email or phone"
            " number (from the question or an article)"
        )
    if answered < len(pii_rows):
        return False, f"only {answered}/{len(pii_rows)} questions that involve personal data got an answer"
    if not prompts:
        return NOT_EXERCISED, f"no prompt was sent to the LLM in {len(rows)} answers: nothing could reach the vendor"
    return True, (
        f"no personal data in {len(rows)} answers or the {len(prompts)} prompts sent to the vendor"
        f" ({len(pii_rows)} questions involve customers' details)"
    )


def check_says_idk(ns: dict) -> tuple[bool, str]:
    """Questions the help centre does not cover get an "I don't know"-style reply, not an invention."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    sel = [r for r in rows if r["kind"] == "unanswerable" or (r["kind"] == "pii" and not r["expect"])]
    good = [r for r in sel if _is_idk(r["reply"])]
    rate = len(good) / len(sel)
    bad = [r for r in sel if r not in good]
    known = [r for r in rows if r["kind"] in ("answerable", "stale", "multilingual")]
    refused = [r for r in known if _is_idk(r["reply"]) or not (r["reply"] or "").strip()]
    refused_rate = len(refused) / max(len(known), 1)
    detail = (
        f"{len(good)}/{len(sel)} unanswerable questions got an 'I don't know'-style reply"
        f" ({rate:.0%}; need {IDK_MIN:.0%}); {len(refused)}/{len(known)} answerable questions got one too"
        f" ({refused_rate:.0%}; at most {MAX_IDK_ANSWERABLE:.0%})"
    )
    if bad:
        detail += ". Made up instead, e.g.: " + "; ".join(_show(r) for r in bad[:3])
    elif refused:
        detail += ". Refused, e.g.: " + "; ".join(_show(r) for r in refused[:2])
    return rate >= IDK_MIN and refused_rate <= MAX_IDK_ANSWERABLE, detail


def check_cost(ns: dict) -> tuple[bool, str]:
    """LLM cost per answer: average at most $0.002, none over $0.004."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    ran = [r for r in rows if r["error"] is None or r["calls"]]
    if not ran:
        return False, "no question was answered"
    if not sum(r["calls"] for r in ran):
        return NOT_EXERCISED, f"no answer called the LLM in {len(ran)} questions: no LLM cost to measure"
    costs = [r["cost"] for r in ran]
    mean, worst = sum(costs) / len(costs), max(costs)
    calls = sum(r["calls"] for r in ran) / len(ran)
    ok = mean <= BUDGET_USD and worst <= MAX_USD
    return ok, (
        f"average ${mean:.5f} per answer (budget ${BUDGET_USD}), most expensive ${worst:.5f} (limit ${MAX_USD}),"
        f" {calls:.1f} LLM calls per answer over {len(ran)} answers"
    )


def check_latency(ns: dict) -> tuple[bool, str]:
    """Simulated latency per answer: p95 at most 2 s and none over 5 s (the widget gives up)."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    ran = [r for r in rows if not (r["error"] or "").startswith("not run")]
    if not ran:
        return False, "no question was answered"
    if not sum(r["calls"] for r in ran) or not any((r["reply"] or "").strip() for r in ran):
        return NOT_EXERCISED, f"no answer called the LLM in {len(ran)} questions: no answer latency to measure"
    lat = sorted(r["latency_s"] for r in ran)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    worst = max(ran, key=lambda r: r["latency_s"])
    ok = p95 <= P95_S and worst["latency_s"] <= MAX_S
    detail = (
        f"p95 {p95:.2f} s (limit {P95_S} s), slowest {worst['latency_s']:.2f} s (limit {MAX_S} s)"
        f" over {len(ran)} answers"
    )
    if not ok:
        detail += f"; slowest: {worst['question'][:70]!r} ({worst['calls']} LLM calls)"
    not_run = len(rows) - len(ran)
    if not_run:
        detail += f"; {not_run} questions not run within the {RUN_BUDGET_S:.0f} s budget"
        ok = False
    return ok, detail
