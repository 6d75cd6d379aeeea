# Reference solution for ticket-escalation (CI runs the hidden checks against it).
#
# What it does about each constraint:
# - leakage: agent_tier and resolution_hours are filled after triage; never used.
# - near-duplicates: re-sends (same normalised text within 7 days) are dropped before any split,
#   so the recall promised in EXPECTED_RECALL is not inflated by copies on both sides.
# - pii: emails, phone numbers, invoice numbers and amounts are masked before vectorising.
# - temporal-drift: validated on the latest months (train < Oct, test Oct-Nov), then refit on all.
# - review-budget / class-imbalance: judged by recall in the top 10%; balanced class weights.
# - scoring-latency: TF-IDF + logistic regression, a few ms per ticket on one core.

# %%
import re
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

tickets = pd.read_csv("/data/tickets.csv", parse_dates=["created_at"])
LEAKY = ["agent_tier", "resolution_hours"]  # known only after triage / resolution
TEXT, CATEGORICAL = "text", ["channel", "plan", "product_area"]
LAUNCH = pd.Timestamp("2025-10-01")

print(f"{len(tickets)} tickets, {tickets.escalated.mean():.1%} escalated")
print(tickets.groupby(tickets.created_at >= LAUNCH).escalated.mean().rename({False: "pre-launch", True: "post"}))

# %%
_PII = [
    (re.compile(r"\S+@\S+\.\w+"), " _email_ "),
    (re.compile(r"\+?\d[\d\- ]{7,}\d"), " _phone_ "),
    (re.compile(r"\bINV-\d+\b", re.I), " _invoice_ "),
    (re.compile(r"\$[\d,]+(\.\d+)?"), " _amount_ "),
    (re.compile(r"\b\d+\b"), " _num_ "),
]


def clean_text(text: str) -> str:
    """Lower-cased text with PII and numbers masked."""
    text = str(text).lower()
    for pattern, token in _PII:
        text = pattern.sub(token, text)
    return text


def resend_key(text: str) -> str:
    """Text normalised so a re-sent ticket maps to its original."""
    t = clean_text(text)
    t = re.sub(r"^(resending as i haven't heard back\.|hi again,)\s*", "", t)
    t = re.sub(r"\s*(any update\?|please get back to me\.)$", "", t)
    return re.sub(r"[^a-z_]+", " ", t).strip()


def drop_resends(df: pd.DataFrame, days: int = 7) -> pd.DataFrame:
    df = df.sort_values("created_at").assign(_key=df[TEXT].map(resend_key))
    gap = df.groupby("_key").created_at.diff()
    return df[~(gap < pd.Timedelta(days=days))].drop(columns="_key")


def make_model() -> object:
    features = ColumnTransformer(
        [
            ("text", TfidfVectorizer(preprocessor=clean_text, ngram_range=(1, 2), min_df=2, sublinear_tf=True), TEXT),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return make_pipeline(features, LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))


def recall_at(y, scores, budget: float = 0.10) -> float:
    """Share of escalations in the top ``budget`` of scores."""
    k = max(1, round(budget * len(scores)))
    top = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return float(np.asarray(y)[top].sum() / max(1, np.sum(y)))


data = drop_resends(tickets.drop(columns=LEAKY))
print(f"dropped {len(tickets) - len(data)} re-sent tickets")

# %%
# Time-based validation: the launch changed the mix, so a random split would flatter the model.
train, valid = data[data.created_at < LAUNCH], data[data.created_at >= LAUNCH]
model = make_model().fit(train[[TEXT, *CATEGORICAL]], train.escalated)
print(f"recall@10% on Oct-Nov (trained on Jan-Sep): {recall_at(valid.escalated, model.predict_proba(valid)[:, 1]):.2f}")

# What to promise the support lead: the shipped model will have seen the launch and scores the month
# after its data ends, so train through October and score November (re-sends already dropped). The
# Jan-Sep model above is honest but pessimistic: it never saw a payouts ticket.
train, valid = data[data.created_at < "2025-11-01"], data[data.created_at >= "2025-11-01"]
model = make_model().fit(train[[TEXT, *CATEGORICAL]], train.escalated)
EXPECTED_RECALL = recall_at(valid.escalated, model.predict_proba(valid)[:, 1])
print(f"recall@10% on November (trained through October): {EXPECTED_RECALL:.2f}")

# %%
# Ship: refit on everything we have, including the post-launch months.
MODEL = make_model().fit(data[[TEXT, *CATEGORICAL]], data.escalated)


def predict_escalation(df: pd.DataFrame) -> np.ndarray:
    """One score per ticket; higher means more likely to escalate. Uses creation-time fields only."""
    x = pd.DataFrame(index=df.index)
    x[TEXT] = df[TEXT].fillna("").astype(str) if TEXT in df else ""
    for col in CATEGORICAL:
        x[col] = df[col].fillna("unknown").astype(str) if col in df else "unknown"
    return MODEL.predict_proba(x)[:, 1]


one = tickets.drop(columns=[*LEAKY, "escalated"]).iloc[[0]]
start = time.perf_counter()
for _ in range(30):
    predict_escalation(one)
print(f"{(time.perf_counter() - start) / 30 * 1000:.1f} ms per ticket")
