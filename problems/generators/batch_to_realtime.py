"""Deterministic data for the ``batch-to-realtime`` pack.

Writes into the pack folder:

* ``data/training.csv`` - the nightly batch job's feature rows at three month-ends (Jul-Sep 2025)
  with the 30-day churn label;
* ``data/batch_pipeline.py`` - the nightly job's code (copied from ``BATCH_PIPELINE`` below);
* ``data/feature_definitions.csv`` - the feature catalogue of the batch job;
* ``data/sample_requests.json`` - 20 example API requests the platform team mocked from the batch
  tables (they carry every batch column, including two the online store does not have);
* ``data/sessions_sample.csv`` - raw sessions of 40 users, to see what the windows cover;
* ``hidden/requests.json`` - 600 real-shape requests for unseen users in November 2025 (40 of
  them brand-new users), each with its label and the leak-free batch features at request time.

Standard library only, fixed seed: running it twice gives byte-identical files.

    python -m problems.generators.batch_to_realtime [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* train-serve-skew - ``active_days_30d`` is computed with ``rolling(30, center=True)``: it counts
  15 days after the snapshot and nearly gives the label away; ``payment_failures_90d`` comes from
  the billing warehouse only. Real requests carry neither; ``sessions_7d`` must be computed from
  the request's recent sessions.
* latency-budget - nothing in the data; the hidden check times 300 single requests.
* feature-freshness - ``nightly`` values are as of the previous midnight; a request later in the
  day has newer sessions in ``recent_sessions`` only.
* cold-start-users - about 7% of hidden requests are users who signed up that day: ``nightly`` is
  null, few or no sessions. New users churn about twice as often.
* model-versioning, cost - nothing in the data.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20251112
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "batch-to-realtime"

N_TRAIN_USERS, N_HIDDEN_USERS, N_COLD = 4000, 560, 40
SIM_START, SIM_END = date(2025, 3, 1), date(2025, 12, 31)
SNAPSHOTS = [date(2025, 7, 31), date(2025, 8, 31), date(2025, 9, 30)]
HIDDEN_DAYS = (date(2025, 11, 10), date(2025, 11, 20))
PLANS = {"free": 0.55, "basic": 0.30, "pro": 0.15}
PLATFORMS = {"ios": 0.4, "android": 0.4, "web": 0.2}
WEEKDAY = [1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.9]

TRAIN_COLUMNS = [
    "user_id",
    "as_of",
    "plan",
    "platform",
    "tenure_days",
    "sessions_7d",
    "sessions_30d",
    "minutes_30d",
    "days_since_last_session",
    "active_days_30d",
    "tickets_30d",
    "payment_failures_90d",
    "churned_30d",
]
ONLINE_NIGHTLY = ["sessions_30d", "minutes_30d", "tickets_30d", "days_since_last_session"]


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class User:
    def __init__(self, rng: random.Random, uid: str, signup: date) -> None:
        self.uid, self.signup = uid, signup
        self.plan = _pick(rng, PLANS)
        self.platform = _pick(rng, PLATFORMS)
        self.activity = math.exp(rng.gauss(math.log(0.9 if self.platform != "web" else 0.55), 0.7))
        self.minutes = math.exp(rng.gauss(math.log(9), 0.4))
        grumpy = rng.random() < 0.15
        # payment failures (paying plans only)
        self.payment_failures: list[date] = []
        if self.plan != "free":
            rate = 0.25 if rng.random() < 0.12 else 0.02  # per month
            d = max(signup, SIM_START - timedelta(days=90))
            while d <= SIM_END:
                if rng.random() < rate / 30:
                    self.payment_failures.append(d)
                d += timedelta(days=1)
        # churn date from a daily hazard
        base = 1 / (
            1
            + math.exp(
                -(
                    -2.1
                    + 0.45 * (self.plan == "free")
                    - 0.5 * (self.plan == "pro")
                    - 0.7 * math.log(self.activity / 0.9)
                    + 0.6 * grumpy
                )
            )
        )
        pf = set(self.payment_failures)
        self.churn: date | None = None
        d = signup
        while d <= SIM_END + timedelta(days=45):
            tenure = (d - signup).days
            h = base / 30 * (2.6 if tenure < 30 else 1.0)
            if any((d - timedelta(days=k)) in pf for k in range(14)):
                h *= 5
            if rng.random() < h:
                self.churn = d
                break
            d += timedelta(days=1)
        # tickets: more when grumpy, and in the month before churning
        self.tickets: list[date] = []
        d = max(signup, SIM_START - timedelta(days=40))
        while d <= SIM_END:
            if self.churn is not None and d >= self.churn:
                break
            rate = (0.35 if grumpy else 0.08) / 30
            if self.churn is not None and (self.churn - d).days <= 30:
                rate *= 4
            if rng.random() < rate:
                self.tickets.append(d)
            d += timedelta(days=1)
        # sessions, fading out over the three weeks before churn
        self.sessions: list[tuple[datetime, float]] = []
        d = max(signup, SIM_START)
        end = SIM_END if self.churn is None else min(SIM_END, self.churn - timedelta(days=1))
        while d <= end:
            lam = self.activity * WEEKDAY[d.weekday()]
            if (d - signup).days < 3:
                lam *= 1.5  # exploring the product
            if self.churn is not None:
                left = (self.churn - d).days
                if left < 21:
                    lam *= 0.08 + 0.92 * (left / 21) ** 1.3
            for _ in range(_poisson(rng, lam)):
                start_min = rng.randint(7 * 60, 23 * 60 + 59)
                ts = datetime(d.year, d.month, d.day, start_min // 60, start_min % 60)
                self.sessions.append((ts, round(self.minutes * math.exp(rng.gauss(0, 0.6)), 1)))
            d += timedelta(days=1)
        self.sessions.sort()

    def alive_at(self, t: date) -> bool:
        return self.signup <= t and (self.churn is None or self.churn > t)

    def churned_within(self, t: datetime, days: int) -> int:
        return int(self.churn is not None and t.date() < self.churn <= (t + timedelta(days=days)).date())

    def features(self, now: datetime) -> dict[str, object]:
        """Leak-free batch features with every window ending at ``now``."""

        def within(days: int) -> list[tuple[datetime, float]]:
            lo = now - timedelta(days=days)
            return [s for s in self.sessions if lo < s[0] <= now]

        s30 = within(30)
        past = [s for s in self.sessions if s[0] <= now]
        tenure = (now.date() - self.signup).days
        last = (now.date() - past[-1][0].date()).days if past else tenure
        return {
            "plan": self.plan,
            "platform": self.platform,
            "tenure_days": tenure,
            "sessions_7d": len(within(7)),
            "sessions_30d": len(s30),
            "minutes_30d": round(sum(m for _, m in s30), 1),
            "days_since_last_session": min(last, 90),
            "tickets_30d": sum(1 for t in self.tickets if now.date() - timedelta(days=30) < t <= now.date()),
            "payment_failures_90d": sum(
                1 for t in self.payment_failures if now.date() - timedelta(days=90) < t <= now.date()
            ),
        }

    def leaky_active_days(self, as_of: date) -> int:
        """What ``rolling(30, center=True)`` gives at ``as_of``: days as_of-15 .. as_of+14."""
        lo, hi = as_of - timedelta(days=15), as_of + timedelta(days=14)
        return len({s[0].date() for s in self.sessions if lo <= s[0].date() <= hi})


def _end_of(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 23, 59, 59)


def _request(user: User, ts: datetime, *, mocked: bool) -> dict[str, object]:
    """An API request as the online path sees it (``mocked``: as the platform team's samples)."""
    as_of = ts.date() - timedelta(days=1)
    recent = [
        {"ts": s[0].isoformat(timespec="minutes"), "minutes": s[1]}
        for s in user.sessions
        if ts - timedelta(days=7) < s[0] <= ts
    ]
    nightly: dict[str, object] | None = None
    if user.signup <= as_of:
        f = user.features(_end_of(as_of))
        nightly = {"as_of": as_of.isoformat(), **{k: f[k] for k in ONLINE_NIGHTLY}}
        if mocked:  # the mock was built from the batch table: every column is there
            nightly["active_days_30d"] = user.leaky_active_days(as_of)
            nightly["payment_failures_90d"] = f["payment_failures_90d"]
            nightly["sessions_7d"] = f["sessions_7d"]
    return {
        "user_id": user.uid,
        "ts": ts.isoformat(timespec="seconds"),
        "profile": {"plan": user.plan, "platform": user.platform, "signup_date": user.signup.isoformat()},
        "recent_sessions": recent,
        "nightly": nightly,
    }


BATCH_PIPELINE = '''"""Nightly churn scoring. Runs at 02:00 UTC on the warehouse box (cron: churn-nightly).

Reads the warehouse tables, builds one feature row per active user as of yesterday,
scores it with the current model and writes crm.churn_scores, which the retention team's
email tool reads in the morning. The training set (training.csv) was built with the same
build_features() over past month-ends.
"""

from datetime import timedelta

import joblib
import pandas as pd
from warehouse import read_table, write_table  # internal helper around the warehouse client

MODEL_PATH = "/models/churn/current.joblib"
CATEGORICAL = ["plan", "platform"]


def daily_activity(sessions: pd.DataFrame) -> pd.DataFrame:
    """users x calendar days: number of sessions that day."""
    sessions = sessions.assign(day=sessions["ts"].dt.normalize())
    counts = sessions.groupby(["user_id", "day"]).size().unstack(fill_value=0)
    days = pd.date_range(counts.columns.min(), counts.columns.max(), freq="D")
    return counts.reindex(columns=days, fill_value=0)


def build_features(users, sessions, tickets, payments, as_of) -> pd.DataFrame:
    as_of = pd.Timestamp(as_of).normalize()
    end = as_of + timedelta(days=1)  # everything up to the end of as_of
    users = users[(users["signup_date"] <= as_of) & ~(users["churned_at"] <= as_of)].set_index("user_id")

    def window(df, col, days):
        return df[(df[col] > end - timedelta(days=days)) & (df[col] < end)]

    s7, s30 = window(sessions, "ts", 7), window(sessions, "ts", 30)
    feats = pd.DataFrame(index=users.index)
    feats["plan"] = users["plan"]
    feats["platform"] = users["platform"]
    feats["tenure_days"] = (as_of - users["signup_date"]).dt.days
    feats["sessions_7d"] = s7.groupby("user_id").size()
    feats["sessions_30d"] = s30.groupby("user_id").size()
    feats["minutes_30d"] = s30.groupby("user_id")["minutes"].sum()
    last = sessions[sessions["ts"] < end].groupby("user_id")["ts"].max()
    feats["days_since_last_session"] = (as_of - last.dt.normalize()).dt.days
    feats["days_since_last_session"] = feats["days_since_last_session"].fillna(feats["tenure_days"]).clip(upper=90)

    # smoother than a trailing window; the old dashboard used the same definition
    active = (daily_activity(sessions) > 0).astype(int)
    rolled = active.T.rolling(30, center=True, min_periods=1).sum().T
    feats["active_days_30d"] = rolled[as_of] if as_of in rolled.columns else 0

    feats["tickets_30d"] = window(tickets, "created_at", 30).groupby("user_id").size()
    feats["payment_failures_90d"] = (
        window(payments[payments["status"] == "failed"], "attempted_at", 90).groupby("user_id").size()
    )
    counts = ["sessions_7d", "sessions_30d", "minutes_30d", "active_days_30d", "tickets_30d", "payment_failures_90d"]
    feats[counts] = feats[counts].fillna(0)
    return feats.reset_index()


def to_matrix(feats: pd.DataFrame) -> pd.DataFrame:
    X = feats.drop(columns=["user_id", "as_of", "churned_30d"], errors="ignore")
    return pd.get_dummies(X, columns=CATEGORICAL, dtype=float)


def main(run_date=None) -> None:
    as_of = pd.Timestamp(run_date or pd.Timestamp.now(tz="UTC").date()) - timedelta(days=1)
    feats = build_features(
        read_table("app.users", parse_dates=["signup_date", "churned_at"]),
        read_table("app.sessions", parse_dates=["ts"]),
        read_table("support.tickets", parse_dates=["created_at"]),
        read_table("billing.payments", parse_dates=["attempted_at"]),
        as_of,
    )
    model = joblib.load(MODEL_PATH)
    X = to_matrix(feats).reindex(columns=model.feature_names_in_, fill_value=0)
    out = feats[["user_id"]].assign(as_of=as_of.date(), churn_score=model.predict_proba(X)[:, 1])
    write_table("crm.churn_scores", out, mode="overwrite")


if __name__ == "__main__":
    main()
'''

FEATURE_DEFINITIONS = [
    ("plan", "app.users", "-", "Subscription plan: free, basic or pro."),
    ("platform", "app.users", "-", "Platform of the signup: ios, android or web."),
    ("tenure_days", "app.users", "-", "Days from signup to the snapshot date."),
    ("sessions_7d", "app.sessions", "7 days", "Sessions in the 7 days up to the snapshot."),
    ("sessions_30d", "app.sessions", "30 days", "Sessions in the 30 days up to the snapshot."),
    ("minutes_30d", "app.sessions", "30 days", "Total session minutes in the 30 days up to the snapshot."),
    ("days_since_last_session", "app.sessions", "-", "Days since the last session (tenure if none), capped at 90."),
    ("active_days_30d", "app.sessions", "30 days", "Days with at least one session in a 30-day rolling window."),
    ("tickets_30d", "support.tickets", "30 days", "Support tickets opened in the last 30 days."),
    ("payment_failures_90d", "billing.payments", "90 days", "Failed payment attempts in the last 90 days."),
    ("churned_30d", "app.users", "30 days after", "Label: the account closed or lapsed within 30 days."),
]


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def generate(pack_dir: Path = PACK_DIR) -> None:
    rng = random.Random(SEED)
    data, hidden = pack_dir / "data", pack_dir / "hidden"
    data.mkdir(parents=True, exist_ok=True)
    hidden.mkdir(parents=True, exist_ok=True)

    def signup_date() -> date:
        # a growing product: more recent signups
        span = (date(2025, 11, 20) - date(2024, 9, 1)).days
        return date(2024, 9, 1) + timedelta(days=int(span * rng.random() ** 0.7))

    train_users = [User(rng, f"u{i:05d}", signup_date()) for i in range(N_TRAIN_USERS)]

    rows = []
    for as_of in SNAPSHOTS:
        for u in train_users:
            if not u.alive_at(as_of):
                continue
            f = u.features(_end_of(as_of))
            label = u.churned_within(_end_of(as_of), 30)
            f["active_days_30d"] = u.leaky_active_days(as_of)
            rows.append([u.uid, as_of.isoformat()] + [f[c] for c in TRAIN_COLUMNS[2:-1]] + [label])
    (data / "training.csv").write_text(_csv(TRAIN_COLUMNS, rows))
    (data / "batch_pipeline.py").write_text(BATCH_PIPELINE)
    (data / "feature_definitions.csv").write_text(
        _csv(["feature", "source", "window", "definition"], [list(r) for r in FEATURE_DEFINITIONS])
    )

    # mocked sample requests: users alive on 2025-10-01, afternoon
    mock_pool = [u for u in train_users if u.alive_at(date(2025, 10, 1)) and u.signup < date(2025, 9, 1)]
    samples = []
    for u in rng.sample(mock_pool, 20):
        ts = datetime(2025, 10, 1, rng.randint(9, 21), rng.randint(0, 59), rng.randint(0, 59))
        samples.append(_request(u, ts, mocked=True))
    (data / "sample_requests.json").write_text(json.dumps(samples, indent=1) + "\n")

    sample_users = rng.sample([u for u in train_users if u.alive_at(date(2025, 8, 1))], 40)
    srows = []
    for u in sorted(sample_users, key=lambda u: u.uid):
        for ts, minutes in u.sessions:
            if date(2025, 7, 1) <= ts.date() <= date(2025, 9, 30):
                srows.append([u.uid, ts.isoformat(sep=" ", timespec="minutes"), minutes])
    (data / "sessions_sample.csv").write_text(_csv(["user_id", "ts", "minutes"], srows))

    # hidden: unseen users in November; a few signed up the same day
    out = []
    lo, hi = HIDDEN_DAYS
    span = (hi - lo).days
    while len(out) < N_HIDDEN_USERS:
        u = User(rng, f"h{len(out):05d}", signup_date())
        day = lo + timedelta(days=rng.randint(0, span))
        if not u.alive_at(day) or u.signup >= day:
            continue
        ts = datetime(day.year, day.month, day.day, rng.randint(8, 22), rng.randint(0, 59), rng.randint(0, 59))
        out.append((u, ts, False))
    cold = 0
    while cold < N_COLD:
        day = lo + timedelta(days=rng.randint(0, span))
        u = User(rng, f"n{cold:05d}", day)
        ts = datetime(day.year, day.month, day.day, rng.randint(12, 23), rng.randint(0, 59), rng.randint(0, 59))
        if u.churn is not None and u.churn <= day:
            continue
        out.append((u, ts, True))
        cold += 1
    rng.shuffle(out)
    records = []
    for u, ts, is_cold in out:
        f = u.features(ts)
        records.append(
            {
                "request": _request(u, ts, mocked=False),
                "cold_start": is_cold,
                "churned_30d": u.churned_within(ts, 30),
                "batch_features": f,
            }
        )
    (hidden / "requests.json").write_text(json.dumps(records, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
