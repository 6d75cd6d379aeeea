# %% [markdown]
# # Fraud-model drift monitor
#
# `detect_drift(daily, reference)` gets the nightly per-category statistics and the training
# reference, and returns alerts: dicts with `date`, `feature`, `segment`, `reason`.

# %%
import json

import pandas as pd

daily = pd.read_csv("/data/daily_stats.csv", parse_dates=["date"])
with open("/data/reference.json") as fh:
    reference = json.load(fh)
sample = pd.read_csv("/data/transactions_sample.csv", parse_dates=["ts"])
daily.head()

# %%
reference["features"]["amount"]


# %%
def detect_drift(daily: pd.DataFrame, reference: dict) -> list[dict]:
    """One dict per alert: {"date", "feature", "segment", "reason"}."""
    alerts: list[dict] = []
    # TODO
    return alerts


# %%
alerts = detect_drift(daily, reference)
pd.DataFrame(alerts)
