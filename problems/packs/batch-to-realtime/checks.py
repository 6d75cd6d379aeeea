"""Hidden checks for the batch-to-realtime pack (run in the grading kernel).

``/data/_grading/requests.json`` holds 600 requests for unseen users in November 2025, shaped as
the production API receives them: ``nightly`` carries only what the online store syncs (no
``active_days_30d``, no ``payment_failures_90d``, no ``sessions_7d``) and is null for users who
signed up that day (40 of them). Each record also has the label and the leak-free batch
features at request time, which define the batch side of the parity check.
"""

import copy as _bt_copy
import json as _bt_json
import math as _bt_math
import os as _bt_os
import time as _bt_time
import warnings as _bt_warnings

import numpy as _bt_np
import pandas as _bt_pd

_BT_GRADING = _bt_os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading")  # the grader's private copy


def _bt_records():
    with open(f"{_BT_GRADING}/requests.json") as fh:
        return _bt_json.load(fh)


def _bt_fn(ns):
    fn = ns.get("score_request")
    return fn if callable(fn) else None


def _bt_score(fn, request):
    """(score, error) for one request; the request is copied so the candidate can't mutate ours."""
    try:
        out = fn(_bt_copy.deepcopy(request))
    except Exception as exc:  # noqa: BLE001 - the candidate's code may raise anything
        return None, f"{type(exc).__name__}: {exc}"
    try:
        p = float(_bt_np.asarray(out, dtype=float).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None, f"returned {type(out).__name__}, not a number"
    if not _bt_math.isfinite(p) or not 0.0 <= p <= 1.0:
        return None, f"returned {p}, not a probability in [0, 1]"
    return p, None


def _bt_auc(y, s):
    y, s = _bt_np.asarray(y), _bt_np.asarray(s, dtype=float)
    ranks = _bt_pd.Series(s).rank().to_numpy()
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


NOT_EXERCISED = "not_exercised"
MIN_RANK_CORR = 0.8  # online scores must order users as the batch model does, not only reach its AUC


def _bt_constant(fn):
    """Why ``fn`` is a constant (the same score for 40 different warm users), or None."""
    scores = []
    for r in [r for r in _bt_records() if not r["cold_start"]][:40]:
        p, err = _bt_score(fn, r["request"])
        if err:
            return None
        scores.append(p)
    if scores and max(scores) - min(scores) < 1e-6:
        return f"every user gets the same score ({scores[0]:.3f}): the scorer reads nothing of the request"
    return None


def check_scores_without_future_fields(ns):
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    warm = [r for r in _bt_records() if not r["cold_start"]][:150]
    failures, scores, t0 = [], [], _bt_time.perf_counter()
    for r in warm:
        p, err = _bt_score(fn, r["request"])
        if err:
            failures.append(err)
        else:
            scores.append(p)
        if _bt_time.perf_counter() - t0 > 20:
            return False, "gave up: scoring the requests took over 20 s"
    if failures:
        return False, (
            f"{len(failures)} of {len(warm)} production-shaped requests failed (they carry no active_days_30d, "
            f"payment_failures_90d or sessions_7d); first: {failures[0]}"
        )
    if max(scores) - min(scores) < 1e-6:
        return False, f"all {len(warm)} requests got the same score ({scores[0]:.3f}); is a model being used?"
    # does the score still move with the centred (future-looking) window when it is present?
    moved = []
    for r in warm[:20]:
        lo, hi = _bt_copy.deepcopy(r["request"]), _bt_copy.deepcopy(r["request"])
        lo["nightly"]["active_days_30d"], hi["nightly"]["active_days_30d"] = 0, 30
        a, err_a = _bt_score(fn, lo)
        b, err_b = _bt_score(fn, hi)
        if err_a or err_b:
            return False, f"a request with an extra nightly.active_days_30d field failed: {err_a or err_b}"
        moved.append(abs(a - b))
    if max(moved) > 0.02:
        return False, (
            f"all {len(warm)} requests scored, but the score moves by up to {max(moved):.2f} with active_days_30d, "
            "a centred rolling window that counts 15 days after the scoring date"
        )
    return True, f"all {len(warm)} production-shaped requests scored; score ignores active_days_30d"


def check_cold_start_default(ns):
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    cold = [r for r in _bt_records() if r["cold_start"]]
    scores, failures = [], []
    for r in cold:
        p, err = _bt_score(fn, r["request"])
        (failures if err else scores).append(err or p)
    if failures:
        return False, f"{len(failures)} of {len(cold)} brand-new users (nightly is null) failed; first: {failures[0]}"
    mean = float(_bt_np.mean(scores))
    constant = _bt_constant(fn)
    if constant:
        return NOT_EXERCISED, f"{constant}, so it has no cold-start path (mean {mean:.2f} for new users)"
    ok = 0.08 <= mean <= 0.6
    return ok, (
        f"{len(cold)} users who signed up today scored; mean {mean:.2f} "
        f"(sensible: 0.08-0.60; new users churn about 26% in the training data)"
    )


def check_latency_p99(ns):
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    records = [r for r in _bt_records() if not r["cold_start"]][:320]
    for r in records[:20]:  # warm-up
        _, err = _bt_score(fn, r["request"])
        if err:
            return False, f"score_request failed during warm-up: {err}"
    times, budget_start = [], _bt_time.perf_counter()
    for r in records[20:]:
        req = _bt_copy.deepcopy(r["request"])
        t0 = _bt_time.perf_counter()
        try:
            fn(req)
        except Exception as exc:  # noqa: BLE001 - the candidate's code may raise anything
            return False, f"score_request raised {type(exc).__name__}: {exc}"
        times.append((_bt_time.perf_counter() - t0) * 1000)
        if _bt_time.perf_counter() - budget_start > 25:
            return False, f"gave up after {len(times)} requests: over 25 s in total"
    p50, p99 = _bt_np.percentile(times, 50), _bt_np.percentile(times, 99)
    constant = _bt_constant(fn)
    if constant:
        return NOT_EXERCISED, f"{constant}, so there is no scoring work to time (p99 {p99:.2f} ms)"
    return p99 <= 50, f"{len(times)} single requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms (budget p99 50 ms)"


def check_online_batch_parity(ns):
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    from sklearn.linear_model import LogisticRegression

    records = _bt_records()
    online, failures, t0 = [], 0, _bt_time.perf_counter()
    for r in records:
        p, err = _bt_score(fn, r["request"])
        failures += err is not None
        online.append(_bt_np.nan if err else p)
        if _bt_time.perf_counter() - t0 > 22:  # slow scorer: compare on the users scored so far
            break
    if len(online) < 300:
        return False, f"only {len(online)} of {len(records)} requests scored in 22 s; too few to compare"
    records = records[: len(online)]
    if failures:
        return False, f"{failures} of {len(records)} requests failed, so online and batch can't be compared"
    y = _bt_np.array([r["churned_30d"] for r in records])

    # the batch side: the nightly job's own features at request time, leak-free, with its model retrained
    cols = ["tenure_days", "sessions_7d", "sessions_30d", "minutes_30d", "days_since_last_session", "tickets_30d"]

    def matrix(df):
        X = _bt_np.log1p(df[cols].clip(lower=0).to_numpy(dtype=float))
        cats = _bt_np.column_stack([(df["plan"] == "basic"), (df["plan"] == "pro"), (df["platform"] == "ios"),
                                    (df["platform"] == "android")]).astype(float)  # fmt: skip
        return _bt_np.column_stack([X, cats])

    train = _bt_pd.read_csv("/data/training.csv")
    batch = _bt_pd.DataFrame([r["batch_features"] for r in records])
    model = LogisticRegression(max_iter=2000).fit(matrix(train), train["churned_30d"])
    batch_scores = model.predict_proba(matrix(batch))[:, 1]
    auc_batch, auc_online = _bt_auc(y, batch_scores), _bt_auc(y, online)
    with _bt_warnings.catch_warnings():
        _bt_warnings.simplefilter("ignore")
        rank_corr = float(_bt_pd.Series(online).corr(_bt_pd.Series(batch_scores), method="spearman"))
    rank_corr = rank_corr if _bt_math.isfinite(rank_corr) else 0.0
    ok = auc_online >= auc_batch - 0.05 and rank_corr >= MIN_RANK_CORR
    return ok, (
        f"AUC on {len(records)} unseen users: online {auc_online:.3f} vs batch {auc_batch:.3f} "
        f"(allowed gap 0.05); rank correlation with batch scores {rank_corr:.2f} (need {MIN_RANK_CORR})"
    )


PIT_USERS = 60  # warm users replayed with later events in the request
FRESH_USERS = 60  # warm users given a burst of sessions just before the request
FRESH_MINUTES = 45  # the burst is at most this old when the request arrives
FRESH_MIN_SHARE = 0.9  # share of those users whose score must move
SCORE_TOLERANCE = 1e-6


def _bt_shifted(ts, minutes):
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(str(ts)) + timedelta(minutes=minutes)).isoformat(timespec="minutes")


def _bt_pairs(fn, records, change):
    """(scores before, scores after ``change(request)``) for each record, or an error string."""
    before, after = [], []
    for r in records:
        a, err = _bt_score(fn, r["request"])
        if err:
            return None, None, err
        req = _bt_copy.deepcopy(r["request"])
        change(req)
        b, err = _bt_score(fn, req)
        if err:
            return None, None, err
        before.append(a)
        after.append(b)
    return _bt_np.array(before), _bt_np.array(after), None


def check_point_in_time_features(ns):
    """A request replayed later, when the session store also holds the sessions that came after
    its ``ts``, scores exactly as it did live.

    The features of a user at time t must be the batch features computed point-in-time at t: a
    session after t (a replay or backfill reads today's store; device clocks run ahead) is a
    future event and must not count. The same warm users are scored as they came, then with
    sessions from 2 minutes to 3 days after ``ts`` mixed into ``recent_sessions``.
    """
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    records = [r for r in _bt_records() if not r["cold_start"]][:PIT_USERS]
    offsets = (2, 45, 6 * 60, 26 * 60, 3 * 24 * 60 - 30)

    def add_future(req):
        later = [{"ts": _bt_shifted(req["ts"], m), "minutes": 9.5} for m in offsets]
        req["recent_sessions"] = [later[0], *(req.get("recent_sessions") or []), *later[1:]]

    before, after, err = _bt_pairs(fn, records, add_future)
    if err:
        return False, f"a request with sessions after its ts failed: {err}"
    constant = _bt_constant(fn)
    if constant:
        return NOT_EXERCISED, f"{constant}: there are no features to compare"
    moved = _bt_np.abs(after - before)
    bad = int((moved > SCORE_TOLERANCE).sum())
    if bad:
        return False, (
            f"{bad} of {len(records)} users score differently (by up to {moved.max():.3f}) once sessions from after "
            "the request's ts are in the store: the online features count future events, so they are not the "
            "point-in-time batch features"
        )
    return True, f"{len(records)} users replayed with {len(offsets)} later sessions each score exactly as live"


def check_fresh_sessions(ns):
    """Sessions from the last 45 minutes change the score: features reflect events minutes old.

    The nightly snapshot is up to a day stale; only ``recent_sessions`` is live. Warm users get
    six sessions in the 45 minutes before the request (a user back in the app right now): a
    scorer that derives its session features from the request sees them and lowers the churn
    risk; one that reads only the nightly snapshot scores as if they never happened.
    """
    fn = _bt_fn(ns)
    if fn is None:
        return False, "score_request is not defined"
    records = [r for r in _bt_records() if not r["cold_start"]][PIT_USERS : PIT_USERS + FRESH_USERS]

    def add_burst(req):
        burst = [{"ts": _bt_shifted(req["ts"], -m), "minutes": 12.0} for m in (44, 36, 27, 19, 11, 3)]
        req["recent_sessions"] = [*(req.get("recent_sessions") or []), *burst]

    before, after, err = _bt_pairs(fn, records, add_burst)
    if err:
        return False, f"a request with sessions from the last {FRESH_MINUTES} minutes failed: {err}"
    constant = _bt_constant(fn)
    if constant:
        return NOT_EXERCISED, f"{constant}: there is no freshness to measure"
    delta = after - before
    moved = float((_bt_np.abs(delta) > SCORE_TOLERANCE).mean())
    lowered = float((delta < -SCORE_TOLERANCE).mean())
    ok = moved >= FRESH_MIN_SHARE and lowered >= FRESH_MIN_SHARE
    return ok, (
        f"six sessions in the last {FRESH_MINUTES} minutes moved the score for {moved:.0%} of {len(records)} users "
        f"and lowered it for {lowered:.0%} (need {FRESH_MIN_SHARE:.0%} both; mean change {delta.mean():+.3f})"
    )
