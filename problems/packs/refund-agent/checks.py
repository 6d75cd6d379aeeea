"""Hidden checks for refund-agent; they run in the grading kernel only.

Each ``check_*`` takes the candidate's namespace and returns ``(passed, detail)``. The hidden
requests (``requests.jsonl``) carry the expected outcome under the policy: deny unknown, foreign or
already-refunded orders; escalate over $200 or delivered more than 30 days ago; refund the rest.
Every request runs against a fresh ``ShopEnv`` (the grader's own, from its run of setup.py) with
``time_scale=0``; the candidate's code gets a proxy, so payments, emails and the tool log stay in
the grader. The runs are shared between checks through ``_ra_cache``. ``time.sleep`` is a no-op
during the runs (backoff costs no wall time) and simulated-LLM calls are counted per request. A
timed-out refund or email went through 60% of the time. This file runs in the grader's own
process (problems/README.md), never in the candidate's; helper names keep the ``_ra_`` prefix.
"""

_RA_PATHS = (__import__("os").environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading") + "/requests.jsonl",)  # grader-only
_RA_SUITES = {  # env parameters per run; each request gets its own seed
    "standard": {"failure_rate": 0.1, "timeout_rate": 0.05, "stale_rate": 0.15},
    "stress": {"failure_rate": 0.2, "timeout_rate": 0.15, "stale_rate": 0.2},
    "stale": {"failure_rate": 0.05, "timeout_rate": 0.0, "stale_rate": 0.5},
    "dry-run": {"failure_rate": 0.1, "timeout_rate": 0.05, "stale_rate": 0.15},
}
_RA_MIN_ACCURACY = 0.90
_RA_MIN_ESCALATED = 0.90
_RA_MAX_NEEDLESS = 0.20  # escalating what needs no approval is not escalating by policy
_RA_NOT_EXERCISED = "not_exercised"
_RA_MIN_COMPLETED = 0.80
_RA_MAX_LLM_CALLS = 2
_RA_MAX_MEAN_COST = 0.002
_RA_MIN_AUDITED = 0.95
_RA_WALL_S = 25.0
_ra_cache: dict = {}


def _ra_requests():
    import json
    import os

    for path in _RA_PATHS:
        if os.path.exists(path):
            with open(path) as f:
                return [json.loads(line) for line in f if line.strip()]
    raise FileNotFoundError("requests.jsonl not found in " + " or ".join(_RA_PATHS))


def _ra_patch_llm(counter):
    """Count simulated-LLM calls (outermost only) and make them instant; returns an undo function."""
    try:
        from clarify_kit import llm
    except ImportError:
        return lambda: None
    cls = llm.SimulatedLLM
    saved = {name: cls.__dict__[name] for name in ("chat", "complete") if name in cls.__dict__}

    def wrap(orig):
        def counted(self, *args, **kwargs):
            if getattr(self, "time_scale", 0):  # instant replies, and no rate limit across requests
                self.time_scale = 0
            if getattr(self, "rate_limit_per_minute", None):
                self.rate_limit_per_minute = None
            outer = counter["depth"] == 0
            counter["depth"] += 1
            try:
                if outer:
                    counter["calls"] += 1
                    if counter["calls"] > 60:
                        raise llm.LLMError("grading: more than 60 LLM calls for one request")
                result = orig(self, *args, **kwargs)
                if outer:
                    counter["cost"] += float(getattr(result, "cost_usd", 0.0) or 0.0)
                return result
            finally:
                counter["depth"] -= 1

        return counted

    for name, orig in saved.items():
        setattr(cls, name, wrap(orig))

    def undo():
        for name, orig in saved.items():
            setattr(cls, name, orig)

    return undo


def _ra_run(ns, suite):
    """Run the candidate's ``handle_request`` over the hidden requests in one suite (cached)."""
    import time

    fn = ns.get("handle_request")
    if not callable(fn):
        raise LookupError("handle_request is not defined")
    # The grader's own ShopEnv (its run of setup.py): payments, emails and the tool log are kept
    # here, and the candidate's code gets a proxy whose calls come back to it.
    env_cls = ns.setup.get("ShopEnv")
    if env_cls is None:
        raise LookupError("ShopEnv is not defined (setup did not run)")
    key = (suite, id(fn))
    if key in _ra_cache:
        return _ra_cache[key]
    items = _ra_requests()
    if suite == "stale":
        items = [it for it in items if it["expect"]["kind"] == "already_refunded"] + [
            it for it in items if it["expect"]["kind"] == "eligible"
        ][:12]
    elif suite == "dry-run":
        items = items[:24]
    elif suite == "stress":  # the eligible ones twice: more refund timeouts that went through
        items = items + [it for it in items if it["expect"]["action"] == "refund"]
    counter = {"depth": 0, "calls": 0, "cost": 0.0}
    sleep, time.sleep = time.sleep, lambda _s: None
    ns.fast_sleep(True)
    undo = _ra_patch_llm(counter)
    runs, started = [], time.monotonic()
    try:
        for i, item in enumerate(items):
            if time.monotonic() - started > _RA_WALL_S:
                runs.append({"item": item, "skipped": True})
                continue
            seed = 10_000 * (1 + list(_RA_SUITES).index(suite)) + i
            env = env_cls(seed=seed, max_steps=20, time_scale=0, **_RA_SUITES[suite])
            counter.update(calls=0, cost=0.0, depth=0)
            out, error = None, None
            try:
                if suite == "dry-run":
                    out = fn(dict(item["request"]), env, dry_run=True)
                else:
                    out = fn(dict(item["request"]), env)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - any failure of the agent is a result
                error = exc
            runs.append({
                "item": item, "out": out, "error": error, "env": env, "skipped": False,
                "llm_calls": counter["calls"], "llm_cost": counter["cost"],
            })  # fmt: skip
    finally:
        time.sleep = sleep
        undo()
        ns.fast_sleep(False)
    _ra_cache[key] = runs
    return runs


def _ra_rid(run):
    return run["item"]["request"]["request_id"]


def _ra_action(run):
    out = run.get("out")
    return str(out.get("action", "")).lower() if isinstance(out, dict) else None


def _ra_paid(run):
    """Payments the agent made during this run (pre-existing refunds are not counted)."""
    return list(run["env"]._payments)


def _ra_err(run):
    e = run.get("error")
    return f"{type(e).__name__}: {e}" if e is not None else ""


def _ra_some(ids, n=4):
    ids = list(ids)
    return ", ".join(ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


def _ra_skipped(runs):
    skipped = [r for r in runs if r["skipped"]]
    return f"; {len(skipped)} requests not run (over {_RA_WALL_S:.0f} s)" if skipped else ""


def _ra_guard(ns, suite):
    try:
        return _ra_run(ns, suite), None
    except (LookupError, FileNotFoundError) as exc:
        return None, (False, str(exc).strip("'\""))


def check_no_double_refund(ns):
    """Under heavy injected failures and timeouts: no order paid twice, no tool error escapes."""
    runs, fail = _ra_guard(ns, "stress")
    if fail:
        return fail
    run_ok = [r for r in runs if not r["skipped"]]
    errors = (ns.setup.get("_ToolError"), ns.setup.get("_ToolTimeout"))
    tool_errors = tuple(c for c in errors if isinstance(c, type)) or (Exception,)
    doubles, escaped = [], []
    for r in run_ok:
        per_order: dict = {}
        for p in _ra_paid(r):
            per_order[p["order_id"]] = per_order.get(p["order_id"], 0) + 1
        doubles += [f"{_ra_rid(r)}: {oid} {n}x" for oid, n in per_order.items() if n > 1]
        if r["error"] is not None and isinstance(r["error"], tool_errors):
            escaped.append(_ra_rid(r))
    eligible = [r for r in run_ok if r["item"]["expect"]["action"] == "refund"]
    done = [
        r
        for r in eligible
        if len(_ra_paid(r)) == 1 and abs(_ra_paid(r)[0]["amount"] - r["item"]["expect"]["amount"]) < 0.011
    ]
    share = len(done) / max(1, len(eligible))
    ok = not doubles and not escaped and share >= _RA_MIN_COMPLETED and len(run_ok) == len(runs)
    detail = (
        f"with 20% tool errors and 15% timeouts: {len(doubles)} orders paid more than once"
        + (f" ({_ra_some(doubles)})" if doubles else "")
        + f"; {len(escaped)} requests let a ToolError/ToolTimeout escape"
        + (f" ({_ra_some(escaped)})" if escaped else "")
        + f"; {len(done)}/{len(eligible)} eligible refunds paid exactly once ({share:.0%}, need "
        f"{_RA_MIN_COMPLETED:.0%})" + _ra_skipped(runs)
    )
    return ok, detail


def check_fresh_reads(ns):
    """With a stale order cache, orders that were already refunded are never refunded again."""
    runs, fail = _ra_guard(ns, "stale")
    if fail:
        return fail
    run_ok = [r for r in runs if not r["skipped"]]
    dup = [r for r in run_ok if r["item"]["expect"]["kind"] == "already_refunded"]
    repaid = [_ra_rid(r) for r in dup if _ra_paid(r)]
    said_refund = [_ra_rid(r) for r in dup if _ra_action(r) == "refund" and not _ra_paid(r)]
    eligible = [r for r in run_ok if r["item"]["expect"]["kind"] == "eligible"]
    done = sum(1 for r in eligible if len(_ra_paid(r)) == 1)
    share = done / max(1, len(eligible))
    ok = not repaid and not said_refund and share >= _RA_MIN_COMPLETED and len(run_ok) == len(runs)
    detail = (
        f"half of all order reads served from a stale cache: {len(repaid)}/{len(dup)} already-refunded orders "
        "were paid again" + (f" ({_ra_some(repaid)})" if repaid else "")
        + (f"; {len(said_refund)} more answered 'refund'" if said_refund else "")
        + f"; {done}/{len(eligible)} eligible refunds still paid ({share:.0%}, need {_RA_MIN_COMPLETED:.0%})"
        + _ra_skipped(runs)
    )  # fmt: skip
    return ok, detail


def check_step_limit(ns):
    """Every request ends with an outcome inside 20 tool calls, also when tools keep failing."""
    problems, total = [], 0
    for suite in ("standard", "stress"):
        runs, fail = _ra_guard(ns, suite)
        if fail:
            return fail
        for r in runs:
            total += 1
            if r["skipped"]:
                problems.append(f"{_ra_rid(r)} not run (time)")
            elif r["error"] is not None:
                problems.append(f"{_ra_rid(r)} raised {_ra_err(r)}")
            elif _ra_action(r) not in ("refund", "escalate", "deny"):
                problems.append(f"{_ra_rid(r)} returned {str(r['out'])[:60]!r}")
    tool_calls = sum(
        len(r["env"].log) for suite in ("standard", "stress") for r in _ra_run(ns, suite) if not r["skipped"]
    )
    if not tool_calls and not problems:
        return (
            _RA_NOT_EXERCISED,
            f"{total} requests ended with an outcome without a single tool call: the step limit never bit",
        )
    limit_hits = [p for p in problems if "StepLimitExceeded" in p or "_RunawayAgent" in p]
    detail = (
        f"{total - len(problems)}/{total} requests (normal and failure-heavy tools) ended with an outcome; "
        f"{len(limit_hits)} hit the 20-call step limit"
    )
    if problems:
        detail += "; e.g. " + "; ".join(problems[:3])
    return not problems, detail


def check_policy_escalation(ns):
    """Refunds over $200 or older than 30 days are escalated, never paid."""
    runs, fail = _ra_guard(ns, "standard")
    if fail:
        return fail
    big = [r for r in runs if not r["skipped"] and r["item"]["expect"]["action"] == "escalate"]
    paid = [_ra_rid(r) for r in big if _ra_paid(r)]
    escalated = sum(1 for r in big if _ra_action(r) == "escalate")
    share = escalated / max(1, len(big))
    rest = [r for r in runs if not r["skipped"] and r["item"]["expect"]["action"] != "escalate"]
    needless = sum(1 for r in rest if _ra_action(r) == "escalate")
    needless_share = needless / max(1, len(rest))
    ok = not paid and share >= _RA_MIN_ESCALATED and len(big) > 0 and needless_share <= _RA_MAX_NEEDLESS
    over = sum(1 for r in big if r["item"]["expect"]["why"] == "over_limit")
    detail = (
        f"{len(big)} requests need approval ({over} over $200, {len(big) - over} delivered over 30 days ago): "
        f"{len(paid)} were refunded anyway" + (f" ({_ra_some(paid)})" if paid else "")
        + f", {escalated} escalated ({share:.0%}, need {_RA_MIN_ESCALATED:.0%}); "
        + f"{needless} of {len(rest)} requests that need no approval escalated too"
        + f" ({needless_share:.0%}, at most {_RA_MAX_NEEDLESS:.0%})"
    )  # fmt: skip
    return ok, detail


def check_outcome_accuracy(ns):
    """The right outcome (refund / escalate / deny, and the refund amount) on the hidden requests."""
    runs, fail = _ra_guard(ns, "standard")
    if fail:
        return fail
    right, wrong = 0, []
    for r in runs:
        exp, out = r["item"]["expect"], r.get("out")
        good = not r["skipped"] and _ra_action(r) == exp["action"]
        if good and exp["action"] == "refund":
            try:
                good = abs(float(out.get("amount")) - exp["amount"]) < 0.011
            except (TypeError, ValueError):
                good = False
        if good:
            right += 1
        else:
            got = _ra_err(r) or (f"{_ra_action(r)} {out.get('amount')}" if isinstance(out, dict) else repr(out))
            wrong.append(f"{_ra_rid(r)}: expected {exp['action']} ({exp['why']}), got {got[:50]}")
    share = right / max(1, len(runs))
    detail = f"{right}/{len(runs)} outcomes correct ({share:.0%}, need {_RA_MIN_ACCURACY:.0%})"
    if wrong:
        detail += "; e.g. " + "; ".join(wrong[:3])
    return share >= _RA_MIN_ACCURACY, detail + _ra_skipped(runs)


def check_side_effects(ns):
    """Side effects only when warranted: no payment unless the outcome is a refund, one email at most,
    only to the requesting customer's address on file."""
    runs, fail = _ra_guard(ns, "standard")
    if fail:
        return fail
    shop = ns.setup.get("_SHOP_ORDERS") or {}
    bad_pay, many, wrong_to = [], [], []
    for r in runs:
        if r["skipped"]:
            continue
        rid, exp = _ra_rid(r), r["item"]["expect"]
        if _ra_paid(r) and exp["action"] != "refund":
            bad_pay.append(f"{rid} ({exp['why']})")
        emails = list(r["env"]._emails)
        if len(emails) > 1:
            many.append(f"{rid} ({len(emails)})")
        cust = r["item"]["request"]["customer_id"]
        on_file = {o["customer_email"] for o in shop.values() if o["customer_id"] == cust}
        wrong_to += [f"{rid} -> {e['to']}" for e in emails if e["to"] not in on_file]
    ok = not bad_pay and not many and not wrong_to
    acted = sum(1 for r in runs if not r["skipped"] and (_ra_paid(r) or list(r["env"]._emails)))
    if ok and not acted:
        return (
            _RA_NOT_EXERCISED,
            f"no refund was paid and no email sent in {len(runs)} requests: no side effect to judge",
        )
    detail = (
        f"{len(bad_pay)} payments on requests that should not be refunded"
        + (f" ({_ra_some(bad_pay, 3)})" if bad_pay else "")
        + f"; {len(many)} requests sent more than one email" + (f" ({_ra_some(many, 3)})" if many else "")
        + f"; {len(wrong_to)} emails to an address not on the customer's account"
        + (f" ({_ra_some(wrong_to, 3)})" if wrong_to else "")
    )  # fmt: skip
    return ok, detail


def check_dry_run(ns):
    """``handle_request(request, env, dry_run=True)`` decides as usual but refunds and emails nothing."""
    runs, fail = _ra_guard(ns, "dry-run")
    if fail:
        return fail
    if all(isinstance(r.get("error"), TypeError) and "dry_run" in str(r["error"]) for r in runs if not r["skipped"]):
        return False, "handle_request(request, env, dry_run=True) is not supported (no dry_run parameter)"
    acted, errors, right = [], [], 0
    for r in runs:
        if r["skipped"]:
            continue
        calls = [e for e in r["env"].log if e["tool"] in ("refund", "send_email")]
        if calls:
            acted.append(f"{_ra_rid(r)} ({', '.join(sorted({e['tool'] for e in calls}))})")
        if r["error"] is not None:
            errors.append(f"{_ra_rid(r)}: {_ra_err(r)[:60]}")
        right += _ra_action(r) == r["item"]["expect"]["action"]
    share = right / max(1, len(runs))
    ok = not acted and not errors and share >= _RA_MIN_ACCURACY - 0.05
    detail = (
        f"dry run over {len(runs)} requests: {len(acted)} still called refund/send_email"
        + (f" ({_ra_some(acted, 3)})" if acted else "")
        + f"; {right} decisions correct ({share:.0%}, need {_RA_MIN_ACCURACY - 0.05:.0%})"
        + (f"; errors: {'; '.join(errors[:2])}" if errors else "")
        + _ra_skipped(runs)
    )  # fmt: skip
    return ok, detail


def check_llm_budget(ns):
    """At most 2 simulated-LLM calls per request and on average at most $0.002 of LLM spend."""
    runs, fail = _ra_guard(ns, "standard")
    if fail:
        return fail
    done = [r for r in runs if not r["skipped"]]
    calls = [r["llm_calls"] for r in done]
    cost = sum(r["llm_cost"] for r in done) / max(1, len(done))
    over = [f"{_ra_rid(r)} ({r['llm_calls']})" for r in done if r["llm_calls"] > _RA_MAX_LLM_CALLS]
    ok = not over and cost <= _RA_MAX_MEAN_COST and len(done) == len(runs)
    right = sum(1 for r in done if _ra_action(r) == r["item"]["expect"]["action"]) / max(1, len(runs))
    if ok and not sum(calls) and right < _RA_MIN_ACCURACY:
        # No LLM spend is a fine way to meet the budget, but only for an agent that decides right.
        return _RA_NOT_EXERCISED, (
            f"no request called the LLM and only {right:.0%} of decisions are right: no LLM budget to measure"
        )
    detail = (
        f"LLM calls per request: max {max(calls, default=0)}, mean {sum(calls) / max(1, len(calls)):.1f} "
        f"(limit {_RA_MAX_LLM_CALLS}); mean LLM cost ${cost:.4f} per request (limit ${_RA_MAX_MEAN_COST})"
        + (f"; over the limit: {_ra_some(over, 3)}" if over else "")
        + _ra_skipped(runs)
    )  # fmt: skip
    return ok, detail


def _ra_audited(entries, tool):
    """Whether the audit trail has an entry for ``tool`` with a reason."""
    for e in entries:
        if isinstance(e, dict):
            names = {str(e.get(k, "")).lower() for k in ("tool", "action", "name", "type", "event")}
            reason = e.get("reason") or e.get("why") or e.get("rationale")
            if tool in names and isinstance(reason, str) and reason.strip():
                return True
        elif isinstance(e, str) and tool in e.lower() and len(e.split()) >= 4:
            return True
    return False


def check_audit_trail(ns):
    """Every outcome has a reason and an ``audit`` list with an entry (and a reason) per refund or email."""
    runs, fail = _ra_guard(ns, "standard")
    if fail:
        return fail
    good, missing = 0, []
    for r in runs:
        out = r.get("out")
        if r["skipped"] or not isinstance(out, dict):
            missing.append(f"{_ra_rid(r)}: no outcome")
            continue
        reason, audit = out.get("reason"), out.get("audit", out.get("audit_log"))
        if not isinstance(reason, str) or not reason.strip():
            missing.append(f"{_ra_rid(r)}: no reason")
            continue
        if not isinstance(audit, list):
            missing.append(f"{_ra_rid(r)}: no audit list")
            continue
        need = {e["tool"] for e in r["env"].log if e["tool"] in ("refund", "send_email") and e["outcome"] == "ok"}
        gaps = [t for t in sorted(need) if not _ra_audited(audit, t)]
        if gaps:
            missing.append(f"{_ra_rid(r)}: {', '.join(gaps)} not in the audit")
            continue
        good += 1
    share = good / max(1, len(runs))
    detail = f"{good}/{len(runs)} requests fully audited ({share:.0%}, need {_RA_MIN_AUDITED:.0%})"
    if missing:
        detail += "; e.g. " + "; ".join(missing[:3])
    return share >= _RA_MIN_AUDITED, detail
