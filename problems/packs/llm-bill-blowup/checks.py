"""Hidden checks for llm-bill-blowup; they run in the grader process only.

Each model check builds a fresh gateway with the candidate's ``make_gateway(budgets)`` and sends it
a scripted stream of requests (``chat(team, agent, task_id, messages, max_tokens)``) built from
today's system prompt. Every call the gateway makes reaches a ``SimulatedLLM`` twin here (the
primary client, and the one inside ``backup``), so attempts, failures and dollars are counted per
team and task where the candidate's code cannot reach them: the gateway's own counters are never
read. Per scenario the twins run on a virtual clock (``client.sleep`` moves it, nothing waits) with
the scenario's rate limit and failure rates, or a primary outage. A check whose scenario never
reached a model says ``not_exercised``.
"""

import json
import os
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
DATA = Path("/data")
NOT_EXERCISED = "not_exercised"
TEAMS = {"support": "reply-drafter", "search": "query-rewriter", "growth": "lead-enricher", "platform": "ops-planner"}
PRIMARY, SECONDARY = "sim-small", "sim-large"
MAX_TOKENS = 128
GENEROUS = 5.0  # a team budget no scenario reaches, so only the guard under test can refuse

NORMAL_STEPS = 20  # the longest legitimate ops task
LOOP_STEPS = 120  # how long the scripted runaway agent keeps re-planning
LOOP_MAX_STEPS = 40  # it must be stopped by then
STORM_REQUESTS, STORM_RATE_LIMIT, STORM_ANSWERED, STORM_ATTEMPTS, STORM_BACKUP = 60, 20, 0.9, 1.75, 0.1
QUOTA = 0.03
BATCH_REQUESTS, OTHER_REQUESTS = 100, 20
CACHE_DISTINCT, CACHE_REPEATS = 48, 32
OUTAGE_BUDGET, OUTAGE_REQUESTS, OUTAGE_MIN_ANSWERED, OUTAGE_PRIMARY_PER_REQUEST = 0.10, 30, 5, 3.0
COST_MIN, COST_MAX = 0.85, 1.35  # TEAM_DAILY_COST_USD against each team's current daily cost

_STATE: dict = {}


class _Scenario:
    """What the twins do during one scenario, and every model call made in it."""

    def __init__(self, rate_limit=None, server_error_rate=0.0, outage=False):
        self.rate_limit, self.server_error_rate, self.outage = rate_limit, server_error_rate, outage
        self.team, self.task = "", ""
        self.records: list[dict] = []
        self.seen: set[int] = set()


def _system_prompt() -> str:
    if "system" not in _STATE:
        _STATE["system"] = (DATA / "system_prompt.txt").read_text(encoding="utf-8")
    return _STATE["system"]


def _meter(scenario: _Scenario) -> None:
    """Route every twin's ``chat`` through the current scenario (installed once)."""
    from clarify_kit import llm

    _STATE["scenario"] = scenario
    cls = llm.SimulatedLLM
    if getattr(cls.chat, "_clarify_metered", False):
        return
    chat = cls.chat

    def metered_chat(self, messages, *args, **kwargs):
        sc = _STATE["scenario"]
        if self.time_scale:
            self.time_scale = 0
        self.timeout_rate, self.server_error_rate = 0.0, sc.server_error_rate
        self.rate_limit_per_minute = sc.rate_limit if self.model == PRIMARY else None
        if id(self) not in sc.seen:  # a fresh rate-limit window per scenario
            sc.seen.add(id(self))
            self._window.clear()
        rec = {"team": sc.team, "task": sc.task, "model": self.model, "ok": False, "cost": 0.0, "error": None}
        sc.records.append(rec)
        if sc.outage and self.model == PRIMARY:
            self._fail(0.05)
            rec["error"] = "ServerError"
            raise llm.ServerError("500 Internal Server Error: the primary vendor is down")
        try:
            result = chat(self, messages, *args, **kwargs)
        except llm.LLMError as exc:
            rec["error"] = type(exc).__name__
            raise
        rec["ok"], rec["cost"] = True, float(result.cost_usd)
        return result

    metered_chat._clarify_metered = True
    cls.chat = metered_chat


def _request(tag: str, team: str, task: str, text: str) -> dict:
    messages = [{"role": "system", "content": _system_prompt()}, {"role": "user", "content": f"[{tag}] {text}"}]
    return {"team": team, "task": task, "messages": messages}


def _drive(ns, scenario: _Scenario, budgets: dict, requests, stop_on_refusal: bool = False) -> list[dict]:
    """Send ``requests`` through a fresh gateway; one result per request sent."""
    make = ns.get("make_gateway")
    if not callable(make):
        raise LookupError("`make_gateway` is not defined (expected make_gateway(budgets_usd) -> gateway)")
    _meter(scenario)
    ns.fast_sleep(True)
    results = []
    try:
        gateway = make(dict(budgets))
        chat = getattr(gateway, "chat", None)
        if not callable(chat):
            raise TypeError(f"make_gateway() returned {type(gateway).__name__}, which has no chat() method")
        for req in requests:
            scenario.team, scenario.task = req["team"], req["task"]
            first = len(scenario.records)
            out, refused = None, None
            try:
                out = chat(req["team"], TEAMS[req["team"]], req["task"], req["messages"], max_tokens=MAX_TOKENS)
            except Exception as exc:  # a refusal, or a failure of the candidate's gateway
                if type(exc).__name__ == "CandidateError":
                    raise
                refused = f"{type(exc).__name__}: {exc}"[:160]
            calls = scenario.records[first:]
            answered = isinstance(out, str) and bool(out.strip())
            results.append({**req, "out": out, "answered": answered, "refused": refused, "calls": calls})
            if refused and stop_on_refusal:
                break
    finally:
        ns.fast_sleep(False)
    return results


def _run(ns, name: str, build):
    """Run scenario ``name`` once per candidate function (checks may share a scenario)."""
    key = (name, id(ns.get("make_gateway")))
    if key not in _STATE:
        _STATE[key] = build()
    return _STATE[key]


def _spend(results, team: str | None = None) -> float:
    return sum(c["cost"] for r in results if team in (None, r["team"]) for c in r["calls"])


def _calls(results, model: str | None = None, ok: bool | None = None) -> int:
    return sum(1 for r in results for c in r["calls"] if model in (None, c["model"]) and ok in (None, c["ok"]))


def _guarded(check):
    """Turn a missing or broken gateway into a failed check with a readable detail."""

    def run(ns):
        try:
            return check(ns)
        except (LookupError, TypeError, NotImplementedError, AttributeError) as exc:
            return False, f"the gateway could not be used: {type(exc).__name__}: {exc}".strip().rstrip(":")

    run.__name__, run.__doc__ = check.__name__, check.__doc__
    return run


@_guarded
def check_runaway_loop(ns):
    """A task that re-plans forever is stopped within 40 calls; 20-step tasks before and after finish."""

    def build():
        sc = _Scenario()
        budgets = dict.fromkeys(TEAMS, GENEROUS)
        normal = [
            _request("loop", "platform", "t-normal-1", f"Step {i} of rotating the staging certificates: what next?")
            for i in range(1, NORMAL_STEPS + 1)
        ]
        loop, history = [], []
        for i in range(1, LOOP_STEPS + 1):
            if i % 2:
                history.append(f"step {i}: restarted the export job, status unknown")
                text = "Restart the failed nightly export and confirm it is done. History: " + "; ".join(history)
            else:
                text = "Is the nightly export job done? Answer DONE or NOT DONE."
            loop.append(_request("loop", "platform", "t-runaway", text))
        after = [
            _request("loop", "platform", "t-normal-2", f"Step {i} of clearing the stale build caches: what next?")
            for i in range(1, NORMAL_STEPS + 1)
        ]
        first = _drive(ns, sc, budgets, normal)
        runaway = _drive(ns, sc, budgets, loop, stop_on_refusal=True)
        second = _drive(ns, sc, budgets, after)
        return first, runaway, second

    first, runaway, second = _run(ns, "loop", build)
    if not _calls(first + runaway + second):
        return NOT_EXERCISED, "the gateway never called a model: there was no agent loop to stop"
    done = [sum(r["answered"] for r in part) for part in (first, second)]
    stopped = next((i for i, r in enumerate(runaway, 1) if r["refused"]), None)
    detail = (
        f"the runaway task was {f'stopped at step {stopped}' if stopped else 'never stopped'}"
        f" ({len(runaway)} steps sent, {_calls(runaway)} model calls, ${_spend(runaway):.4f});"
        f" normal {NORMAL_STEPS}-step tasks answered {done[0]}/{NORMAL_STEPS} before and {done[1]}/{NORMAL_STEPS} after"
    )
    ok = stopped is not None and stopped <= LOOP_MAX_STEPS and min(done) == NORMAL_STEPS
    if not ok and stopped and stopped > LOOP_MAX_STEPS:
        detail += f"; must stop within {LOOP_MAX_STEPS} steps"
    return ok, detail


@_guarded
def check_retry_storm(ns):
    """Under a 20 requests/minute limit and 5% 500s, 90% of 60 requests are answered with at most
    1.75 attempts per request and at most 10% answered by the 10x pricier backup."""

    def build():
        sc = _Scenario(rate_limit=STORM_RATE_LIMIT, server_error_rate=0.05)
        teams = list(TEAMS)
        reqs = [
            _request("storm", teams[i % 4], f"t-storm-{i}", f"Request {i}: summarise ticket {1000 + i} for the queue.")
            for i in range(STORM_REQUESTS)
        ]
        return _drive(ns, sc, dict.fromkeys(TEAMS, GENEROUS), reqs)

    results = _run(ns, "storm", build)
    attempts = _calls(results)
    if not attempts:
        return NOT_EXERCISED, "the gateway never called a model: nothing was rate limited"
    answered = sum(r["answered"] for r in results)
    limited = sum(1 for r in results for c in r["calls"] if c["error"] == "RateLimitError")
    backup = sum(1 for r in results if any(c["model"] == SECONDARY and c["ok"] for c in r["calls"]))
    n = len(results)
    detail = (
        f"{answered}/{n} answered (need {STORM_ANSWERED:.0%}); {attempts} model attempts,"
        f" {attempts / n:.2f} per request (at most {STORM_ATTEMPTS}), {limited} of them 429s;"
        f" {backup} answered by the backup (at most {STORM_BACKUP:.0%})"
    )
    ok = answered >= STORM_ANSWERED * n and attempts <= STORM_ATTEMPTS * n and backup <= STORM_BACKUP * n
    return ok, detail


@_guarded
def check_team_quotas(ns):
    """A batch job of growth's stops at its $0.03 budget (metered) while support's 20 requests all go through."""

    def build():
        sc = _Scenario()
        batch = [
            _request(
                "quota", "growth", f"t-batch-{i}", f"Enrich lead {i}: company Acme {i} Ltd, domain acme{i}.example."
            )
            for i in range(BATCH_REQUESTS)
        ]
        other = [
            _request("quota", "support", f"t-sup-{i}", f"Draft a reply to ticket {2000 + i} about a late delivery.")
            for i in range(OTHER_REQUESTS)
        ]
        return _drive(ns, sc, dict.fromkeys(TEAMS, QUOTA), batch + other)

    results = _run(ns, "quota", build)
    if not _calls(results):
        return NOT_EXERCISED, "the gateway never called a model: no spend to limit"
    batch = [r for r in results if r["team"] == "growth"]
    other = [r for r in results if r["team"] == "support"]
    spent = _spend(batch)
    slack = max((c["cost"] for r in batch for c in r["calls"]), default=0.0)
    answered_batch = sum(r["answered"] for r in batch)
    answered_other = sum(r["answered"] for r in other)
    detail = (
        f"growth's batch spent ${spent:.4f} of its ${QUOTA} budget ({answered_batch}/{len(batch)} answered);"
        f" support then got {answered_other}/{len(other)} answers (${_spend(other):.4f})"
    )
    ok = spent <= QUOTA + slack + 1e-9 and answered_batch >= 10 and answered_other >= len(other) - 1
    if spent > QUOTA + slack:
        detail += "; the budget was overspent"
    return ok, detail


@_guarded
def check_cache(ns):
    """80 requests of which 32 repeat an earlier prompt exactly: at most 50 model calls, repeats get the same answer."""

    def build():
        import random

        sc = _Scenario()
        distinct = [
            _request("cache", "search", f"t-cache-{i}", f"Rewrite the search query 'blue running shoes size {i}'.")
            for i in range(CACHE_DISTINCT)
        ]
        rng = random.Random(14)
        stream = list(distinct)
        for _ in range(CACHE_REPEATS):
            pos = rng.randrange(1, len(stream) + 1)
            stream.insert(pos, dict(rng.choice(stream[:pos]), task=f"t-cache-r{pos}"))
        return _drive(ns, sc, dict.fromkeys(TEAMS, GENEROUS), stream)

    results = _run(ns, "cache", build)
    calls = _calls(results, ok=True)
    if not _calls(results):
        return NOT_EXERCISED, "the gateway never called a model: nothing to cache"
    answered = sum(r["answered"] for r in results)
    first: dict[str, object] = {}
    differ = 0
    for r in results:
        key = r["messages"][-1]["content"]
        if key in first and r["answered"] and first[key] != r["out"]:
            differ += 1
        first.setdefault(key, r["out"])
    n = len(results)
    detail = (
        f"{calls} successful model calls for {n} requests ({CACHE_DISTINCT} distinct prompts; at most"
        f" {CACHE_DISTINCT + 2}); {answered}/{n} answered; {differ} repeats got a different answer"
    )
    return calls <= CACHE_DISTINCT + 2 and answered >= n - 2 and not differ, detail


@_guarded
def check_failover(ns):
    """During a primary outage requests fail over to the backup, whose (10x) spend stays within the
    team's budget, and the dead primary gets at most 3 attempts per request."""

    def build():
        sc = _Scenario(outage=True)
        reqs = [
            _request(
                "outage", "support", f"t-out-{i}", f"Draft a reply to ticket {3000 + i} asking for an invoice copy."
            )
            for i in range(OUTAGE_REQUESTS)
        ]
        return _drive(ns, sc, dict(dict.fromkeys(TEAMS, GENEROUS), support=OUTAGE_BUDGET), reqs)

    results = _run(ns, "outage", build)
    if not _calls(results):
        return NOT_EXERCISED, "the gateway never called a model: there was no outage to fail over from"
    answered = sum(r["answered"] for r in results)
    primary = _calls(results, model=PRIMARY)
    backup_ok = _calls(results, model=SECONDARY, ok=True)
    spent = _spend(results, "support")
    slack = max((c["cost"] for r in results for c in r["calls"]), default=0.0)
    n = len(results)
    detail = (
        f"{answered}/{n} answered during the outage ({backup_ok} backup calls; need {OUTAGE_MIN_ANSWERED});"
        f" support spent ${spent:.4f} of its ${OUTAGE_BUDGET} budget; {primary} attempts on the dead primary"
        f" ({primary / n:.1f} per request, at most {OUTAGE_PRIMARY_PER_REQUEST:.0f})"
    )
    ok = answered >= OUTAGE_MIN_ANSWERED and spent <= OUTAGE_BUDGET + slack + 1e-9
    ok = ok and primary <= OUTAGE_PRIMARY_PER_REQUEST * n
    if spent > OUTAGE_BUDGET + slack:
        detail += "; the backup's spend went past the budget"
    return ok, detail


def check_daily_cost(ns):
    """TEAM_DAILY_COST_USD is each team's daily cost at today's prompt sizes (85%-135% of it), not a
    long-run average from the months when the system prompt was a third of its size."""
    costs = ns.get("TEAM_DAILY_COST_USD")
    truth = json.loads((GRADING / "truth.json").read_text())
    now, old = truth["current_daily_cost_usd"], truth["six_month_daily_cost_usd"]
    if not isinstance(costs, dict) or not costs:
        return False, "TEAM_DAILY_COST_USD is not a non-empty dict of team -> USD per day"
    bad, shown = [], []
    for team, cost in now.items():
        got = costs.get(team)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            bad.append(f"{team}: missing")
            continue
        shown.append(f"{team} ${float(got):.4f}")
        if not COST_MIN * cost <= float(got) <= COST_MAX * cost:
            bad.append(f"{team}: ${float(got):.4f} is {float(got) / cost:.0%} of today's cost")
            if abs(float(got) - old[team]) < abs(float(got) - cost):
                bad[-1] += " (near the six-month average)"
    detail = "daily cost per team: " + ("; ".join(shown) or "none")
    if bad:
        detail += f". Outside {COST_MIN:.0%}-{COST_MAX:.0%} of today's daily cost: " + "; ".join(bad)
    return not bad, detail
