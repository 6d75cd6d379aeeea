# %%
import numpy as np
import pandas as pd

tickets = pd.read_csv("/data/tickets.csv", parse_dates=["created_at"])
print(tickets.shape)
tickets.head()


# %%
def predict_escalation(df: pd.DataFrame) -> np.ndarray:
    """One score per ticket in ``df``; higher means more likely to escalate."""
    raise NotImplementedError


# The share of next month's escalations you expect the seniors to catch from your flags (0-1).
EXPECTED_RECALL = None
