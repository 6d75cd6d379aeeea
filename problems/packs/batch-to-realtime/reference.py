# %% [markdown]
# Reference: online churn scoring without train-serve skew.
#
# * trains only on features the online path can rebuild at request time: `active_days_30d`
#   (a centred rolling window, i.e. 15 days of the future) and `payment_failures_90d` (billing
#   warehouse only, not in the online store) are dropped;
# * one pure-Python feature function for serving, mirrored by a vectorised one for training,
#   and a parity test between them on the training rows;
# * fresh counts from `recent_sessions`, last night's snapshot for the 30-day windows;
# * cold-start users (no nightly row yet) get the same features computed from what exists;
# * the model is a logistic regression stored as plain numbers: microseconds per request;
# * versioned models with an active and a shadow version for rollback.

# %%
import math
from collections import deque
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

train = pd.read_csv("/data/training.csv")
NAMES = ["basic", "pro", "ios", "android", "log_tenure", "log_s7", "log_s30", "log_min30", "log_idle",
         "tickets", "new_user"]  # fmt: skip


def batch_matrix(df: pd.DataFrame) -> np.ndarray:
    """Training/batch features: the same transforms as `request_vector`, vectorised."""
    return np.column_stack([
        (df["plan"] == "basic").astype(float),
        (df["plan"] == "pro").astype(float),
        (df["platform"] == "ios").astype(float),
        (df["platform"] == "android").astype(float),
        np.log1p(df["tenure_days"].clip(lower=0)),
        np.log1p(df["sessions_7d"]),
        np.log1p(df["sessions_30d"]),
        np.log1p(df["minutes_30d"]),
        np.log1p(df["days_since_last_session"].clip(upper=90)),
        df["tickets_30d"].clip(upper=5),
        (df["tenure_days"] < 30).astype(float),
    ])  # fmt: skip


def request_vector(request: dict) -> list[float]:
    """Serving features from the request alone (profile, last 7 days of sessions, nightly row)."""
    ts = datetime.fromisoformat(str(request["ts"]))
    today = ts.date()
    profile = request.get("profile") or {}
    plan, platform = profile.get("plan", "free"), profile.get("platform", "web")
    try:
        signup = date.fromisoformat(str(profile["signup_date"])[:10])
    except (KeyError, ValueError):
        signup = today
    tenure = max(0, (today - signup).days)

    recent = []
    for s in request.get("recent_sessions") or []:
        try:
            recent.append((datetime.fromisoformat(str(s["ts"])), float(s.get("minutes") or 0.0)))
        except (KeyError, TypeError, ValueError):
            continue
    recent = [(t, m) for t, m in recent if ts - timedelta(days=7) < t <= ts]
    s7 = len(recent)

    nightly = request.get("nightly") or {}
    if nightly.get("as_of") is not None:
        as_of = date.fromisoformat(str(nightly["as_of"])[:10])
        newer = [(t, m) for t, m in recent if t.date() > as_of]  # since the snapshot
        s30 = float(nightly.get("sessions_30d") or 0) + len(newer)
        min30 = float(nightly.get("minutes_30d") or 0) + sum(m for _, m in newer)
        tickets = float(nightly.get("tickets_30d") or 0)
        idle = float(nightly.get("days_since_last_session") or 0) + (today - as_of).days
    else:  # cold start: not in last night's snapshot yet; the 7-day store holds all there is
        s30, min30, tickets, idle = float(s7), sum(m for _, m in recent), 0.0, float(tenure)
    if recent:
        idle = float((today - max(t for t, _ in recent).date()).days)
    return [
        float(plan == "basic"), float(plan == "pro"), float(platform == "ios"), float(platform == "android"),
        math.log1p(tenure), math.log1p(s7), math.log1p(s30), math.log1p(min30), math.log1p(min(idle, 90.0)),
        min(tickets, 5.0), float(tenure < 30),
    ]  # fmt: skip


# %% train, with a time-based validation split
def fit(df: pd.DataFrame) -> dict:
    X, y = batch_matrix(df), df["churned_30d"].to_numpy()
    mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-9
    clf = LogisticRegression(C=1.0, max_iter=2000).fit((X - mu) / sd, y)
    w = clf.coef_[0] / sd
    return {"w": w.tolist(), "b": float(clf.intercept_[0] - (w * mu).sum())}


fit_part, valid_part = train[train["as_of"] < "2025-09-30"], train[train["as_of"] == "2025-09-30"]
_m = fit(fit_part)
_p = 1 / (1 + np.exp(-(batch_matrix(valid_part) @ np.array(_m["w"]) + _m["b"])))
print("validation AUC (Sep snapshot, leak-free):", round(roc_auc_score(valid_part["churned_30d"], _p), 3))

# %% serving: versioned models, active + shadow
MODELS = {"2025-10-leakfree": fit(train)}
ACTIVE_VERSION = "2025-10-leakfree"
SHADOW_VERSION: str | None = None  # set to a candidate version to score it on live traffic too
SHADOW_LOG: deque = deque(maxlen=10_000)


def _score(vec: list[float], version: str) -> float:
    m = MODELS[version]
    z = m["b"] + sum(wi * xi for wi, xi in zip(m["w"], vec, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def score_request(request: dict) -> float:
    vec = request_vector(request)
    p = _score(vec, ACTIVE_VERSION)
    if SHADOW_VERSION is not None:
        SHADOW_LOG.append((request.get("user_id"), ACTIVE_VERSION, p, SHADOW_VERSION, _score(vec, SHADOW_VERSION)))
    return p


def rollback(version: str) -> None:
    global ACTIVE_VERSION
    if version not in MODELS:
        raise KeyError(version)
    ACTIVE_VERSION = version


# %% parity: the online transform reproduces the batch transform on the same facts
def _as_request(row: pd.Series) -> dict:
    as_of = date.fromisoformat(row["as_of"])
    return {
        "ts": f"{row['as_of']}T23:59:59",
        "profile": {"plan": row["plan"], "platform": row["platform"],
                    "signup_date": (as_of - timedelta(days=int(row["tenure_days"]))).isoformat()},
        "recent_sessions": [],  # no raw sessions here: compare the features that don't need them
        "nightly": {"as_of": row["as_of"], "sessions_30d": row["sessions_30d"], "minutes_30d": row["minutes_30d"],
                    "tickets_30d": row["tickets_30d"], "days_since_last_session": row["days_since_last_session"]},
    }  # fmt: skip


_rows = train.sample(200, random_state=0)
_online = np.array([request_vector(_as_request(r)) for _, r in _rows.iterrows()])
_same = [i for i, n in enumerate(NAMES) if n != "log_s7"]
assert np.allclose(_online[:, _same], batch_matrix(_rows)[:, _same]), "online/batch feature skew"
