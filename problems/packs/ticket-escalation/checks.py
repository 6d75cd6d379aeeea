"""Hidden checks for ticket-escalation; they run in the grading kernel only.

Each ``check_*`` takes the candidate's namespace and returns ``(passed, detail)``. The holdout is
Dec 2025-Jan 2026 (after the data ends, post-launch mix). It has the label but not the columns that
are filled after triage (``agent_tier``, ``resolution_hours``); the label is removed before the
candidate's function sees the rows. This file runs in the grader's own process
(problems/README.md), never in the candidate's; helper names keep the ``_te_`` prefix.
"""

_TE_HOLDOUT_PATHS = (
    __import__("os").environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading") + "/holdout.csv",  # the grader's private copy
)
_TE_LEAKY = ("agent_tier", "resolution_hours")
_TE_BUDGET = 0.10  # seniors review 10% of tickets
_TE_MIN_RECALL = 0.42
_TE_MAX_MEDIAN_MS = 50.0
_TE_MIN_AUC = 0.6  # below this the scores carry no signal: leakage and latency are not exercised
_TE_MIN_AP_LIFT = 2.5  # average precision over the whole holdout, as a multiple of the base rate
NOT_EXERCISED = "not_exercised"
_te_cache: dict = {}


def _te_holdout():
    """The holdout as (features, labels): the label and any post-triage column removed."""
    import os

    import pandas as pd

    for path in _TE_HOLDOUT_PATHS:
        if os.path.exists(path):
            df = pd.read_csv(path, parse_dates=["created_at"])
            y = df["escalated"].to_numpy().astype(int)
            x = df.drop(columns=["escalated", *[c for c in _TE_LEAKY if c in df.columns]])
            return x, y
    raise FileNotFoundError("holdout.csv not found in " + " or ".join(_TE_HOLDOUT_PATHS))


def _te_predict(ns, df):
    """Call the candidate's function and coerce its output to a 1-d float array, or raise."""
    import numpy as np

    fn = ns.get("predict_escalation")
    if fn is None:
        raise LookupError("predict_escalation is not defined")
    if not callable(fn):
        raise TypeError(f"predict_escalation is not a function (got {type(fn).__name__})")
    out = fn(df.copy())
    try:
        scores = np.asarray(out, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"predict_escalation returned {type(out).__name__}, not numeric scores ({exc})") from None
    if scores.ndim == 2 and scores.shape == (len(df), 2):
        scores = scores[:, 1]  # predict_proba output: take the positive class
    scores = scores.reshape(-1) if scores.size == len(df) else scores
    if scores.ndim != 1 or len(scores) != len(df):
        raise ValueError(f"predict_escalation returned shape {scores.shape} for {len(df)} tickets")
    return scores


def _te_scores(ns):
    """Holdout scores and labels, computed once per candidate function."""
    fn = ns.get("predict_escalation")
    key = id(fn)
    if key not in _te_cache:
        x, y = _te_holdout()
        try:
            _te_cache[key] = (_te_predict(ns, x), y, None)
        except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
            _te_cache[key] = (None, y, exc)
    scores, y, exc = _te_cache[key]
    if exc is not None:
        raise exc
    return scores, y


def _te_top_budget(scores, y):
    """Expected escalations caught when reviewing the top ``_TE_BUDGET`` share (ties split evenly)."""
    import numpy as np

    k = _TE_BUDGET * len(scores)
    threshold = np.sort(scores)[::-1][int(np.ceil(k)) - 1]
    above, tied = scores > threshold, scores == threshold
    caught = y[above].sum() + (k - above.sum()) / tied.sum() * y[tied].sum()
    return float(caught), k


def _te_fail(exc):
    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return False, f"predict_escalation failed on new tickets: {error}"


def _te_auc(scores, y):
    import numpy as np
    import pandas as pd

    ranks = pd.Series(np.asarray(scores, dtype=float)).rank().to_numpy()
    pos = np.asarray(y) == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _te_signal(ns):
    """None if the scores rank the holdout better than chance, else why the check was not exercised."""
    import numpy as np

    try:
        scores, y = _te_scores(ns)
    except Exception:  # noqa: BLE001 - the check itself reports the failure
        return None
    if not np.isfinite(scores).all():
        return None
    if np.ptp(scores) == 0:
        return f"every ticket got the same score ({scores[0]:g}): there is no model to measure"
    auc = _te_auc(scores, y)
    if auc < _TE_MIN_AUC:
        return f"the scores rank escalations no better than chance (AUC {auc:.2f}): there is no model to measure"
    return None


def check_no_leakage(ns):
    """Scores new tickets that only have what is known at creation (no agent_tier/resolution_hours)."""
    import numpy as np

    if "predict_escalation" not in ns:
        return False, "predict_escalation is not defined"
    try:
        scores, _ = _te_scores(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        used = [c for c in _TE_LEAKY if c in str(exc)]
        if used:
            return False, (
                f"predict_escalation needs {' and '.join(used)}, which new tickets do not have "
                f"(filled in after triage): {type(exc).__name__}: {exc}"
            )
        return _te_fail(exc)
    bad = int((~np.isfinite(scores)).sum())
    if bad:
        return False, f"{bad} of {len(scores)} scores are NaN or infinite on new tickets"
    idle = _te_signal(ns)
    if idle:
        return NOT_EXERCISED, idle
    return True, f"scored {len(scores)} new tickets without {' or '.join(_TE_LEAKY)}: all scores finite"


def check_recall_at_budget(ns):
    """Recall of escalations within the top 10% of scores on the Dec 2025-Jan 2026 holdout."""
    import numpy as np

    if "predict_escalation" not in ns:
        return False, "predict_escalation is not defined"
    try:
        scores, y = _te_scores(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return _te_fail(exc)
    if not np.isfinite(scores).all():
        return False, "scores contain NaN or infinite values"
    caught, _ = _te_top_budget(scores, y)
    recall = caught / y.sum()
    ok = recall >= _TE_MIN_RECALL
    return ok, (
        f"recall@10% = {recall:.3f} (needs ≥ {_TE_MIN_RECALL:.2f}): "
        f"{caught:.0f} of {int(y.sum())} escalations in the top {_TE_BUDGET:.0%} of {len(y)} new tickets"
    )


def check_beats_base_rate(ns):
    """Average precision over the whole holdout ranking is at least 2.5x the escalation rate.

    Unlike recall in the top 10%, this reads the whole ranking: a model that only separates the
    most obvious escalations and ties or shuffles the rest (as training on imbalanced labels
    without care tends to) falls short.
    """
    import numpy as np

    if "predict_escalation" not in ns:
        return False, "predict_escalation is not defined"
    try:
        scores, y = _te_scores(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return _te_fail(exc)
    if not np.isfinite(scores).all():
        return False, "scores contain NaN or infinite values"
    order = np.argsort(-scores, kind="stable")
    ranked = np.asarray(y)[order]
    hits = np.cumsum(ranked)
    precision_at = hits / np.arange(1, len(ranked) + 1)
    ap = float((precision_at * ranked).sum() / max(ranked.sum(), 1))
    if np.ptp(scores) == 0:
        ap = float(np.mean(y))  # one tie: the ranking is arbitrary
    base = float(np.mean(y))
    lift = ap / base
    ok = lift >= _TE_MIN_AP_LIFT
    return ok, (
        f"average precision {ap:.3f} vs base rate {base:.3f}: lift {lift:.2f}x (needs ≥ {_TE_MIN_AP_LIFT:.1f}x)"
    )


def check_scoring_latency(ns):
    """Median time to score one new ticket (a one-row DataFrame) over 30 calls is under 50 ms."""
    import time

    import numpy as np

    if "predict_escalation" not in ns:
        return False, "predict_escalation is not defined"
    try:
        x, _ = _te_holdout()
        rows = [x.iloc[[i]] for i in range(0, 60, 2)]
        for row in rows[:3]:  # warm-up: caches, lazy imports
            _te_predict(ns, row)
        times = []
        for row in rows:
            start = time.perf_counter()
            _te_predict(ns, row)
            times.append((time.perf_counter() - start) * 1000)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return _te_fail(exc)
    median = float(np.median(times))
    idle = _te_signal(ns)
    if idle:
        return NOT_EXERCISED, f"{idle} (median {median:.1f} ms per call)"
    ok = median < _TE_MAX_MEDIAN_MS
    return ok, (
        f"median {median:.1f} ms per single-ticket call over {len(times)} calls "
        f"(needs < {_TE_MAX_MEDIAN_MS:.0f} ms; p90 {np.percentile(times, 90):.1f} ms)"
    )
