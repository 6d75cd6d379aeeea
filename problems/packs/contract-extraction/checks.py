"""Hidden checks for contract-extraction.

Every check reads one run of the candidate's ``extract(text)``: first 50 unlabelled contracts
from ``/data/contracts.jsonl`` (load, so the 60 requests-per-minute limit bites), then the
labelled contracts in ``/data/_grading/labelled.jsonl`` (40 representative ones, long ones about
as often as in production, plus 4 extra long ones), back to back. The first check to run does
the run, within a time budget. During the run every
``SimulatedLLM`` returns malformed JSON at least 20% of the time. LLM cost is metered on the
class, so it counts every client the candidate made.
"""

import json
import math
import os
import re
import threading
import time
from pathlib import Path

GRADING = Path(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"))  # the grader's private copy
DATA = Path("/data")
FIELDS = ["supplier_name", "start_date", "end_date", "renewal_terms", "liability_cap", "governing_law", "payment_days"]
RUN_BUDGET_S = 28.0  # real seconds for all contracts
LOAD_CONTRACTS = 50  # unlabelled contracts run first, so the requests-per-minute limit bites
MALFORMED_RATE = 0.2
ACCURACY_MIN = 0.75
FORMATS_MIN = 0.9
MISSING_MIN = 0.9
LONG_MIN = 0.8
BUDGET_USD = 0.003  # $30 a month for 10,000 contracts
PRESENT_MIN = 0.7  # "missing is None" only counts if most fields a contract has do come back
NOT_EXERCISED = "not_exercised"
_STATE: dict = {}
_LOCAL = threading.local()


def _load() -> list[dict]:
    """A burst of unlabelled contracts from /data (load only), then the labelled ones."""
    if "items" not in _STATE:
        lines = (DATA / "contracts.jsonl").read_text(encoding="utf-8").splitlines()[:LOAD_CONTRACTS]
        load = [dict(json.loads(line), set="load", labels=None, meta={"long": False}) for line in lines if line.strip()]
        lines = (GRADING / "labelled.jsonl").read_text(encoding="utf-8").splitlines()
        _STATE["items"] = load + [json.loads(line) for line in lines if line.strip()]
    return _STATE["items"]


def _prepare() -> dict:
    """Meter cost on SimulatedLLM and raise every client's malformed-JSON rate."""
    import gc

    from clarify_kit import llm

    meter = _STATE.setdefault("meter", {"cost": 0.0, "calls": 0})
    for obj in gc.get_objects():
        if isinstance(obj, llm.SimulatedLLM):
            obj.malformed_json_rate = max(obj.malformed_json_rate, MALFORMED_RATE)
    cls = llm.SimulatedLLM
    if getattr(cls.chat, "_clarify_metered", False):
        return meter
    chat = cls.chat

    def metered_chat(self, messages, *args, **kwargs):
        if getattr(_LOCAL, "depth", 0):
            return chat(self, messages, *args, **kwargs)
        _LOCAL.depth = 1
        self.malformed_json_rate = max(self.malformed_json_rate, MALFORMED_RATE)
        try:
            result = chat(self, messages, *args, **kwargs)
            meter["cost"] += result.cost_usd
            return result
        finally:
            meter["calls"] += 1
            _LOCAL.depth = 0

    metered_chat._clarify_metered = True
    cls.chat = metered_chat
    return meter


def _run(ns: dict) -> tuple[list[dict] | None, str]:
    fn = ns.get("extract")
    if not callable(fn):
        return None, "`extract` is not defined (expected a function extract(contract_text: str) -> dict)"
    if _STATE.get("run_for") is fn:
        return _STATE["rows"], ""
    items = _load()
    try:
        meter = _prepare()
    except ImportError as exc:
        return None, f"could not load clarify_kit to meter LLM calls: {exc}"
    rows = []
    started = time.perf_counter()
    for item in items:
        row = {"item": item, "out": None, "error": None, "error_type": None, "cost": 0.0, "calls": 0}
        if time.perf_counter() - started > RUN_BUDGET_S:
            row["error"], row["error_type"] = "not run: the time budget for all contracts was used up", "budget"
            rows.append(row)
            continue
        cost0, calls0 = meter["cost"], meter["calls"]
        try:
            out = fn(item["text"])
            if isinstance(out, dict):
                row["out"] = out
            else:
                row["error"], row["error_type"] = f"extract() returned {type(out).__name__}, not dict", "type"
        except Exception as exc:  # noqa: BLE001 - any failure is the candidate's, report it
            row["error"], row["error_type"] = f"{type(exc).__name__}: {exc}"[:200], type(exc).__name__
        row["cost"], row["calls"] = meter["cost"] - cost0, meter["calls"] - calls0
        rows.append(row)
    _STATE["run_for"], _STATE["rows"] = fn, rows
    return rows, ""


def _same(field: str, got, want) -> bool:
    if want is None:
        return got is None
    if got is None or isinstance(got, bool):
        return False
    if field == "liability_cap":
        try:
            return math.isclose(float(got), float(want), rel_tol=0.005)
        except (TypeError, ValueError):
            return False
    if field == "payment_days":
        try:
            return float(got) == float(want)
        except (TypeError, ValueError):
            return False
    if field == "supplier_name":
        norm = lambda s: " ".join(re.sub(r"[^\w&]+", " ", str(s).lower()).split())  # noqa: E731
        return norm(got) == norm(want)
    if field in ("start_date", "end_date"):
        return str(got).strip() == want
    return str(got).strip().lower() == str(want).lower()


def _field_pairs(rows: list[dict], fields: list[str], want_present: bool | None = None):
    for r in rows:
        labels = r["item"]["labels"]
        for f in fields:
            if want_present is True and labels[f] is None:
                continue
            if want_present is False and labels[f] is not None:
                continue
            got = r["out"].get(f) if r["out"] is not None else None
            yield r, f, got, labels[f]


def _score(pairs) -> tuple[int, int, list[str]]:
    good = total = 0
    bad: list[str] = []
    for r, f, got, want in pairs:
        total += 1
        if r["out"] is not None and _same(f, got, want):
            good += 1
        elif len(bad) < 4:
            shown = r["error"] if r["out"] is None else repr(got)
            bad.append(f"{r['item']['id']}.{f}: got {shown[:60]}, expected {want!r}")
    return good, total, bad


def _rate(ns: dict, sel, fields, minimum: float, what: str, want_present=None) -> tuple[bool, str]:
    rows, err = _run(ns)
    if rows is None:
        return False, err
    chosen = [r for r in rows if sel(r)]
    good, total, bad = _score(_field_pairs(chosen, fields, want_present))
    if not total:
        return False, f"no {what} to check"
    rate = good / total
    detail = f"{good}/{total} {what} correct ({rate:.0%}; need {minimum:.0%})"
    if bad:
        detail += ". Wrong, e.g.: " + "; ".join(bad)
    return rate >= minimum, detail


def _labelled(row: dict) -> bool:
    return row["item"]["set"] != "load"


def check_field_accuracy(ns: dict) -> tuple[bool, str]:
    """Field-level accuracy over every field of the representative contracts."""
    return _rate(ns, lambda r: r["item"]["set"] == "representative", FIELDS, ACCURACY_MIN, "fields")


def check_formats(ns: dict) -> tuple[bool, str]:
    """Dates and liability caps that come back are right: YYYY-MM-DD read with the right locale, plain numbers."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    pairs = [
        p
        for p in _field_pairs(
            [r for r in rows if _labelled(r) and r["out"] is not None],
            ["start_date", "end_date", "liability_cap"],
            want_present=True,
        )
    ]
    returned = [p for p in pairs if p[2] is not None]
    if len(returned) < 0.5 * max(len(pairs), 1):
        return False, f"only {len(returned)} of {len(pairs)} dates and liability caps came back at all"
    good, total, bad = _score(returned)
    rate = good / total
    detail = f"{good}/{total} returned dates and liability caps are right ({rate:.0%}; need {FORMATS_MIN:.0%})"
    if bad:
        detail += ". Wrong, e.g.: " + "; ".join(bad)
    return rate >= FORMATS_MIN, detail


def check_missing_fields(ns: dict) -> tuple[bool, str]:
    """Fields a contract does not have come back as None, not as an invented value, while the
    fields it has do come back (returning None everywhere is not handling missing fields)."""
    ok, detail = _rate(ns, _labelled, FIELDS, MISSING_MIN, "absent fields returned as None", want_present=False)
    rows, _ = _run(ns)
    if rows is None:
        return ok, detail
    present = list(_field_pairs([r for r in rows if _labelled(r)], FIELDS, want_present=True))
    filled = sum(1 for r, _f, got, _w in present if r["out"] is not None and got is not None)
    share = filled / max(len(present), 1)
    detail += f"; {filled}/{len(present)} fields the contracts have came back ({share:.0%}; need {PRESENT_MIN:.0%})"
    return ok and share >= PRESENT_MIN, detail


def check_long_contracts(ns: dict) -> tuple[bool, str]:
    """Contracts longer than sim-small's context are processed, including terms deep in the text."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    long_rows = [r for r in rows if r["item"]["meta"]["long"]]
    crashed = [r for r in long_rows if r["out"] is None]
    ok, detail = _rate(
        ns, lambda r: r["item"]["meta"]["long"], FIELDS, LONG_MIN, f"fields of {len(long_rows)} long contracts"
    )
    if crashed:
        ok = False
        detail += f"; {len(crashed)} long contracts failed outright, e.g. {crashed[0]['error']}"
    return ok, detail


def _model_calls(rows: list[dict]) -> int:
    return sum(r["calls"] for r in rows)


def _no_errors(ns: dict, kinds: tuple[str, ...], what: str) -> tuple[bool, str]:
    rows, err = _run(ns)
    if rows is None:
        return False, err
    if not _model_calls(rows):
        return NOT_EXERCISED, f"extract() never called the model on {len(rows)} contracts: no API error could occur"
    failed = [r for r in rows if r["error_type"] in kinds]
    incomplete = [r for r in rows if r["out"] is not None and set(FIELDS) - set(r["out"])]
    not_run = [r for r in rows if r["error_type"] == "budget"]
    if failed:
        return False, f"{len(failed)} of {len(rows)} contracts raised {what}, e.g.: {failed[0]['error']}"
    if not_run:
        return False, f"{len(not_run)} of {len(rows)} contracts were not reached within {RUN_BUDGET_S:.0f} s"
    if incomplete:
        missing = sorted(set(FIELDS) - set(incomplete[0]["out"]))
        return False, f"{len(incomplete)} results lack fields, e.g. {incomplete[0]['item']['id']} has no {missing}"
    others = [r for r in rows if r["error"]]
    done = len(rows) - len(others)
    if done < 0.8 * len(rows):
        return False, f"only {done} of {len(rows)} contracts returned a result; e.g.: {others[0]['error']}"
    detail = f"all {len(rows)} contracts returned a complete dict without {what}"
    if others:
        detail = (
            f"no contract raised {what}; {len(others)} failed otherwise (see the other checks),"
            f" e.g.: {others[0]['error']}"
        )
    return True, detail


def check_malformed_json(ns: dict) -> tuple[bool, str]:
    """extract() never raises on malformed JSON from the model (20% of replies during the check)."""
    return _no_errors(
        ns,
        ("JSONDecodeError", "ValueError", "SyntaxError", "KeyError", "TypeError", "AttributeError", "type"),
        "a JSON/parsing error",
    )


def check_rate_limits(ns: dict) -> tuple[bool, str]:
    """Back-to-back extraction of 94 contracts survives the 60 requests/minute limit and transient errors."""
    return _no_errors(
        ns, ("RateLimitError", "TimeoutError", "ServerError", "LLMError"), "an API error (429/timeout/500)"
    )


def check_cost(ns: dict) -> tuple[bool, str]:
    """Average LLM cost per representative contract at most $0.003 ($30 a month for 10,000 contracts)."""
    rows, err = _run(ns)
    if rows is None:
        return False, err
    rep = [r for r in rows if r["item"]["set"] == "representative" and r["error_type"] != "budget"]
    if not rep:
        return False, "no contract was processed"
    if not _model_calls(rep):
        return NOT_EXERCISED, f"extract() never called the model on {len(rep)} contracts: no LLM cost to measure"
    costs = [r["cost"] for r in rep]
    mean = sum(costs) / len(costs)
    calls = sum(r["calls"] for r in rep) / len(rep)
    return mean <= BUDGET_USD, (
        f"average ${mean:.5f} per contract (budget ${BUDGET_USD}; ${mean * 10000:.2f} for 10,000 a month),"
        f" most expensive ${max(costs):.5f}, {calls:.1f} LLM calls per contract"
    )


AMENDED_MIN = 0.8


def check_amended_terms(ns: dict) -> tuple[bool, str]:
    """Terms changed by an amendment after the signatures come back with the amended value.

    The key-terms table at the top of a contract is drafted at signing and never updated, so a
    regex over it (or a model that takes the first value it sees) returns the old end date, cap
    or payment term. Only the fields the amendment changed are scored here.
    """
    rows, err = _run(ns)
    if rows is None:
        return False, err
    amended = [r for r in rows if _labelled(r) and r["item"]["meta"].get("amended")]
    if not amended:
        return False, "no amended contract among the labelled ones (the grading data is broken)"
    pairs = []
    for r in amended:
        out = r["out"] if isinstance(r["out"], dict) else {}
        for f in r["item"]["meta"]["amended"]:
            pairs.append((r, f, out.get(f), r["item"]["labels"][f]))
    good, total, bad = _score(pairs)
    stale = sum(1 for _r, _f, got, want in pairs if got is not None and not _same(_f, got, want))
    rate = good / max(total, 1)
    detail = (
        f"{good}/{total} amended fields of {len(amended)} amended contracts carry the amended value "
        f"({rate:.0%}; need {AMENDED_MIN:.0%}); {stale} came back with another (e.g. the key-terms table's) value"
    )
    if bad:
        detail += ". Wrong, e.g.: " + "; ".join(bad)
    return rate >= AMENDED_MIN, detail
