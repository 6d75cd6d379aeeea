# %%
# Clean the moderation labels: one trustworthy label per post before we train a classifier.
import pandas as pd

LABELS = ["ok", "spam", "harassment", "hate", "violence"]

items = pd.read_csv("/data/items.csv")
labels = pd.read_csv("/data/labels.csv", keep_default_na=False)
gold = pd.read_csv("/data/gold.csv")
print(len(items), "posts,", len(labels), "labels,", len(gold), "gold posts")
labels.head()


# %%
def clean(labels_df: pd.DataFrame) -> pd.DataFrame:
    """One row per item_id with the label we should train on (one of LABELS)."""
    raise NotImplementedError


def pick_relabel(labels_df: pd.DataFrame, relabel_budget: int) -> list:
    """The item_ids to send to the expert reviewers, at most relabel_budget of them."""
    raise NotImplementedError
