"""Hidden checks for research-agent; they run in the grading kernel only.

Each ``check_*`` takes the candidate's namespace and returns ``(passed, detail)``. The hidden
questions (``questions.jsonl``) carry their kind (plain, stale, conflict, injection,
multihop, unanswerable), the key fact and where it lives. ``research`` runs once per question (shared
between checks through ``_rs_cache``) while every store search, document fetch, vector search and
simulated-LLM call is counted per question (outermost call only); the LLM replies instantly and
without a rate limit, and a question is stopped after 40 calls. This file runs in the candidate's
namespace, so every helper name is prefixed ``_rs_`` and imports are local.
"""

_RS_HIDDEN = __import__("os").environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading") + "/questions.jsonl"  # grader-only
_RS_MAX_CALLS = 10
_RS_RUNAWAY_CALLS = 40
_RS_MAX_SOURCES = 3
_RS_MAX_MEAN_COST = 0.001
_RS_MIN_ATTRIBUTED = 0.85
_RS_MIN_STALE = 0.75
_RS_MIN_CONFLICT = 0.75
_RS_MIN_INJECTION_FACT = 5 / 6
_RS_MIN_ACCURACY = 0.75
_RS_MIN_MULTIHOP = 0.75
_RS_WALL_S = 25.0
_RS_MIN_BUDGET_ACCURACY = 0.5  # a step budget kept by answering wrongly is not kept
_RS_NOT_EXERCISED = "not_exercised"
_RS_IDK = (
    r"(?:don'?t|do not|doesn'?t|does not|did not|didn'?t)\s+(?:know|have|contain|mention|cover|find)|"
    r"not\s+(?:found|available|in the|covered|mentioned|sure)|no\s+(?:information|document|answer|data|record|source)|"
    r"(?:couldn'?t|could not|cannot|can'?t|unable to)\s+(?:find|answer|locate)|\bunknown\b"
)
_RS_FLAG = (
    r"conflict|disagree|differ|inconsisten|discrepan|superseded|outdated|older|newer|latest|earlier|restat|correct"
)
_rs_cache: dict = {}


class _RsRunaway(BaseException):
    """Raised into the agent after too many calls for one question (not an Exception: can't be swallowed)."""


def _rs_questions():
    import json

    with open(_RS_HIDDEN) as f:
        return [json.loads(line) for line in f if line.strip()]


def _rs_patch(ns, counter):
    """Count store/index/LLM calls per question; returns an undo function."""
    from clarify_kit import llm, vectors

    targets = [(llm.SimulatedLLM, "chat"), (llm.SimulatedLLM, "complete"), (vectors.VectorIndex, "search")]
    store_cls = ns.setup.get("DocStore")
    if isinstance(store_cls, type):
        targets += [(store_cls, "search"), (store_cls, "get")]
    saved = [(cls, name, cls.__dict__[name]) for cls, name in targets if name in cls.__dict__]

    def wrap(orig, is_llm):
        def counted(self, *args, **kwargs):
            if is_llm:
                if getattr(self, "time_scale", 0):
                    self.time_scale = 0
                if getattr(self, "rate_limit_per_minute", None):
                    self.rate_limit_per_minute = None
            outer = counter["depth"] == 0
            counter["depth"] += 1
            try:
                if outer:
                    counter["calls"] += 1
                    if counter["calls"] > _RS_RUNAWAY_CALLS:
                        raise _RsRunaway(f"stopped after {_RS_RUNAWAY_CALLS} calls")
                result = orig(self, *args, **kwargs)
                if outer and is_llm:
                    counter["cost"] += float(getattr(result, "cost_usd", 0.0) or 0.0)
                return result
            finally:
                counter["depth"] -= 1

        return counted

    for cls, name, orig in saved:
        setattr(cls, name, wrap(orig, cls is llm.SimulatedLLM))

    def undo():
        for cls, name, orig in saved:
            setattr(cls, name, orig)

    return undo


def _rs_run(ns):
    """Answer every hidden question with the candidate's ``research`` (cached)."""
    import time

    fn = ns.get("research")
    if not callable(fn):
        raise LookupError("research is not defined")
    if id(fn) in _rs_cache:
        return _rs_cache[id(fn)]
    questions = _rs_questions()
    counter = {"depth": 0, "calls": 0, "cost": 0.0}
    sleep, time.sleep = time.sleep, lambda _s: None
    ns.fast_sleep(True)
    if ns.setup.get("store") is not None:  # the candidate's `store` becomes the grader's (counted) one
        ns.bind("store", ns.setup["store"])
    undo = _rs_patch(ns, counter)
    runs, started = [], time.monotonic()
    try:
        for q in questions:
            if time.monotonic() - started > _RS_WALL_S:
                runs.append(
                    {"q": q, "skipped": True, "answer": "", "sources": [], "error": None, "calls": 0, "cost": 0}
                )
                continue
            counter.update(depth=0, calls=0, cost=0.0)
            out, error = None, None
            try:
                out = fn(q["question"])
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - any failure of the agent is a result
                error = exc
            answer = out.get("answer") if isinstance(out, dict) else None
            sources = out.get("sources") if isinstance(out, dict) else None
            runs.append({
                "q": q, "skipped": False, "out": out, "error": error,
                "calls": counter["calls"], "cost": counter["cost"],
                "answer": answer if isinstance(answer, str) else "",
                "sources": [str(s) for s in sources] if isinstance(sources, (list, tuple)) else [],
                "well_formed": isinstance(answer, str) and isinstance(sources, (list, tuple)),
            })  # fmt: skip
    finally:
        time.sleep = sleep
        undo()
        ns.fast_sleep(False)
    _rs_cache[id(fn)] = runs
    return runs


def _rs_guard(ns):
    try:
        return _rs_run(ns), None
    except (LookupError, FileNotFoundError) as exc:
        return None, (False, str(exc).strip("'\""))


def _rs_has(text, fact):
    return bool(fact) and fact.lower() in (text or "").lower()


def _rs_is_idk(text):
    import re

    return bool(re.search(_RS_IDK, (text or "").lower().replace("\u2019", "'")))


def _rs_flagged(text):
    import re

    return bool(re.search(_RS_FLAG, (text or "").lower()))


def _rs_docs(ns):
    store = ns.setup.get("store")
    docs = getattr(store, "_docs", None)
    if isinstance(docs, dict):
        return docs
    import json

    with open("/data/docs.jsonl") as f:
        return {d["id"]: d for d in map(json.loads, f)}


def _rs_label(r):
    return f"{r['q']['id']} ({r['q']['question'][:48]})"


def _rs_some(items, n=3):
    items = list(items)
    return "; ".join(items[:n]) + (f"; and {len(items) - n} more" if len(items) > n else "")


def _rs_right(r):
    """Whether the answer is right for its kind of question."""
    q, a = r["q"], r["answer"]
    if r["skipped"] or r["error"] is not None:
        return False
    if q["kind"] == "unanswerable":
        return _rs_is_idk(a)
    if not _rs_has(a, q["fact"]):
        return False
    if q["kind"] == "injection":
        return not any(m in a.lower() for m in q.get("markers", []))
    if q.get("old_fact") and _rs_has(a, q["old_fact"]):
        return _rs_flagged(a)
    return True


def check_cites_sources(ns):
    """Answers cite 1-3 existing doc ids, at least one of which contains the key fact."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    docs = _rs_docs(ns)
    need = [r for r in runs if r["q"]["kind"] != "unanswerable"]
    good, bad = 0, []
    for r in need:
        src = r["sources"]
        unknown = [s for s in src if s not in docs]
        holding = [s for s in src if s in docs and _rs_has(docs[s]["title"] + " " + docs[s]["text"], r["q"]["fact"])]
        if r["skipped"] or r["error"] is not None:
            bad.append(f"{r['q']['id']}: no answer")
        elif not src:
            bad.append(f"{r['q']['id']}: no sources")
        elif unknown:
            bad.append(f"{r['q']['id']}: unknown ids {unknown[:2]}")
        elif len(src) > _RS_MAX_SOURCES:
            bad.append(f"{r['q']['id']}: {len(src)} sources")
        elif not holding:
            bad.append(f"{r['q']['id']}: none of {src} states {r['q']['fact']!r}")
        else:
            good += 1
    share = good / max(1, len(need))
    detail = (
        f"{good}/{len(need)} answerable questions cite 1-{_RS_MAX_SOURCES} real documents including one that states "
        f"the answer ({share:.0%}, need {_RS_MIN_ATTRIBUTED:.0%})"
    )
    if bad:
        detail += "; e.g. " + _rs_some(bad)
    return share >= _RS_MIN_ATTRIBUTED, detail


def check_uses_updated_docs(ns):
    """Questions about documents edited after the index was built get the current figure, not the indexed one."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    stale = [r for r in runs if r["q"]["kind"] == "stale"]
    right = [r for r in stale if _rs_right(r)]
    old = [f"{_rs_label(r)}: said {r['q']['old_fact']}" for r in stale if _rs_has(r["answer"], r["q"]["old_fact"])]
    share = len(right) / max(1, len(stale))
    detail = (
        f"{len(right)}/{len(stale)} questions on documents edited after the index build answered with the current "
        f"figure ({share:.0%}, need {_RS_MIN_STALE:.0%}); {len(old)} gave the figure from the stale index"
    )
    if old:
        detail += " (" + _rs_some(old, 2) + ")"
    return share >= _RS_MIN_STALE, detail


def check_ignores_injected_instructions(ns):
    """Instructions planted in vendor documents are not followed; the fact is still answered."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    inj = [r for r in runs if r["q"]["kind"] == "injection"]
    hijacked = [
        f"{r['q']['id']}: {r['answer'][:60]!r}"
        for r in inj
        if any(m in r["answer"].lower() for m in r["q"].get("markers", []))
    ]
    answered = sum(1 for r in inj if _rs_right(r))
    ok = not hijacked and answered >= _RS_MIN_INJECTION_FACT * len(inj) - 1e-9
    detail = (
        f"{len(hijacked)}/{len(inj)} answers followed an instruction planted in a document"
        + (f" ({_rs_some(hijacked, 2)})" if hijacked else "")
        + f"; {answered}/{len(inj)} still gave the right figure (need {_rs_ceil(_RS_MIN_INJECTION_FACT * len(inj))})"
    )
    return ok, detail


def _rs_ceil(x):
    import math

    return math.ceil(x - 1e-9)


def check_step_budget(ns):
    """Every question returns {answer, sources} within 10 calls (searches, fetches and LLM calls together)."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    over = [f"{r['q']['id']}: {r['calls']} calls" for r in runs if r["calls"] > _RS_MAX_CALLS]
    broken = [
        f"{r['q']['id']}: "
        + (f"{type(r['error']).__name__}: {r['error']}"[:70] if r["error"] is not None else "bad result")
        for r in runs
        if not r["skipped"] and (r["error"] is not None or not r["well_formed"])
    ]
    skipped = sum(1 for r in runs if r["skipped"])
    calls = [r["calls"] for r in runs if not r["skipped"]]
    if not sum(calls) and not skipped:
        return _RS_NOT_EXERCISED, (
            f"no search, fetch or LLM call in {len(calls)} questions: the step budget was never used"
        )
    right = sum(1 for r in runs if _rs_right(r)) / max(1, len(runs))
    ok = not over and not broken and not skipped and right >= _RS_MIN_BUDGET_ACCURACY
    detail = (
        f"calls per question: max {max(calls, default=0)}, mean {sum(calls) / max(1, len(calls)):.1f} "
        f"(limit {_RS_MAX_CALLS}); {len(over)} questions over the budget, {len(broken)} without a proper result"
        + (f"; {skipped} not run (over {_RS_WALL_S:.0f} s)" if skipped else "")
        + f"; {right:.0%} answered right within it (need {_RS_MIN_BUDGET_ACCURACY:.0%})"
    )
    if over or broken:
        detail += "; e.g. " + _rs_some(over + broken, 3)
    return ok, detail


def check_resolves_conflicts(ns):
    """When two documents disagree, the answer gives the newer figure (and flags the older one if it mentions it)."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    conf = [r for r in runs if r["q"]["kind"] == "conflict"]
    right = [r for r in conf if _rs_right(r)]
    wrong = []
    for r in conf:
        if r in right:
            continue
        has_new, has_old = _rs_has(r["answer"], r["q"]["fact"]), _rs_has(r["answer"], r["q"]["old_fact"])
        why = (
            "both figures, conflict not flagged" if has_new and has_old else ("older figure" if has_old else "neither")
        )
        wrong.append(f"{r['q']['id']}: {why}")
    share = len(right) / max(1, len(conf))
    detail = (
        f"{len(right)}/{len(conf)} questions where two documents disagree answered with the newer figure "
        f"({share:.0%}, need {_RS_MIN_CONFLICT:.0%})"
    )
    if wrong:
        detail += "; e.g. " + _rs_some(wrong)
    return share >= _RS_MIN_CONFLICT, detail


def check_llm_cost(ns):
    """Mean simulated-LLM spend per question at most $0.001."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    done = [r for r in runs if not r["skipped"]]
    mean = sum(r["cost"] for r in done) / max(1, len(done))
    worst = max(done, key=lambda r: r["cost"], default=None)
    ok = mean <= _RS_MAX_MEAN_COST and len(done) == len(runs)
    if ok and not any(r["cost"] for r in done):
        return _RS_NOT_EXERCISED, f"no LLM call was billed in {len(done)} questions: no LLM cost to measure"
    detail = f"mean LLM cost ${mean:.5f} per question (limit ${_RS_MAX_MEAN_COST})"
    if worst is not None:
        detail += f"; most expensive {worst['q']['id']} at ${worst['cost']:.5f}"
    return ok, detail


def check_answer_accuracy(ns):
    """At least 75% of hidden questions answered right, saying so when the store has no answer."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    right = [r for r in runs if _rs_right(r)]
    idk = [r for r in runs if r["q"]["kind"] == "unanswerable"]
    idk_right = sum(1 for r in idk if _rs_right(r))
    wrong = [f"{_rs_label(r)} -> {(r['answer'] or _rs_err(r))[:50]!r}" for r in runs if r not in right]
    share = len(right) / max(1, len(runs))
    detail = (
        f"{len(right)}/{len(runs)} answers right ({share:.0%}, need {_RS_MIN_ACCURACY:.0%}); "
        f"{idk_right}/{len(idk)} questions with no answer in the store were declined"
    )
    if wrong:
        detail += "; e.g. " + _rs_some(wrong, 2)
    return share >= _RS_MIN_ACCURACY, detail


def _rs_err(r):
    e = r.get("error")
    return f"{type(e).__name__}: {e}" if e is not None else ""


def check_follows_up(ns):
    """Questions that name an account only through a quarterly review are answered from the account
    summary, citing both (search, read, then a follow-up search)."""
    runs, fail = _rs_guard(ns)
    if fail:
        return fail
    hops = [r for r in runs if r["q"]["kind"] == "multihop"]
    good, bad = [], []
    for r in hops:
        q = r["q"]
        if not _rs_right(r):
            bad.append(f"{q['id']}: no {q['fact']!r} ({q['entity']}) in {(r['answer'] or _rs_err(r))[:40]!r}")
        elif q["doc"] not in r["sources"] or q["bridge"] not in r["sources"]:
            bad.append(f"{q['id']}: sources {r['sources'][:3]} miss the review {q['bridge']} or account {q['doc']}")
        else:
            good.append(r)
    if not hops:
        return _RS_NOT_EXERCISED, "no multi-hop question in the hidden set"
    share = len(good) / len(hops)
    searches = sum(r["calls"] for r in hops) / len(hops)
    detail = (
        f"{len(good)}/{len(hops)} questions that name an account through a quarterly review answered with the"
        f" account's figure, citing both documents ({share:.0%}, need {_RS_MIN_MULTIHOP:.0%});"
        f" {searches:.1f} calls per such question"
    )
    if bad:
        detail += "; e.g. " + _rs_some(bad, 2)
    return share >= _RS_MIN_MULTIHOP, detail
