"""Nightly churn scoring. Runs at 02:00 UTC on the warehouse box (cron: churn-nightly).

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
