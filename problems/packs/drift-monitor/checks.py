"""Hidden checks for the drift-monitor pack (run in the grading kernel).

Every check calls the candidate's ``detect_drift(daily, reference)`` on a held-out 12-week
period (``/data/_grading/holdout_daily.csv``) whose planted drifts are listed in
``/data/_grading/truth.json``. An alert is "explained" when it is dated on or after a planted
drift's start and names the drifted feature or category (or the model output it moved);
every other alert is false. False alerts are counted as pages: days with at least one.
"""

import copy as _dm_copy
import json as _dm_json
import os as _dm_os
import time as _dm_time

import pandas as _dm_pd

_DM_GRADING = _dm_os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading")  # the grader's private copy
try:  # the level the session is interviewed at (level.json, written by the server)
    with open(f"{_DM_GRADING}/level.json") as _dm_fh:
        _DM_LEVEL = _dm_json.load(_dm_fh)["level"]
except (OSError, ValueError, KeyError, TypeError):
    _DM_LEVEL = "mid"
# False-alert days allowed per four weeks over the whole period, on top of "at most one a week":
# a judgement call. Up to senior the weekly budget is the bar (4 per 4 weeks adds nothing); a
# staff engineer owns the on-call load, so at most one false page a month on average.
_DM_FALSE_DAYS_PER_4_WEEKS = {"junior": 4, "mid": 4, "senior": 4, "staff": 1}.get(_DM_LEVEL, 4)
_DM_LABEL_COLUMNS = ("n_fraud_reported", "n_flagged_fraud_reported")
_DM_LABEL_WORDS = ("precision", "fraud", "chargeback", "label", "recall")


def _dm_inputs():
    daily = _dm_pd.read_csv(f"{_DM_GRADING}/holdout_daily.csv", parse_dates=["date"])
    with open("/data/reference.json") as fh:
        reference = _dm_json.load(fh)
    with open(f"{_DM_GRADING}/truth.json") as fh:
        truth = _dm_json.load(fh)
    return daily, reference, truth


def _dm_run(ns, daily, reference):
    """(alerts, error): alerts as dicts with a normalised date, lower-case feature/segment/reason."""
    fn = ns.get("detect_drift")
    if not callable(fn):
        return None, "detect_drift is not defined"
    try:
        out = fn(daily.copy(), _dm_copy.deepcopy(reference))
    except Exception as exc:  # noqa: BLE001 - the candidate's code may raise anything
        return None, f"detect_drift raised {type(exc).__name__}: {exc}"
    if isinstance(out, _dm_pd.DataFrame):
        out = out.to_dict("records")
    if out is None:
        return None, "detect_drift returned None; expected a list of alert dicts"
    try:
        out = list(out)
    except TypeError:
        return None, f"detect_drift returned {type(out).__name__}; expected a list of alert dicts"
    alerts = []
    for a in out:
        if not isinstance(a, dict):
            return None, f"an alert is a {type(a).__name__}, expected a dict with date, feature, segment, reason"
        date = _dm_pd.to_datetime(a.get("date"), errors="coerce")
        alerts.append(
            {
                "date": None if _dm_pd.isna(date) else _dm_pd.Timestamp(date).normalize(),
                "feature": str(a.get("feature", "") or "").lower(),
                "segment": str(a.get("segment", "") or "").lower(),
                "reason": str(a.get("reason", "") or "").lower(),
            }
        )
    return alerts, None


_DM_OUTPUT_WORDS = ("score", "flag", "decision")
_DM_OUTPUT_DAYS = 7  # an alert on the model's output is explained by a drift that began this recently
NOT_EXERCISED = "not_exercised"


def _dm_explained(alert, truth):
    """An alert is explained by a planted drift that had begun when it fired, if it names that
    drift's feature, or its category (for a drift in one category), or the model output it moved
    in the drift's first week and in the drifted category. Anything else pages someone for nothing."""
    if alert["date"] is None:
        return False
    feature = alert["feature"] or alert["reason"]
    for drift in truth["drifts"]:
        start = _dm_pd.Timestamp(drift["start"])
        if alert["date"] < start:
            continue
        in_segment = drift["segment"] == "all" or drift["segment"] in alert["segment"]
        if drift["feature"] in feature and in_segment:
            return True
        if drift["segment"] != "all" and drift["segment"] in alert["segment"]:
            return True
        recent = alert["date"] <= start + _dm_pd.Timedelta(days=_DM_OUTPUT_DAYS - 1)
        if recent and in_segment and any(w in feature for w in _DM_OUTPUT_WORDS):
            return True
    return False


def _dm_caught(alerts, start, days, feature=None, segment=None):
    lo = _dm_pd.Timestamp(start)
    hi = lo + _dm_pd.Timedelta(days=days - 1)
    hits = []
    for a in alerts:
        if a["date"] is None or not lo <= a["date"] <= hi:
            continue
        if feature and feature not in (a["feature"] or a["reason"]):
            continue
        if segment and segment not in a["segment"]:
            continue
        hits.append(a)
    return hits


def check_unit_change_caught(ns):
    daily, reference, truth = _dm_inputs()
    alerts, err = _dm_run(ns, daily, reference)
    if err:
        return False, err
    drift = next(d for d in truth["drifts"] if d["kind"] == "upstream-schema-change")
    hits = _dm_caught(alerts, drift["start"], 2, feature=drift["feature"])
    if hits:
        first = min(a["date"] for a in hits).date()
        return True, f"{drift['feature']} switched to cents on {drift['start']}; first alert on it {first}"
    later = [a["date"].date() for a in alerts if a["date"] is not None and drift["feature"] in a["feature"]]
    seen = f"; alerts on it only on {sorted(set(later))[:3]}" if later else "; no alert ever names it"
    return False, f"{drift['feature']} switched to cents on {drift['start']}: no alert on it within 2 days{seen}"


def check_segment_drift_caught(ns):
    daily, reference, truth = _dm_inputs()
    alerts, err = _dm_run(ns, daily, reference)
    if err:
        return False, err
    drift = next(d for d in truth["drifts"] if d["kind"] == "segment-drift")
    hits = _dm_caught(alerts, drift["start"], 5, segment=drift["segment"])
    before = _dm_caught(
        alerts, _dm_pd.Timestamp(drift["start"]) - _dm_pd.Timedelta(days=28), 28, segment=drift["segment"]
    )
    noisy = sorted({a["date"].date() for a in before})
    if hits and len(noisy) > 2:
        return False, (
            f"alerts on {drift['segment']} on {len(noisy)} of the 28 days before its drift began"
            f" ({drift['start']}): catching it proves nothing"
        )
    if hits:
        first = min(hits, key=lambda a: a["date"])
        return True, (
            f"drift in {drift['segment']} from {drift['start']} caught on {first['date'].date()} "
            f"(feature {first['feature'] or '?'})"
        )
    return False, (
        f"{drift['segment']} drifted from {drift['start']} (about 2% of all traffic): "
        f"no alert for that category within 5 days ({len(alerts)} alerts in total)"
    )


def _dm_deaf(alerts, truth):
    """A monitor that never catches a planted drift is quiet for the wrong reason."""
    for drift in truth["drifts"]:
        feature = drift["feature"] if drift["segment"] == "all" else None
        segment = None if drift["segment"] == "all" else drift["segment"]
        if _dm_caught(alerts, drift["start"], 7, feature=feature, segment=segment):
            return False
    return True


def check_quiet_through_seasonality(ns):
    daily, reference, truth = _dm_inputs()
    alerts, err = _dm_run(ns, daily, reference)
    if err:
        return False, err
    if _dm_deaf(alerts, truth):
        return (
            False,
            f"catches none of the planted drifts within a week ({len(alerts)} alerts), so quiet proves nothing",
        )
    first_drift = min(_dm_pd.Timestamp(d["start"]) for d in truth["drifts"])
    holiday = {_dm_pd.Timestamp(h) for h in truth["holiday"]}
    false = [a for a in alerts if not _dm_explained(a, truth)]
    on_holiday = sorted({a["date"].date() for a in false if a["date"] in holiday})
    on_weekend = sorted(
        {
            a["date"].date()
            for a in false
            if a["date"] is not None
            and a["date"] < first_drift
            and a["date"].weekday() >= 5
            and a["date"] not in holiday
        }
    )
    ok = len(on_holiday) <= 1 and len(on_weekend) <= 1
    return ok, (
        f"false alerts on {len(on_holiday)} of {len(holiday)} sale days (max 1) and on "
        f"{len(on_weekend)} ordinary weekend days before the first drift (max 1)"
        + (f"; e.g. {on_holiday[:2] or on_weekend[:2]}" if not ok else "")
    )


def check_false_alert_budget(ns):
    daily, reference, truth = _dm_inputs()
    alerts, err = _dm_run(ns, daily, reference)
    if err:
        return False, err
    if _dm_deaf(alerts, truth):
        return (
            False,
            f"catches none of the planted drifts within a week ({len(alerts)} alerts), so quiet proves nothing",
        )
    days = daily["date"].nunique()
    weeks = days // 7
    false = [a for a in alerts if not _dm_explained(a, truth)]
    false_days = sorted({a["date"].date() if a["date"] is not None else "no date" for a in false}, key=str)
    # The budget is per week (on-call is paged at most once a week), not a total over the period.
    first = daily["date"].min()
    per_week: dict = {}
    for a in false:
        week = -1 if a["date"] is None else (a["date"] - first).days // 7
        per_week.setdefault(week, set()).add(a["date"])
    over = sorted(w for w, d in per_week.items() if len(d) > 1)
    allowed = weeks * _DM_FALSE_DAYS_PER_4_WEEKS // 4
    ok = not over and len(false_days) <= allowed
    detail = (
        f"{len(false_days)} days with false alerts over {weeks} weeks (budget: 1 a week, "
        f"{allowed} in all at {_DM_LEVEL} level);"
        f" {len(over)} weeks over budget" + (f" (weeks {', '.join(str(w + 1) for w in over[:4])})" if over else "")
    )
    detail += f"; {len(alerts)} alerts in total, {len(false)} false"
    if false:
        ex = false[0]
        detail += f"; e.g. {ex['date'].date() if ex['date'] is not None else '?'} {ex['feature']}/{ex['segment']}"
    return ok, detail


def check_works_without_recent_labels(ns):
    daily, reference, truth = _dm_inputs()
    end = daily["date"].max()
    recent = daily["date"] > end - _dm_pd.Timedelta(days=60)
    # 1) the realistic view: recent label counts are incomplete; no alert may rest on them
    alerts, err = _dm_run(ns, daily, reference)
    if err:
        return False, err
    premature = [
        a
        for a in alerts
        if a["date"] is not None
        and a["date"] > end - _dm_pd.Timedelta(days=30)
        and any(w in a["feature"] for w in _DM_LABEL_WORDS)
    ]
    if premature:
        a = premature[0]
        return False, (
            f"{len(premature)} alerts on label metrics for days whose labels are mostly not in yet "
            f"(e.g. {a['date'].date()} {a['feature']})"
        )
    # 2) labels missing altogether for the last 60 days: must still run and still catch drift
    blank = daily.copy()
    for col in _DM_LABEL_COLUMNS:
        if col in blank:
            blank.loc[recent, col] = float("nan")
    alerts, err = _dm_run(ns, blank, reference)
    if err:
        return False, f"with label columns NaN for the last 60 days: {err}"
    drift = next(d for d in truth["drifts"] if d["kind"] == "upstream-schema-change")
    if not _dm_caught(alerts, drift["start"], 2, feature=drift["feature"]):
        return (
            False,
            f"with label columns NaN for the last 60 days the {drift['feature']} unit change is no longer caught",
        )
    return True, "no alerts on immature labels; still catches the unit change with the last 60 days unlabelled"


def check_runs_on_a_year_of_aggregates(ns):
    daily, reference, _ = _dm_inputs()
    parts = []
    for k in range(5):  # about a year: five copies of the 12-week period, back to back
        part = daily.copy()
        part["date"] = part["date"] + _dm_pd.Timedelta(days=84 * k)
        parts.append(part)
    year = _dm_pd.concat(parts, ignore_index=True)
    t0 = _dm_time.perf_counter()
    _alerts, err = _dm_run(ns, year, reference)
    took = _dm_time.perf_counter() - t0
    if err:
        return False, err
    n = year["date"].nunique()
    held, _, truth = _dm_inputs()
    alerts, err = _dm_run(ns, held, reference)
    if not err and _dm_deaf(alerts, truth):
        return NOT_EXERCISED, (
            f"ran {n} days in {took:.1f} s, but it catches none of the planted drifts: there is no monitor to time"
        )
    alert_days = {a["date"] for a in alerts or [] if a["date"] is not None}
    if not err and len(alert_days) > held["date"].nunique() / 2:
        return NOT_EXERCISED, (
            f"ran {n} days in {took:.1f} s, but it alerts on {len(alert_days)} of {held['date'].nunique()} days:"
            " there is no monitor to time"
        )
    return took <= 10, f"{n} days x {year['merchant_category'].nunique()} categories in {took:.1f} s (limit 10 s)"
