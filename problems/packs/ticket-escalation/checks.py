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


def _te_level(default="mid"):
    """The level the session is interviewed at (``level.json``, written by the server)."""
    import json
    import os

    try:
        with open(os.path.join(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"), "level.json")) as fh:
            return json.load(fh)["level"]
    except (OSError, ValueError, KeyError, TypeError):
        return default


# Recall in the top 10% by level: a judgement call. Mid is the pack's bar; a staff engineer is
# expected to get more out of the same review budget (the reference reaches 0.53).
_TE_MIN_RECALL = {"junior": 0.36, "mid": 0.42, "senior": 0.45, "staff": 0.48}.get(_te_level(), 0.42)
_TE_MAX_MEDIAN_MS = 50.0
_TE_MIN_AUC = 0.6  # below this the scores carry no signal: leakage and latency are not exercised
_TE_MIN_AP_LIFT = 2.5  # average precision over the whole holdout, as a multiple of the base rate
_TE_NEW_AREA = "payouts"  # launched 2025-10-01: only the last two months of the data have it
_TE_MIN_NEW_AREA_RECALL = 0.60  # of the payouts escalations, in the top 10% of all scores
_TE_PII_ROWS = 300  # holdout tickets re-scored with other contact details
_TE_PII_TOLERANCE = 1e-6  # a score may move by float noise, not by whose email it is
# Contact details of the kind customers paste; two sets, so a score can be compared across them.
_TE_CONTACTS = (
    ("maria.keller@lumenstudio.com", "+44 7700 900417"),
    ("jbrooks@northwind.io", "+1 415-555-0142"),
    ("sam@velvetcafe.co", "+44 7700 900031"),
)
# The candidate's own forecast of recall@10% on new tickets, compared with what its model gets on
# the holdout. A random split puts a re-sent ticket's copies on both sides (an issue that escalates
# is re-sent most), so its estimate runs 0.07-0.11 high on average (sd about 0.05 over seeds);
# after dropping re-sends, or split by time, it lands within a few points. Too high is the failure
# that matters (the support lead plans on it), so that side is tight and stricter with the level;
# too low only needs to stay in range: a train-before-the-launch split is honest but pessimistic
# (about 0.16 low for the reference).
_TE_ESTIMATE_NAME = "EXPECTED_RECALL"
_TE_MAX_OPTIMISM = {"junior": 0.10, "mid": 0.08, "senior": 0.07, "staff": 0.06}.get(_te_level(), 0.08)
_TE_MAX_PESSIMISM = 0.20
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


def _te_scored(ns, need_signal=False):
    """``((scores, y), None)`` for the candidate's holdout scores, or ``(None, result)`` when a check
    cannot go on: no function, an error, non-finite scores, or (``need_signal``) no model."""
    import numpy as np

    if "predict_escalation" not in ns:
        return None, (False, "predict_escalation is not defined")
    try:
        scores, y = _te_scores(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return None, _te_fail(exc)
    if not np.isfinite(scores).all():
        return None, (False, "scores contain NaN or infinite values")
    idle = _te_signal(ns) if need_signal else None
    if idle:
        return None, (NOT_EXERCISED, idle)
    return (scores, y), None


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

    scored, result = _te_scored(ns)
    if scored is None:
        return result
    scores, y = scored
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

    scored, result = _te_scored(ns)
    if scored is None:
        return result
    scores, y = scored
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


def check_post_launch_area(ns):
    """Recall of the holdout's payouts escalations within the top 10% of all scores.

    The payouts area exists only since the 2025-10-01 launch, and there payouts that did not
    arrive go straight to seniors. A model fitted on the months before the launch (or that
    treats the new area as noise) misses them; one fitted and validated on the post-launch
    months catches them.
    """
    import numpy as np

    scored, result = _te_scored(ns, need_signal=True)
    if scored is None:
        return result
    scores, y = scored
    x, _ = _te_holdout()
    k = round(_TE_BUDGET * len(scores))
    top = np.zeros(len(scores), dtype=bool)
    top[np.argsort(-scores, kind="stable")[:k]] = True
    new = (x["product_area"] == _TE_NEW_AREA).to_numpy() & (y == 1)
    recall = float((top & new).sum() / max(1, new.sum()))
    ok = recall >= _TE_MIN_NEW_AREA_RECALL
    return ok, (
        f"{int((top & new).sum())} of {int(new.sum())} escalated {_TE_NEW_AREA} tickets (an area launched "
        f"2025-10-01) in the top {_TE_BUDGET:.0%}: recall {recall:.2f} (needs ≥ {_TE_MIN_NEW_AREA_RECALL:.2f})"
    )


def _te_with_contacts(x, email, phone):
    """``x`` with every email and phone number in the text replaced, and one more contact line."""
    text = x["text"].fillna("").astype(str)
    text = text.str.replace(r"\S+@\S+\.\w+", email, regex=True)
    text = text.str.replace(r"\+\d[\d\- ]{7,}\d", phone, regex=True)
    return x.assign(text=text + f" Reply to {email} or call {phone}.")


def check_pii_not_learned(ns):
    """A ticket's score does not depend on which email address or phone number it contains.

    The same holdout tickets are scored with three different sets of contact details (the ones
    in the text swapped, and one more contact line). A model that masked PII before vectorising
    gives identical scores; one that learned customers' addresses and numbers as features (and
    would ship them inside its vocabulary) moves.
    """
    import numpy as np

    if "predict_escalation" not in ns:
        return False, "predict_escalation is not defined"
    try:
        _te_scores(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return _te_fail(exc)
    idle = _te_signal(ns)
    if idle:
        return NOT_EXERCISED, idle
    x, _ = _te_holdout()
    x = x.iloc[:_TE_PII_ROWS]
    try:
        runs = [_te_predict(ns, _te_with_contacts(x, email, phone)) for email, phone in _TE_CONTACTS]
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return _te_fail(exc)
    if not all(np.isfinite(r).all() for r in runs):
        return False, "scores contain NaN or infinite values once the contact details change"
    diff = max(float(np.abs(runs[0] - r).max()) for r in runs[1:])
    moved = int(sum((np.abs(runs[0] - r) > _TE_PII_TOLERANCE).sum() for r in runs[1:]))
    if diff > _TE_PII_TOLERANCE:
        return False, (
            f"scores move by up to {diff:.3f} when only the email address and phone number change "
            f"({moved} of {2 * len(x)} re-scored tickets): the model learned contact details as features"
        )
    return True, f"{len(x)} tickets scored identically under {len(_TE_CONTACTS)} different emails and phone numbers"


def _te_estimate(value):
    """The candidate's estimate as a share in [0, 1] (a percentage is accepted), or raise."""
    import math

    try:
        estimate = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{_TE_ESTIMATE_NAME} is {type(value).__name__}, not a number") from None
    if 1.0 < estimate <= 100.0:
        estimate /= 100.0  # "52" for 52%
    if not math.isfinite(estimate) or not 0.0 <= estimate <= 1.0:
        raise ValueError(f"{_TE_ESTIMATE_NAME} = {value!r} is not a recall between 0 and 1")
    return estimate


def check_honest_estimate(ns):
    """The recall the candidate expects on new tickets is close to what its model gets on them.

    The brief asks for ``EXPECTED_RECALL`` next to the model. Near-duplicates mostly damage
    the evaluation, not the model (a re-send is real signal at scoring time), so this is where
    they show: an estimate from a random split that leaves copies of the same ticket in train and
    test is over-optimistic by 0.07-0.11 on average on this data (it fails in most draws, not in
    every one); one from a split by time or after dropping re-sends is within a few points of the
    holdout. No estimate given: not exercised.
    """

    if _TE_ESTIMATE_NAME not in ns or ns.get(_TE_ESTIMATE_NAME) is None:
        return NOT_EXERCISED, f"no {_TE_ESTIMATE_NAME}: the candidate gave no recall estimate to compare"
    try:
        estimate = _te_estimate(ns.get(_TE_ESTIMATE_NAME))
    except (TypeError, ValueError) as exc:
        return False, str(exc)
    scored, result = _te_scored(ns, need_signal=True)
    if scored is None:
        return result
    scores, y = scored
    caught, _ = _te_top_budget(scores, y)
    actual = caught / y.sum()
    gap = estimate - actual
    measured = f"expected recall@10% {estimate:.3f}, measured on new tickets {actual:.3f} ({gap:+.3f})"
    if gap > _TE_MAX_OPTIMISM:
        return False, (
            f"{measured}: over-optimistic by more than {_TE_MAX_OPTIMISM:.2f} (was the validation split "
            "leaking re-sent copies of the same ticket, or older months, into the test side?)"
        )
    if gap < -_TE_MAX_PESSIMISM:
        return False, f"{measured}: more than {_TE_MAX_PESSIMISM:.2f} below what the model achieves"
    return True, f"{measured}: within +{_TE_MAX_OPTIMISM:.2f} / -{_TE_MAX_PESSIMISM:.2f}"
