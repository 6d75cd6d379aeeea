# %% [markdown]
# # Real-time churn scoring
#
# `score_request(request)` returns the churn probability for one API request.

# %%
import json

import pandas as pd

train = pd.read_csv("/data/training.csv")
features = pd.read_csv("/data/feature_definitions.csv")
with open("/data/sample_requests.json") as fh:
    sample_requests = json.load(fh)
train.head()

# %%
with open("/data/batch_pipeline.py") as fh:
    print(fh.read())

# %%
sample_requests[0]


# %%
def score_request(request: dict) -> float:
    """Churn probability (0-1) for one request."""
    # TODO
    return 0.0


# %%
[score_request(r) for r in sample_requests[:5]]
